-- IPv4/IPv6 dispatch with a variable IPv4 header length: drop UDP packets
-- to port 53 that come from a source port below 1024, and ICMP echo requests
-- larger than 1000 bytes; pass the rest.
local XDP_DROP <const> = 1
local XDP_PASS <const> = 2
local UDP <const> = 17

local function l4_offset(pkt)
  local ethertype = pkt:u16(12)
  if ethertype == 0x0800 then
    local ihl = pkt:u8(14) & 0x0f
    if ihl < 5 then
      return nil
    end
    return 14 + ihl * 4
  elseif ethertype == 0x86DD then
    return 54
  end
  return nil
end

local function proto_of(pkt)
  local ethertype = pkt:u16(12)
  if ethertype == 0x0800 then
    return pkt:u8(23)
  elseif ethertype == 0x86DD then
    return pkt:u8(20)
  end
  return 0
end

return function(pkt)
  local off = l4_offset(pkt)
  if not off then
    return XDP_PASS
  end
  local proto = proto_of(pkt)
  if proto == UDP then
    local sport = pkt:u16(off)
    local dport = pkt:u16(off + 2)
    if dport == 53 and sport < 1024 then
      return XDP_DROP
    end
  elseif (proto == 1 or proto == 58) and pkt.len > 1000 then
    local t = pkt:u8(off)
    if t == 8 or t == 128 then
      return XDP_DROP
    end
  end
  return XDP_PASS
end
