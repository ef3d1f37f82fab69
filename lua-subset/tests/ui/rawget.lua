-- expect: 2:29 metatables are not supported (`rawget`)
return function(pkt) return rawget(pkt, 1) end
