# expect: reject
# kernel: reject
# rule: structure
# why: execution runs past the last instruction
    mov %r0, 0
