-- expect: 3:3 library function `io` is not available in filters
return function(pkt)
  io.write("hi")
  return 2
end
