-- expect: 3:13 maps are declared only at top level: `local NAME = map.hash{...}`
return function(pkt)
  local m = map.hash { key = "u32", value = "u64", entries = 8 }
  return 0
end
