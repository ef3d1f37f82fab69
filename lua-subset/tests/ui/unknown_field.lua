-- expect: 2:29 unknown field `size`
return function(pkt) return pkt.size end
