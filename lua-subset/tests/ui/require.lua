-- expect: 2:13 library function `require` is not available in filters
local bit = require("bit")
return function(pkt) return 0 end
