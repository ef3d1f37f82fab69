# expect: accept
# kernel: accept
# why: a may_goto loop over the packet with its offset kept on the stack (examples/tcp_mss.lua)
    mov %r6, %r1
    ldxw %r7, [%r6+0]
    ldxw %r8, [%r6+4]
    mov %r1, 0
    stxdw [%r10-8], %r1
loop:
    ldxdw %r5, [%r10-8]
    jgt %r5, 0xffef, out
    ldxdw %r4, [%r10-8]
    mov %r2, %r7
    add %r2, %r4
    mov %r3, %r2
    add %r3, 1
    jgt %r3, %r8, out
    ldxb %r1, [%r2+0]
    ldxdw %r4, [%r10-8]
    add %r4, %r1
    add %r4, 1
    stxdw [%r10-8], %r4
    may_goto out
    ja loop
out:
    mov %r0, 1
    exit
