-- Verify the IPv4 header checksum (a bounded loop over the header words);
-- drop IPv4 packets whose checksum is wrong, count them per source.
local XDP_DROP <const> = 1
local XDP_PASS <const> = 2

local bad = map.hash { key = "u32", value = "u64", entries = 128 }

return function(pkt)
  if pkt.len < 34 or pkt:u16(12) ~= 0x0800 then
    return XDP_PASS
  end
  local words = (pkt:u8(14) & 0x0f) * 2
  local sum = 0
  for i = 0, words - 1 do
    sum = sum + pkt:u16(14 + i * 2)
  end
  while sum > 0xffff do
    sum = (sum & 0xffff) + (sum >> 16)
  end
  if sum ~= 0xffff then
    local src = pkt:u32(26)
    bad[src] = (bad[src] or 0) + 1
    return XDP_DROP
  end
  return XDP_PASS
end
