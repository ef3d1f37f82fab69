-- expect: 3:13 anonymous functions (closures) are not supported
return function(pkt)
  local f = function() return 1 end
  return 0
end
