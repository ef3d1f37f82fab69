mov %r0, 1
mov32 %r1, -3
add32 %r0, -3
add %r1, %r2
sub %r1, 7
mul32 %r2, %r3
div %r1, 3
sdiv %r1, 3
mod %r1, %r4
smod32 %r1, %r2
or %r5, 0xff00
and32 %r5, %r6
xor %r7, %r8
lsh %r1, 63
rsh32 %r1, 31
arsh %r1, %r2
neg %r3
neg32 %r3
movsx832 %r0, %r1
movsx1632 %r0, %r1
movsx864 %r0, %r1
movsx3264 %r0, %r1
be16 %r1
be32 %r1
be64 %r1
le16 %r1
le32 %r1
le64 %r1
bswap16 %r1
bswap32 %r1
bswap64 %r1
exit
