-- expect: 2:33 library function `coroutine` is not available in filters
return function(pkt) local co = coroutine.create(nil) return 0 end
