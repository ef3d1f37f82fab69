-- expect: 4:17 a map is not a value
local m = map.array { value = "u64", entries = 8 }
return function(pkt)
  local alias = m
  return 0
end
