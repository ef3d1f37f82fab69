-- expect: 2:22 library function `debug` is not available in filters
return function(pkt) debug.traceback() return 0 end
