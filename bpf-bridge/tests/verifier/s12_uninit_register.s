# expect: reject
# kernel: reject
# rule: uninit-reg
# why: r5 never written
    mov %r0, %r5
    exit
