-- expect: 3:3 the packet cannot be mixed with other values here
return function(pkt)
  local p = pkt
  p = 1
  return 0
end
