# expect: accept
# kernel: accept
# why: store into a checked value
.map m hash key=4 value=8 entries=16
    stw [%r10-4], 1
    lddw %r1, map:m
    mov %r2, %r10
    add %r2, -4
    call 1

    jeq %r0, 0, out
    stdw [%r0+0], 7
    mov %r0, 0
out:
    exit
