-- expect: 4:3 constant tables are read-only
local PORTS = { 22, 80 }
return function(pkt)
  PORTS[1] = 23
  return 0
end
