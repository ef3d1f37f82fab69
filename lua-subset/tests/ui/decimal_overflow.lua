-- expect: 2:29 float values are not supported (`9223372036854775808`)
return function(pkt) return 9223372036854775808 end
