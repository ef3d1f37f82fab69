# expect: accept
# kernel: accept
# why: masked variable offset, then rechecked
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    mov %r4, %r2
    add %r4, 64
    jgt %r4, %r3, out
    ldxb %r5, [%r2+0]
    and %r5, 0x1f
    add %r2, %r5
    mov %r4, %r2
    add %r4, 4
    jgt %r4, %r3, out
    ldxw %r0, [%r2+0]
    exit
out:
    mov %r0, 1
    exit
