-- expect: 3:20 unknown global `undefined_thing`
return function(pkt)
  return pkt.len + undefined_thing
end
