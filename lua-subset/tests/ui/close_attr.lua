-- expect: 3:9 `<close>` variables are not supported
return function(pkt)
  local x <close> = nil
  return 0
end
