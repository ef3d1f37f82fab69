.map seen percpu_array key=4 value=8 entries=1
mov %r1, 0
stxw [%r10-4], %r1
mov %r2, %r10
add %r2, -4
lddw %r1, map:seen
call 1
jeq %r0, 0, L11
ldxdw %r1, [%r0+0]
add %r1, 1
stxdw [%r0+0], %r1
L11:
mov %r0, 2
exit
