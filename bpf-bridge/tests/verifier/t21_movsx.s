# expect: accept
# kernel: accept
# why: movsx bounds make the bad branch dead
    call 7
    movsx864 %r0, %r0
    jsgt %r0, 127, bad
    jslt %r0, -128, bad
    mov %r0, 0
    exit
bad:
    ldxdw %r0, [%r0+0]
    exit
