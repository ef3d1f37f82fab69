-- expect: 3:30 method calls are only supported on the packet
local m = map.hash { key = "u32", value = "u64", entries = 8 }
return function(pkt) return m:u8(0) end
