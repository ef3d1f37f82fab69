-- expect: 3:18 the step of a `for` loop must be an integer constant
return function(pkt)
  for i = 1, 10, pkt.len do end
  return 0
end
