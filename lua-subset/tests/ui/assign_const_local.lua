-- expect: 4:3 cannot assign to const variable `x`
return function(pkt)
  local x <const> = pkt.len
  x = 1
  return x
end
