-- expect: 3:3 labels are not supported
return function(pkt)
  ::top::
  return 0
end
