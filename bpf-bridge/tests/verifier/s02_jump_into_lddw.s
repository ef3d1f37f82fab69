# expect: reject
# kernel: reject
# rule: structure
# why: jump into the second half of lddw
    mov %r0, 0
    jeq %r0, 0, +1
    lddw %r0, 0x100000000
    exit
