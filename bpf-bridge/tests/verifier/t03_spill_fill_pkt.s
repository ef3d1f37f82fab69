# expect: accept
# kernel: accept
# why: packet pointers keep their type through the stack
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    stxdw [%r10-8], %r2
    stxdw [%r10-16], %r3
    mov %r2, 0
    mov %r3, 0
    ldxdw %r4, [%r10-8]
    ldxdw %r5, [%r10-16]
    mov %r6, %r4
    add %r6, 2
    jgt %r6, %r5, out
    ldxh %r0, [%r4+0]
    exit
out:
    mov %r0, 1
    exit
