-- expect: 2:29 `math.max` needs at least one argument
return function(pkt) return math.max() end
