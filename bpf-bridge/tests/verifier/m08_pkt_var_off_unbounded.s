# expect: reject
# kernel: reject
# rule: pointer-arith
# why: packet pointer plus an unbounded number
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]

    mov %r4, %r2
    add %r4, 8
    jgt %r4, %r3, out
    ldxdw %r5, [%r2+0]
    add %r2, %r5
    mov %r4, %r2
    add %r4, 4
    jgt %r4, %r3, out
    ldxw %r0, [%r2+0]
    exit
out:
    mov %r0, 1
    exit
