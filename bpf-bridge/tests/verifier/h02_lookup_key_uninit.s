# expect: reject
# kernel: accept
# rule: uninit-stack
# why: differs: the key is never written; root may pass uninitialised stack in Linux
.map m hash key=4 value=8 entries=16
    lddw %r1, map:m
    mov %r2, %r10
    add %r2, -4
    call 1
    mov %r0, 0
    exit
