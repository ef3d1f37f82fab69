# expect: accept
# kernel: accept
# why: a chain of branches; pruning keeps it small
    call 7
    mov %r6, %r0
    mov %r7, 0
    jset %r6, 1, +1
    add %r7, 1
    jset %r6, 2, +1
    add %r7, 2
    jset %r6, 4, +1
    add %r7, 4
    jset %r6, 8, +1
    add %r7, 8
    jset %r6, 16, +1
    add %r7, 16
    jset %r6, 32, +1
    add %r7, 32
    mov %r0, %r7
    exit
