-- expect: 2:22 metatables are not supported (`rawset`)
return function(pkt) rawset(pkt, 1, 2) return 0 end
