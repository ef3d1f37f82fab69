# expect: accept
# kernel: accept
# why: signed division (cpu v4)
    call 7
    mov %r1, %r0
    sdiv %r0, 3
    smod %r1, -5
    add %r0, %r1
    exit
