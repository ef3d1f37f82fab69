# expect: accept
# kernel: accept
# why: ten iterations, explored one by one
    mov %r0, 0
    mov %r1, 0
loop:
    add %r0, %r1
    add %r1, 1
    jlt %r1, 10, loop
    exit
