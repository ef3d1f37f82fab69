# expect: reject
# kernel: reject
# rule: helper-arg
# why: an 8-byte value from 4 bytes of stack
.map m hash key=4 value=8 entries=16
    stw [%r10-4], 1
    lddw %r1, map:m
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -4
    mov %r4, 0
    call 2
    mov %r0, 0
    exit
