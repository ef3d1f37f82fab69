# expect: accept
# kernel: accept
# why: lookup, null check, read
.map m hash key=4 value=8 entries=16
    stw [%r10-4], 1
    lddw %r1, map:m
    mov %r2, %r10
    add %r2, -4
    call 1

    jeq %r0, 0, out
    ldxdw %r0, [%r0+0]
out:
    exit
