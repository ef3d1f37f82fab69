-- expect: 2:30 string methods and values are not supported
return function(pkt) return ("x"):rep(3) end
