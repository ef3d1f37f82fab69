# expect: accept
# kernel: accept
# why: atomics on initialised stack
    stdw [%r10-8], 1
    mov %r1, 2
    lock add [%r10-8], %r1
    lock fetch add [%r10-8], %r1
    ldxdw %r0, [%r10-8]
    exit
