# expect: accept
# kernel: accept
# why: direct value access into an array map
.map arr array key=4 value=16 entries=1
    lddw %r1, map_value:arr+8
    ldxdw %r0, [%r1+0]
    exit
