# expect: reject
# kernel: reject
# rule: div-by-zero
# why: modulo by immediate zero
    mov32 %r0, 1
    mod32 %r0, 0
    exit
