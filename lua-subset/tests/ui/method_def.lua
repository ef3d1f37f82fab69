-- expect: 3:10 method definitions are not supported
local obj = {}
function obj:check(pkt) return 1 end
return function(pkt) return 0 end
