# expect: accept
# kernel: accept
# why: the null check reaches the copy made before it
.map m hash key=4 value=8 entries=16
    stw [%r10-4], 1
    lddw %r1, map:m
    mov %r2, %r10
    add %r2, -4
    call 1

    mov %r6, %r0
    jne %r0, 0, found
    mov %r0, 0
    exit
found:
    ldxdw %r0, [%r6+0]
    exit
