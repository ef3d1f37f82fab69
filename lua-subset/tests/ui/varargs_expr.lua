-- expect: 2:32 varargs (`...`) are not supported
return function(pkt) local a = ... return 0 end
