-- expect: 3:18 the step of a `for` loop is zero
return function(pkt)
  for i = 1, 10, 0 do end
  return 0
end
