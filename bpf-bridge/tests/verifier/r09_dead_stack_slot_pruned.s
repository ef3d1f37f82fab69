# expect: accept
# kernel: accept
# why: four diamonds spill different numbers into a slot that is overwritten before any read; the slot is dead at each join, so the second path is pruned
    call 7
    mov %r6, %r0
    jset %r6, 1, a1
    stdw [%r10-8], 1
a1:
    jset %r6, 2, a2
    stdw [%r10-8], 2
a2:
    jset %r6, 4, a3
    stdw [%r10-8], 3
a3:
    jset %r6, 8, a4
    stdw [%r10-8], 4
a4:
    stdw [%r10-8], 0
    ldxdw %r0, [%r10-8]
    exit
