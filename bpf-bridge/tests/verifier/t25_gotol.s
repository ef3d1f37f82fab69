# expect: accept
# kernel: accept
# why: 32-bit jump offset (cpu v4)
    mov %r0, 1
    gotol out
out:
    exit
