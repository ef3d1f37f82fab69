# expect: accept
# kernel: accept
# why: division by a register that may be zero is defined
    call 7
    mov %r6, %r0
    call 7
    div %r0, %r6
    mod %r0, %r6
    exit
