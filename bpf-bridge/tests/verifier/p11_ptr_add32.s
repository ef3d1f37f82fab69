# expect: reject
# kernel: reject
# rule: pointer-arith
# why: 32-bit arithmetic on a pointer
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    add32 %r2, 4
    mov %r0, 0
    exit
