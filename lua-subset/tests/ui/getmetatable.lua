-- expect: 2:29 metatables are not supported (`getmetatable`)
return function(pkt) return getmetatable(pkt) end
