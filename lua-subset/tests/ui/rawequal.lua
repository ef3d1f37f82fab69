-- expect: 2:25 metatables are not supported (`rawequal`)
return function(pkt) if rawequal(pkt, pkt) then return 1 end return 0 end
