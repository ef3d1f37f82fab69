# expect: reject
# kernel: reject
# rule: uninit-reg
# why: r4 (flags) never set
.map m hash key=4 value=8 entries=16
    stw [%r10-4], 1
    stdw [%r10-16], 42
    lddw %r1, map:m
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -16
    call 2
    mov %r0, 0
    exit
