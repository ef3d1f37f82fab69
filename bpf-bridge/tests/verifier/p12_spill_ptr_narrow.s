# expect: reject
# kernel: reject
# rule: pointer-leak
# why: a pointer spilled with a 4-byte store (kernel: invalid size of register spill)
    stxw [%r10-8], %r1
    mov %r0, 0
    exit
