-- expect: 2:29 `math.floor` is not supported
return function(pkt) return math.floor(pkt.len) end
