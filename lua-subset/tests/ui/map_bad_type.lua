-- expect: 2:28 map key type must be "u32" or "u64"
local m = map.hash { key = "u16", value = "u64", entries = 8 }
return function(pkt) return 0 end
