# expect: accept
# kernel: accept
# why: division by a register that may be zero is defined
    call 7
    mov %r1, %r0
    call 7
    div %r0, %r1
    mod %r0, %r1
    exit
