-- expect: 2:33 unknown method `u64`
return function(pkt) return pkt:u64(0) end
