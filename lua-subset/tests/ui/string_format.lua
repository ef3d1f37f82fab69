-- expect: 3:13 library function `string` is not available in filters
return function(pkt)
  local s = string.format("%d", pkt.len)
  return 2
end
