# expect: reject
# kernel: accept
# rule: pointer-leak
# why: differs: a host stack address stored in a map; root may do it in Linux
.map m hash key=4 value=8 entries=16
    stw [%r10-4], 1
    lddw %r1, map:m
    mov %r2, %r10
    add %r2, -4
    call 1

    jeq %r0, 0, out
    stxdw [%r0+0], %r10
    mov %r0, 0
out:
    exit
