# expect: accept
# kernel: accept
# why: byte swap then mask
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    mov %r4, %r2
    add %r4, 14
    jgt %r4, %r3, out
    ldxh %r5, [%r2+12]
    be16 %r5
    and %r5, 7
    add %r2, %r5
    mov %r4, %r2
    add %r4, 1
    jgt %r4, %r3, out
    ldxb %r0, [%r2+0]
    exit
out:
    mov %r0, 1
    exit
