# expect: reject
# kernel: reject
# rule: helper-arg
# why: key bytes run past the frame pointer
.map m hash key=4 value=8 entries=16
    stw [%r10-4], 1
    lddw %r1, map:m
    mov %r2, %r10
    add %r2, -2
    call 1
    mov %r0, 0
    exit
