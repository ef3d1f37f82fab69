# expect: reject
# kernel: reject
# rule: mem-access
# why: offset 16 of a 16-byte value
.map arr array key=4 value=16 entries=1
    lddw %r1, map_value:arr+8
    ldxdw %r0, [%r1+8]
    exit
