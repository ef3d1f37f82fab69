-- expect: 4:14 recursion is not supported (`fact` calls itself)
local function fact(n)
  if n <= 1 then return 1 end
  return n * fact(n - 1)
end
return function(pkt) return fact(3) end
