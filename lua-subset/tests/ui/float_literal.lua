-- expect: 3:13 float values are not supported (`1.5`)
return function(pkt)
  local x = 1.5
  return 2
end
