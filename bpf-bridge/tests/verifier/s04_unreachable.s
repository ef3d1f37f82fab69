# expect: reject
# kernel: reject
# rule: unreachable
# why: dead code after exit
    mov %r0, 0
    exit
    mov %r0, 1
    exit
