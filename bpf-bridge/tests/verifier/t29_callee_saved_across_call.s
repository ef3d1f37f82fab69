# expect: accept
# kernel: accept
# why: r6 belongs to the caller's frame
    mov %r6, 7
    call local f
    add %r0, %r6
    exit
f:
    mov %r0, 1
    exit
