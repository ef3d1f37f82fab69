# expect: reject
# kernel: accept
# rule: pointer-leak
# why: differs: flags is ARG_ANYTHING in Linux; a pointer there is a leak to us
.map m hash key=4 value=8 entries=16
    stw [%r10-4], 1
    stdw [%r10-16], 0
    lddw %r1, map:m
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -16
    mov %r4, %r10
    call 2
    mov %r0, 0
    exit
