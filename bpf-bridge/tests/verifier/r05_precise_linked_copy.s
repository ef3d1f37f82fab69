# expect: reject
# kernel: reject
# rule: mem-access
# why: the offset is bounded through a copy linked by id; the bound on the copy comes from the comparison, so a second path with a weaker comparison must not be pruned at the join
    mov %r9, %r1
    call 7
    ldxw %r2, [%r9+0]
    ldxw %r3, [%r9+4]
    mov %r4, %r2
    add %r4, 16
    jgt %r4, %r3, out
    mov %r6, %r0
    mov %r7, %r6
    mov %r8, %r0
    rsh %r8, 7
    jgt %r8, 100, wide
    jgt %r6, 15, out
    ja join
wide:
    jgt %r6, 16, out
join:
    mov %r5, %r2
    add %r5, %r7
    ldxb %r0, [%r5+0]
    exit
out:
    mov %r0, 1
    exit
