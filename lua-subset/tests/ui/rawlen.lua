-- expect: 2:29 metatables are not supported (`rawlen`)
return function(pkt) return rawlen(pkt) end
