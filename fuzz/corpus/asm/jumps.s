mov %r0, 0
jne %r0, 15, failed # trailing comment
ja +1
failed: exit
jeq32 %r1, %r2, -2
jgt %r1, 3, exit
jge %r1, %r2, L1
jlt32 %r1, 3, L1
jle %r1, %r2, L1
jset %r1, 0x10, L1
jsgt %r1, -1, L1
jsge32 %r1, %r2, L1
jslt %r1, -5, L1
jsle %r1, %r2, L1
L1:
ja32 L2
L2:
may_goto +0
call local f
call %r2
call 5
exit
f: mov %r0, 2
exit
