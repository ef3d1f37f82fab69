# expect: reject
# kernel: reject
# rule: pointer-arith
# why: multiplying a pointer
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    mul %r2, 2
    mov %r0, 0
    exit
