# expect: accept
# kernel: accept
# why: index (0 or 8) bounded by and/lsh inside a 16-byte value
.map arr array key=4 value=16 entries=4
    stw [%r10-4], 0
    lddw %r1, map:arr
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, out
    mov %r6, %r0
    call 7
    and %r0, 1
    lsh %r0, 3
    add %r6, %r0
    ldxdw %r0, [%r6+0]
    exit
out:
    exit
