# expect: accept
# kernel: accept
# why: data_end < data + 8 form
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    mov %r4, %r2
    add %r4, 8
    jlt %r3, %r4, out
    ldxdw %r0, [%r2+0]
    exit
out:
    mov %r0, 1
    exit
