.map stats array key=4 value=8 entries=2
mov %r6, %r1
mov %r1, 0
stxw [%r10-4], %r1
mov %r2, %r10
add %r2, -4
lddw %r1, map:stats
call 1
jeq %r0, 0, L11
mov %r1, 1
lock add [%r0+0], %r1
L11:
mov %r1, 1
stxw [%r10-4], %r1
mov %r2, %r10
add %r2, -4
lddw %r1, map:stats
call 1
jeq %r0, 0, L25
ldxw %r1, [%r6+0]
ldxw %r2, [%r6+4]
sub %r2, %r1
lsh %r2, 32
rsh %r2, 32
lock add [%r0+0], %r2
L25:
mov %r0, 2
exit
