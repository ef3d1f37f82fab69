# Hand-written twin of examples/syn_count.lua (XDP; r1 = struct xdp_md).
# Truncated frames end with verdict 0, as a failed read does in Lua.
.map syns hash key=4 value=8 entries=1024
    ldxw %r6, [%r1+0]
    ldxw %r7, [%r1+4]
    mov %r2, %r6
    add %r2, 14
    jgt %r2, %r7, abort
    ldxh %r2, [%r6+12]
    jne %r2, 0x8, pass          # ETH_P_IP, as loaded little-endian
    mov %r2, %r6
    add %r2, 24
    jgt %r2, %r7, abort
    ldxb %r2, [%r6+23]
    jne %r2, 6, pass
    ldxb %r2, [%r6+14]
    and %r2, 0xf
    lsh %r2, 2
    add %r2, %r6                # r2 = data + ihl*4; TCP header at r2+14
    mov %r3, %r2
    add %r3, 28
    jgt %r3, %r7, abort
    ldxb %r3, [%r2+27]          # TCP flags
    and %r3, 0x12
    jne %r3, 2, pass            # SYN without ACK
    mov %r2, %r6
    add %r2, 30
    jgt %r2, %r7, abort
    ldxw %r2, [%r6+26]
    be32 %r2
    stxw [%r10-4], %r2
    lddw %r1, map:syns
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, insert
    ldxdw %r1, [%r0+0]
    add %r1, 1
    stxdw [%r0+0], %r1
    ja pass
insert:
    stdw [%r10-16], 1
    lddw %r1, map:syns
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -16
    mov %r4, 0
    call 2
pass:
    mov %r0, 2
    exit
abort:
    mov %r0, 0
    exit
