# expect: reject
# kernel: reject
# rule: mem-access
# why: lookup result used before the null check
.map m hash key=4 value=8 entries=16
    stw [%r10-4], 1
    lddw %r1, map:m
    mov %r2, %r10
    add %r2, -4
    call 1

    ldxdw %r0, [%r0+0]
    exit
