-- expect: 3:18 float division `/` is not supported
return function(pkt)
  return pkt.len / 2
end
