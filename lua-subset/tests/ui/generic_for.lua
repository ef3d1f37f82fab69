-- expect: 4:3 generic `for` (pairs, ipairs, iterators) is not supported
local T = { 1, 2 }
return function(pkt)
  for k, v in pairs(T) do end
  return 0
end
