# expect: reject
# kernel: reject
# rule: mem-access
# why: 14 bytes proven, byte 14 read
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    mov %r4, %r2
    add %r4, 14
    jgt %r4, %r3, out
    ldxb %r0, [%r2+14]
    exit
out:
    mov %r0, 1
    exit
