# expect: accept
# kernel: accept
# why: the range reaches a spilled copy
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    mov %r4, %r2
    add %r4, 20
    stxdw [%r10-8], %r2
    jgt %r4, %r3, out
    ldxdw %r5, [%r10-8]
    ldxw %r0, [%r5+16]
    exit
out:
    mov %r0, 1
    exit
