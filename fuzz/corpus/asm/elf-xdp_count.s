.map counts hash key=4 value=8 entries=256
mov %r0, 1
ldxw %r2, [%r1+4]
ldxw %r1, [%r1+0]
mov %r3, %r1
add %r3, 14
jgt %r3, %r2, L38
ldxb %r3, [%r1+12]
mov %r0, 2
jne %r3, 8, L38
ldxb %r3, [%r1+13]
mov %r0, 2
jne %r3, 0, L38
mov %r3, %r1
add %r3, 34
mov %r0, 1
jgt %r3, %r2, L38
ldxb %r1, [%r1+23]
stxw [%r10-4], %r1
mov %r2, %r10
add %r2, -4
lddw %r1, map:counts
call 1
jeq %r0, 0, L27
mov %r1, 1
lock add [%r0+0], %r1
ja L37
L27:
mov %r1, 1
stxdw [%r10-16], %r1
mov %r2, %r10
add %r2, -4
mov %r3, %r10
add %r3, -16
lddw %r1, map:counts
mov %r4, 0
call 2
L37:
mov %r0, 2
L38:
exit
