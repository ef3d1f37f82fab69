# expect: reject
# kernel: reject
# rule: shift-range
# why: shift immediate not below 64
    mov %r0, 1
    lsh %r0, 64
    exit
