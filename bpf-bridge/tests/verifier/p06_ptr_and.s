# expect: reject
# kernel: reject
# rule: pointer-arith
# why: masking a pointer
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    and %r2, 0xff
    mov %r0, 0
    exit
