-- expect: 4:3 cannot assign to constant `limit`
local limit = 10
return function(pkt)
  limit = pkt.len
  return 0
end
