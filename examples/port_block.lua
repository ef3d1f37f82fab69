-- Drop TCP and UDP packets to blocked destination ports (a constant table);
-- count drops per port in a hash map.
local ETH_P_IP <const> = 0x0800
local XDP_DROP <const> = 1
local XDP_PASS <const> = 2

local BLOCKED = { [23] = true, [135] = true, [137] = true, [138] = true, [139] = true, [445] = true, [3389] = true }

local drops = map.hash { key = "u32", value = "u64", entries = 64 }

return function(pkt)
  if pkt:u16(12) ~= ETH_P_IP then
    return XDP_PASS
  end
  local proto = pkt:u8(23)
  if proto ~= 6 and proto ~= 17 then
    return XDP_PASS
  end
  local l4 = 14 + (pkt:u8(14) & 0x0f) * 4
  local dport = pkt:u16(l4 + 2)
  if BLOCKED[dport] then
    drops[dport] = (drops[dport] or 0) + 1
    return XDP_DROP
  end
  return XDP_PASS
end
