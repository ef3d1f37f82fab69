# Hand-written twin of examples/ip_dispatch.lua.
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]
    mov %r4, %r2
    add %r4, 14
    jgt %r4, %r3, abort
    ldxh %r4, [%r2+12]
    jeq %r4, 0xdd86, v6
    jne %r4, 0x8, pass
    mov %r4, %r2
    add %r4, 15
    jgt %r4, %r3, abort
    ldxb %r5, [%r2+14]
    and %r5, 0xf
    jlt %r5, 5, pass
    lsh %r5, 2
    add %r5, 14                 # L4 offset
    mov %r4, %r2
    add %r4, 24
    jgt %r4, %r3, abort
    ldxb %r6, [%r2+23]          # protocol
    ja l4
v6:
    mov %r5, 54
    mov %r4, %r2
    add %r4, 21
    jgt %r4, %r3, abort
    ldxb %r6, [%r2+20]          # next header
l4:
    add %r5, %r2                # r5 = L4 header
    jne %r6, 17, icmp
    mov %r4, %r5
    add %r4, 4
    jgt %r4, %r3, abort
    ldxh %r4, [%r5+2]
    jne %r4, 0x3500, pass       # port 53, as loaded little-endian
    ldxh %r4, [%r5+0]
    be16 %r4
    jlt %r4, 1024, drop
    ja pass
icmp:
    jeq %r6, 1, big
    jne %r6, 58, pass
big:
    mov %r4, %r3
    sub %r4, %r2
    jle %r4, 1000, pass
    mov %r4, %r5
    add %r4, 1
    jgt %r4, %r3, abort
    ldxb %r4, [%r5+0]
    jeq %r4, 8, drop
    jeq %r4, 128, drop
pass:
    mov %r0, 2
    exit
drop:
    mov %r0, 1
    exit
abort:
    mov %r0, 0
    exit
