-- expect: 3:3 syntax error: expected `end` to close function body block
return function(pkt)
  if pkt.len then
  return 0
end
