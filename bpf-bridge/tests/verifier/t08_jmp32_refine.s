# expect: accept
# kernel: accept
# why: jmp32 bounds a zero-extended load
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    mov %r4, %r2
    add %r4, 4
    jgt %r4, %r3, out
    ldxw %r5, [%r2+0]
    jgt32 %r5, 200, out
    add %r2, %r5
    mov %r4, %r2
    add %r4, 1
    jgt %r4, %r3, out
    ldxb %r0, [%r2+0]
    exit
out:
    mov %r0, 1
    exit
