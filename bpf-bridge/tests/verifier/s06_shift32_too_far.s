# expect: reject
# kernel: reject
# rule: shift-range
# why: 32-bit shift by 32
    mov32 %r0, 1
    rsh32 %r0, 32
    exit
