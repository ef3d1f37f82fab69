# expect: reject
# kernel: reject
# rule: pointer-arith
# why: no arithmetic on the context (kernel: dereference of modified ctx)
    add %r1, 4
    ldxw %r0, [%r1+0]
    exit
