# expect: reject
# kernel: reject
# rule: mem-access
# why: the context is read-only
    stw [%r1+12], 0
    mov %r0, 0
    exit
