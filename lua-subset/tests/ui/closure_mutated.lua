-- expect: 4:32 this function captures `count`, which is assigned after its declaration
return function(pkt)
  local count = 0
  local function bump() return count + 1 end
  count = 5
  return bump()
end
