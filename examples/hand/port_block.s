# Hand-written twin of examples/port_block.lua.
.map drops hash key=4 value=8 entries=64
    ldxw %r6, [%r1+0]
    ldxw %r7, [%r1+4]
    mov %r2, %r6
    add %r2, 14
    jgt %r2, %r7, abort
    ldxh %r2, [%r6+12]
    jne %r2, 0x8, pass
    mov %r2, %r6
    add %r2, 24
    jgt %r2, %r7, abort
    ldxb %r2, [%r6+23]
    jeq %r2, 6, l4
    jne %r2, 17, pass
l4:
    ldxb %r2, [%r6+14]
    and %r2, 0xf
    lsh %r2, 2
    add %r2, %r6                # L4 header at r2+14
    mov %r3, %r2
    add %r3, 18
    jgt %r3, %r7, abort
    ldxh %r8, [%r2+16]
    be16 %r8                    # destination port
    jeq %r8, 23, drop
    jeq %r8, 135, drop
    jeq %r8, 445, drop
    jeq %r8, 3389, drop
    mov %r3, %r8
    sub %r3, 137
    jgt %r3, 2, pass            # 137..139
drop:
    stxw [%r10-4], %r8
    lddw %r1, map:drops
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, insert
    ldxdw %r1, [%r0+0]
    add %r1, 1
    stxdw [%r0+0], %r1
    ja dropped
insert:
    stdw [%r10-16], 1
    lddw %r1, map:drops
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -16
    mov %r4, 0
    call 2
dropped:
    mov %r0, 1
    exit
pass:
    mov %r0, 2
    exit
abort:
    mov %r0, 0
    exit
