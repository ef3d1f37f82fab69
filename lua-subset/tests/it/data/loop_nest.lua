local C0 = 23
return function(pkt)
  local v1 = pkt.len
  local v2 = pkt.len
  local v11 = pkt.len
  local v18 = 23
  local v19 = 0
  repeat
    v19 = v19 + 1
    for v20 = pkt.len % 9, 5, -2 do
      if v20 < (pkt.len << (pkt.len >= pkt.len and v2 or v18)) then
        v18 = (v18 >= (12 ~ pkt:u8(15)) and 0 or (v20 >> pkt:u8(13)))
      end
    end
    for v23 = (C0 - pkt.len) % 7, 4 do
      for v24 = 2, 9 do
        v2 = (pkt.len > math.mininteger and (pkt:u8(v2 % 80) - pkt:u16(20)) or C0)
        v11 = math.min((pkt.len > C0 and pkt.len or pkt.len), 244, (23 * pkt.len))
      end
      local v25 = ((pkt.len // v11) & pkt:u16(0)) << (not (pkt.len < v1) and (pkt:u16(23) | pkt.len) or (14 > v2 and v18 or pkt:u16(pkt:u16(24) % 80)))
    end
  until v19 >= 3
  return v2 + v18
end
