-- expect: 2:32 tables built at run time are not supported
local T = { pkt_len = 1, [2] = {} }
return function(pkt) return 0 end
