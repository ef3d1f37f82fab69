# expect: reject
# kernel: reject
# rule: mem-access
# why: half a spilled pointer read back (kernel: invalid size of register fill)
    stxdw [%r10-8], %r1
    ldxw %r0, [%r10-8]
    exit
