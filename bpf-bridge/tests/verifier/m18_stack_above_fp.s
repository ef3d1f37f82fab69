# expect: reject
# kernel: reject
# rule: mem-access
# why: at or above the frame pointer
    stb [%r10+0], 1
    mov %r0, 0
    exit
