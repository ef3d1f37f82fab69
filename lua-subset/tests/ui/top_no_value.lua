-- expect: 2:7 top-level local `state` has no value
local state
return function(pkt) return 0 end
