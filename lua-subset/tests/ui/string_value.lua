-- expect: 3:16 string values are not supported
return function(pkt)
  local name = "eth0"
  return 2
end
