-- expect: 2:22 library function `dofile` is not available in filters
return function(pkt) dofile("x.lua") return 0 end
