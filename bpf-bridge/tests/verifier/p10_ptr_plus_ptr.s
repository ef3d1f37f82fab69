# expect: reject
# kernel: reject
# rule: pointer-arith
# why: adding two pointers
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    add %r2, %r3
    mov %r0, 0
    exit
