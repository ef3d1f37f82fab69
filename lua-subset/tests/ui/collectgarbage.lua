-- expect: 2:22 library function `collectgarbage` is not available in filters
return function(pkt) collectgarbage() return 0 end
