-- expect: 2:10 global functions are not supported
function helper() return 1 end
return function(pkt) return 0 end
