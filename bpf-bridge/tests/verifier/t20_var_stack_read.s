# expect: reject
# kernel: accept
# rule: mem-access
# why: differs: luabpf needs constant stack offsets; Linux lets root read at a variable offset
    stdw [%r10-16], 1
    stdw [%r10-8], 2
    call 7
    and %r0, 8
    mov %r1, %r10
    add %r1, -16
    add %r1, %r0
    ldxdw %r0, [%r1+0]
    exit
