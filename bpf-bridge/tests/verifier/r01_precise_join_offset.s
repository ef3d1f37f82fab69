# expect: reject
# kernel: reject
# rule: mem-access
# why: the offset differs between the two paths into `join`; the first path marks it precise when it becomes a packet offset, so the second (one byte too far) is walked, not pruned
    mov %r9, %r1
    call 7
    ldxw %r2, [%r9+0]
    ldxw %r3, [%r9+4]
    mov %r4, %r2
    add %r4, 16
    jgt %r4, %r3, out
    mov %r7, 15
    jgt %r0, 100, far
    ja join
far:
    mov %r7, 16
join:
    mov %r5, %r2
    add %r5, %r7
    ldxb %r0, [%r5+0]
    exit
out:
    mov %r0, 1
    exit
