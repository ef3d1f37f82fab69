# expect: reject
# kernel: reject
# rule: unknown-helper
# why: no helper 1000
    call 1000
    mov %r0, 0
    exit
