-- expect: 2:29 float values are not supported (`1e3`)
return function(pkt) return 1e3 end
