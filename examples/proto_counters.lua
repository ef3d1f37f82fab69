-- Per-protocol packet and byte counters in array maps, indexed by the IP
-- protocol number (IPv4) or next header (IPv6); ARP and others in slot 255.
local ETH_P_IP <const> = 0x0800
local ETH_P_IPV6 <const> = 0x86DD
local OTHER <const> = 255

local packets = map.array { value = "u64", entries = 256 }
local bytes = map.array { value = "u64", entries = 256 }

local function count(slot, len)
  packets[slot] = packets[slot] + 1
  bytes[slot] = bytes[slot] + len
end

return function(pkt)
  local len = pkt.len
  if len < 14 then
    count(OTHER, len)
    return 2
  end
  local ethertype = pkt:u16(12)
  local proto = OTHER
  if ethertype == ETH_P_IP and len >= 34 then
    proto = pkt:u8(23)
  elseif ethertype == ETH_P_IPV6 and len >= 54 then
    proto = pkt:u8(20)
  end
  count(proto, len)
  return 2
end
