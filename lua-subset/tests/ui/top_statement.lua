-- expect: 2:1 only declarations are allowed at top level
x = 1
return function(pkt) return 0 end
