-- expect: 2:31 exponentiation `^` is not supported (it yields floats)
return function(pkt) return 2 ^ 3 end
