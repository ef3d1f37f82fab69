-- expect: 2:11 a map needs `entries = N`
local m = map.hash { key = "u32", value = "u64" }
return function(pkt) return 0 end
