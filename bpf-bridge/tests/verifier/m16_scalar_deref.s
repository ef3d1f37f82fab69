# expect: reject
# kernel: reject
# rule: mem-access
# why: a number is not a pointer
    mov %r1, 4096
    ldxb %r0, [%r1+0]
    exit
