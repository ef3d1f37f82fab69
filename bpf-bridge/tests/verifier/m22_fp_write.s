# expect: reject
# kernel: reject
# rule: mem-access
# why: pointer moved above the frame
    mov %r0, %r10
    add %r0, 8
    stb [%r0+0], 1
    mov %r0, 0
    exit
