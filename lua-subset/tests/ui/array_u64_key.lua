-- expect: 2:29 array maps are indexed by u32
local m = map.array { key = "u64", value = "u64", entries = 8 }
return function(pkt) return 0 end
