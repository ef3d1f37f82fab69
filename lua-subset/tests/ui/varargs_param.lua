-- expect: 2:18 varargs (`...`) are not supported
local function f(...) return 1 end
return function(pkt) return f() end
