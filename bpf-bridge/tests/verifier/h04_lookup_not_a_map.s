# expect: reject
# kernel: reject
# rule: helper-arg
# why: r1 is a number
    stw [%r10-4], 1
    mov %r1, 0
    mov %r2, %r10
    add %r2, -4
    call 1
    mov %r0, 0
    exit
