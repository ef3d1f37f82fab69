# expect: reject
# kernel: reject
# rule: pointer-arith
# why: no arithmetic on data_end
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    sub %r3, 1
    mov %r0, 0
    exit
