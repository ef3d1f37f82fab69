-- expect: 3:31 string concatenation `..` is not supported
local A <const> = 1
return function(pkt) return A .. A end
