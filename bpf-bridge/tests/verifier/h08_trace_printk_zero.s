# expect: reject
# kernel: reject
# rule: helper-arg
# why: zero-sized format
    stw [%r10-4], 0x000a6968
    mov %r1, %r10
    add %r1, -4
    mov %r2, 0
    call 6
    mov %r0, 2
    exit
