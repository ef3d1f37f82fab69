# expect: accept
# kernel: accept
# why: a spill links the slot to the register; a bound learnt on one fill holds for the next
    mov %r6, %r1
    call 5
    stxdw [%r10-8], %r0
    ldxw %r2, [%r6+0]
    ldxw %r3, [%r6+4]
    ldxdw %r5, [%r10-8]
    jgt %r5, 64, out
    ldxdw %r4, [%r10-8]
    add %r2, %r4
    mov %r4, %r2
    add %r4, 1
    jgt %r4, %r3, out
    ldxb %r0, [%r2+0]
    exit
out:
    mov %r0, 1
    exit
