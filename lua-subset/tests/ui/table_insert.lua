-- expect: 2:22 library function `table` is not available in filters
return function(pkt) table.insert(t, 1) return 0 end
