# Hand-written twin of examples/ipv4_checksum.lua.
.map bad hash key=4 value=8 entries=128
    ldxw %r6, [%r1+0]
    ldxw %r7, [%r1+4]
    mov %r2, %r6
    add %r2, 34
    jgt %r2, %r7, pass          # pkt.len < 34
    ldxh %r2, [%r6+12]
    jne %r2, 0x8, pass
    ldxb %r3, [%r6+14]
    and %r3, 0xf
    lsh %r3, 1                  # words
    mov %r4, 0                  # sum
    mov %r5, %r6
    add %r5, 14                 # word pointer
loop:
    jeq %r3, 0, fold
    mov %r2, %r5
    add %r2, 2
    jgt %r2, %r7, abort
    ldxh %r2, [%r5+0]
    be16 %r2
    add %r4, %r2
    add %r5, 2
    sub %r3, 1
    ja loop
fold:
    jle %r4, 0xffff, check
    mov %r2, %r4
    rsh %r2, 16
    and %r4, 0xffff
    add %r4, %r2
    ja fold
check:
    jeq %r4, 0xffff, pass
    ldxw %r2, [%r6+26]
    be32 %r2
    stxw [%r10-4], %r2
    lddw %r1, map:bad
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, insert
    ldxdw %r1, [%r0+0]
    add %r1, 1
    stxdw [%r0+0], %r1
    ja drop
insert:
    stdw [%r10-16], 1
    lddw %r1, map:bad
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -16
    mov %r4, 0
    call 2
drop:
    mov %r0, 1
    exit
pass:
    mov %r0, 2
    exit
abort:
    mov %r0, 0
    exit
