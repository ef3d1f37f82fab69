# expect: reject
# kernel: reject
# rule: mem-access
# why: stack accesses are strictly aligned
    stw [%r10-6], 1
    mov %r0, 0
    exit
