# expect: accept
# kernel: accept
# why: eight diamonds each add a different number to an accumulator that only ends up masked in r0; it never matters for safety, so every join prunes the second path (the walk stays linear, not 256 paths)
    call 7
    mov %r6, %r0
    mov %r7, 0
    jset %r6, 1, a1
    add %r7, 1
a1:
    jset %r6, 2, a2
    add %r7, 2
a2:
    jset %r6, 4, a3
    add %r7, 3
a3:
    jset %r6, 8, a4
    add %r7, 5
a4:
    jset %r6, 16, a5
    add %r7, 7
a5:
    jset %r6, 32, a6
    add %r7, 11
a6:
    jset %r6, 64, a7
    add %r7, 13
a7:
    jset %r6, 128, a8
    add %r7, 17
a8:
    mov %r0, %r7
    and %r0, 3
    exit
