# expect: reject
# kernel: reject
# rule: mem-access
# why: as r07, but the frame pointer itself is spilled and reloaded before the read: any slot may be read through it, so all stay live
    mov %r9, %r1
    call 7
    ldxw %r2, [%r9+0]
    ldxw %r3, [%r9+4]
    mov %r4, %r2
    add %r4, 16
    jgt %r4, %r3, out
    stxdw [%r10-16], %r10
    stdw [%r10-8], 15
    jgt %r0, 100, far
    ja join
far:
    stdw [%r10-8], 16
join:
    ldxdw %r6, [%r10-16]
    ldxdw %r7, [%r6-8]
    add %r2, %r7
    ldxb %r0, [%r2+0]
    exit
out:
    mov %r0, 1
    exit
