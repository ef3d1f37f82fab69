-- expect: 2:32 a function returns at most one value
return function(pkt) return 1, 2 end
