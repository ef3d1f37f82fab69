# expect: reject
# kernel: reject
# rule: infinite-loop
# why: the counter never moves
    mov %r1, 0
loop:
    add %r1, 0
    jlt %r1, 10, loop
    mov %r0, %r1
    exit
