# expect: reject
# kernel: reject
# rule: mem-access
# why: the offset is spilled and read back through a copy of the frame pointer; the slot is live at the join (and precise once the offset is used), so the path spilling 16 is walked, not pruned
    mov %r9, %r1
    call 7
    ldxw %r2, [%r9+0]
    ldxw %r3, [%r9+4]
    mov %r4, %r2
    add %r4, 16
    jgt %r4, %r3, out
    stdw [%r10-8], 15
    jgt %r0, 100, far
    ja join
far:
    stdw [%r10-8], 16
join:
    mov %r6, %r10
    add %r6, -8
    ldxdw %r7, [%r6+0]
    add %r2, %r7
    ldxb %r0, [%r2+0]
    exit
out:
    mov %r0, 1
    exit
