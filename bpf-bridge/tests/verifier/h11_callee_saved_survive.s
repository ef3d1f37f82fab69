# expect: accept
# kernel: accept
# why: r6-r9 survive helper calls
    mov %r6, 3
    call 7
    mov %r0, %r6
    exit
