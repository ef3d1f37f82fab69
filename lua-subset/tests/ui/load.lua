-- expect: 2:32 library function `load` is not available in filters
return function(pkt) local f = load("return 1") return 0 end
