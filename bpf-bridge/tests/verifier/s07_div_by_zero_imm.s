# expect: reject
# kernel: reject
# rule: div-by-zero
# why: division by immediate zero
    mov %r0, 1
    div %r0, 0
    exit
