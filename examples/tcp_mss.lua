-- Walk the TCP options of IPv4 SYNs; drop SYNs that advertise an MSS below
-- 536 and count the MSS values seen (a loop with a budget).
local XDP_DROP <const> = 1
local XDP_PASS <const> = 2

local mss_seen = map.hash { key = "u32", value = "u32", entries = 256 }

return function(pkt)
  if pkt:u16(12) ~= 0x0800 or pkt:u8(23) ~= 6 then
    return XDP_PASS
  end
  local tcp = 14 + (pkt:u8(14) & 0x0f) * 4
  if pkt:u8(tcp + 13) & 0x02 == 0 then
    return XDP_PASS
  end
  local doff = (pkt:u8(tcp + 12) >> 4) * 4
  local i = tcp + 20
  local stop = math.min(tcp + doff, pkt.len)
  while i < stop do
    local kind = pkt:u8(i)
    if kind == 0 then
      break
    elseif kind == 1 then
      i = i + 1
    else
      local len = pkt:u8(i + 1)
      if len < 2 then
        break
      end
      if kind == 2 and len == 4 then
        local mss = pkt:u16(i + 2)
        mss_seen[mss] = (mss_seen[mss] or 0) + 1
        if mss < 536 then
          return XDP_DROP
        end
      end
      i = i + len
    end
  end
  return XDP_PASS
end
