-- expect: 3:13 tables built at run time are not supported
return function(pkt)
  local t = { pkt.len }
  return 2
end
