# expect: reject
# kernel: reject
# rule: uninit-reg
# why: helpers clobber r1-r5
    call 5
    mov %r0, %r1
    exit
