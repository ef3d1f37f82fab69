# expect: accept
# kernel: accept
# why: compare-and-exchange on the stack
    stdw [%r10-8], 3
    mov %r0, 3
    mov %r1, 4
    lock cmpxchg [%r10-8], %r1
    ldxdw %r0, [%r10-8]
    exit
