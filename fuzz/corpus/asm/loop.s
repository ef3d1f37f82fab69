    mov %r0, 0
    mov %r1, 10
again:
    add %r0, %r1
    sub %r1, 1
    jne %r1, 0, again
    stxdw [%r10-8], %r0
    mov %r2, %r10
    add %r2, -8
    ldxdw %r0, [%r2]
    exit
