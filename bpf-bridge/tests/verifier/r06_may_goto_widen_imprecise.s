# expect: accept
# kernel: accept
# why: a may_goto loop whose sum changes every round: the sum is imprecise and widened at the loop head, the constant index that bounds the packet read stays precise, so the loop settles
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]
    mov %r4, %r2
    add %r4, 8
    jgt %r4, %r3, out
    mov %r6, 0
    mov %r7, 4
loop:
    may_goto done
    mov %r5, %r2
    add %r5, %r7
    ldxb %r8, [%r5+0]
    add %r6, %r8
    ja loop
done:
    mov %r0, %r6
    and %r0, 3
    exit
out:
    mov %r0, 1
    exit
