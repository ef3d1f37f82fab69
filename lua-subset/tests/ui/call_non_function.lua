-- expect: 4:10 only local functions can be called
return function(pkt)
  local f = 1
  return f()
end
