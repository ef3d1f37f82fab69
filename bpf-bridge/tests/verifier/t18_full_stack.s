# expect: accept
# kernel: accept
# why: the whole 512-byte frame
    stdw [%r10-512], 1
    stdw [%r10-8], 2
    ldxdw %r0, [%r10-512]
    ldxdw %r1, [%r10-8]
    add %r0, %r1
    exit
