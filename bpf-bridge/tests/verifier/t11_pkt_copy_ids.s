# expect: accept
# kernel: accept
# why: the range reaches every copy of the pointer
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    mov %r5, %r2
    add %r5, 14
    mov %r6, %r2
    jgt %r5, %r3, out
    ldxb %r0, [%r6+13]
    exit
out:
    mov %r0, 1
    exit
