ldxw %r2, [%r1+4]
ldxw %r1, [%r1+0]
call local L10
mov %r1, %r0
call local L34
lddw %r1, 0xfffffffe
and %r0, %r1
rsh %r0, 1
exit
L10:
mov %r0, 1
mov %r3, %r1
add %r3, 38
jgt %r3, %r2, L33
ldxb %r2, [%r1+12]
mov %r0, 2
jne %r2, 8, L33
ldxb %r2, [%r1+13]
mov %r0, 2
jne %r2, 0, L33
ldxb %r2, [%r1+23]
mov %r0, 2
jne %r2, 17, L33
ldxb %r2, [%r1+14]
and %r2, 15
mov %r0, 2
jne %r2, 5, L33
ldxb %r2, [%r1+36]
jne %r2, 0, L32
ldxb %r1, [%r1+37]
mov %r0, 1
jeq %r1, 9, L33
L32:
mov %r0, 2
L33:
exit
L34:
mov %r0, %r1
lsh %r0, 1
exit
