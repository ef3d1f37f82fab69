-- expect: 2:16 a function takes at most 5 parameters
local function f(a, b, c, d, e, g) return a end
return function(pkt) return f(1, 2, 3, 4, 5, 6) end
