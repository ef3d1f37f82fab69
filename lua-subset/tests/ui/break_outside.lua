-- expect: 3:3 `break` outside a loop
return function(pkt)
  break
end
