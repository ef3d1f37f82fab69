# expect: reject
# kernel: reject
# rule: mem-access
# why: below the 512-byte frame
    stb [%r10-513], 1
    mov %r0, 0
    exit
