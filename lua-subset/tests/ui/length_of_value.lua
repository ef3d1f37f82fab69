-- expect: 2:29 the length operator `#` applies only to constant tables
return function(pkt) return #pkt end
