# expect: reject
# kernel: reject
# rule: mem-access
# why: between two fields
    ldxw %r0, [%r1+2]
    exit
