# expect: accept
# kernel: accept
# why: each iteration rechecks the packet end
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    mov %r0, 0
    mov %r4, 0
loop:
    mov %r5, %r2
    add %r5, 1
    jgt %r5, %r3, out
    ldxb %r6, [%r2+0]
    add %r0, %r6
    mov %r2, %r5
    add %r4, 1
    jlt %r4, 8, loop
out:
    exit
