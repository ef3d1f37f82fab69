-- Count IPv4 TCP SYNs per source address; pass everything.
local ETH_P_IP <const> = 0x0800
local IPPROTO_TCP <const> = 6
local XDP_PASS <const> = 2

local syns = map.hash { key = "u32", value = "u64", entries = 1024 }

local function ihl_bytes(pkt)
  return (pkt:u8(14) & 0x0f) * 4
end

return function(pkt)
  if pkt:u16(12) ~= ETH_P_IP or pkt:u8(23) ~= IPPROTO_TCP then
    return XDP_PASS
  end
  local tcp = 14 + ihl_bytes(pkt)
  local flags = pkt:u8(tcp + 13)
  -- SYN set, ACK clear
  if flags & 0x12 == 0x02 then
    local src = pkt:u32(26)
    syns[src] = (syns[src] or 0) + 1
  end
  return XDP_PASS
end
