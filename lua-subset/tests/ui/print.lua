-- expect: 3:3 library function `print` is not available in filters
return function(pkt)
  print(pkt.len)
  return 2
end
