# expect: accept
# kernel: accept
# why: the bad access is on a branch never taken
    mov %r1, 5
    jgt %r1, 3, ok
    ldxdw %r0, [%r1+0]
    exit
ok:
    mov %r0, 2
    exit
