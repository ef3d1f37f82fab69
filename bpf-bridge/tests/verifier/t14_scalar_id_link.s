# expect: accept
# kernel: accept
# why: the bound on r0 also bounds its copy r7
.map arr array key=4 value=16 entries=4
    stw [%r10-4], 0
    lddw %r1, map:arr
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, out
    mov %r6, %r0
    call 7
    mov %r7, %r0
    jgt %r0, 15, out
    add %r6, %r7
    ldxb %r0, [%r6+0]
    exit
out:
    mov %r0, 0
    exit
