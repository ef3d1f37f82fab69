ldxh %r2, [%r1+12]
ldxsb %r0, [%r10-1]
ldxsh %r0, [%r10-2]
ldxsw %r0, [%r10-4]
ldxb %r0, [%r1]
ldxw %r0, [%r1+4]
ldxdw %r0, [%r1]
stxdw [%r10-8], %r0
stxw [%r10-4], %r0
stxh [%r10-2], %r0
stxb [%r10-1], %r0
stb [%r1+2], 0x11
sth [%r1+2], 0x1122
stw [%r1+2], -1
stdw [%r10-16], 7
lock add [%r10-8], %r1
lock fetch add32 [%r10-4], %r1
lock fetch_add [%r10-8], %r1
lock or [%r10-8], %r1
lock and32 [%r10-4], %r1
lock fetch xor [%r10-8], %r1
lock xchg [%r10-8], %r1
lock cmpxchg32 [%r10-8], %r1
lock cmpxchg [%r10-8], %r1
exit
