-- expect: 2:32 metatables are not supported (`setmetatable`)
return function(pkt) local t = setmetatable(nil, nil) return 0 end
