-- expect: 3:32 the chunk must return the per-packet function
local A <const> = 1
local function f() return A end
