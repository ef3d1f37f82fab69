-- expect: 3:3 `goto` is not supported
return function(pkt)
  goto done
  ::done::
  return 0
end
