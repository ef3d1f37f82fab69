.map counts hash key=4 value=8 entries=16
.map arr array key=4 value=16 entries=4
.map pc percpu_hash key=8 value=8 entries=2
.map pa percpu_array key=4 value=4 entries=1
lddw %r1, map:arr
lddw %r2, map_value:arr+8
lddw %r3, map:0
lddw %r4, map:pc
lddw %r5, map_value:pa
lddw %r0, 0x1122334455667788
call 1
exit
