# expect: reject
# kernel: reject
# rule: mem-access
# why: the offset goes through a stack slot before the join; backtracking from the packet access marks the slot precise, so the out-of-bounds path is not pruned
    mov %r9, %r1
    call 7
    ldxw %r2, [%r9+0]
    ldxw %r3, [%r9+4]
    mov %r4, %r2
    add %r4, 16
    jgt %r4, %r3, out
    mov %r7, 8
    jgt %r0, 100, far
    ja join
far:
    mov %r7, 40
join:
    stxdw [%r10-8], %r7
    mov %r7, 0
    ldxdw %r6, [%r10-8]
    mov %r5, %r2
    add %r5, %r6
    ldxb %r0, [%r5+0]
    exit
out:
    mov %r0, 1
    exit
