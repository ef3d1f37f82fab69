# expect: accept
# kernel: accept
# why: jset false branch clears bits
    call 7
    jset %r0, 0xfffffff0, out
    mov %r1, %r10
    add %r1, -16
    stdw [%r10-16], 0
    stdw [%r10-8], 0
    and %r0, 8
    jne %r0, 8, +1
    mov %r0, 0
    exit
out:
    mov %r0, 1
    exit
