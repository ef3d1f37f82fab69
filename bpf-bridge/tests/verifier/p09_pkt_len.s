# expect: accept
# kernel: accept
# why: data_end - data is the packet length, a number
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    mov %r0, %r3
    sub %r0, %r2
    exit
