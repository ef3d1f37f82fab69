# expect: reject
# kernel: accept
# rule: mem-access
# why: differs: reading back half a spilled pointer
    stxdw [%r10-8], %r1
    ldxw %r0, [%r10-8]
    exit
