# Hand-written twin of examples/proto_counters.lua.
.map packets array key=4 value=8 entries=256
.map bytes array key=4 value=8 entries=256
    ldxw %r2, [%r1+0]
    ldxw %r3, [%r1+4]
    mov %r7, %r3
    sub %r7, %r2                # len
    mov %r6, 255                # slot
    mov %r4, %r2
    add %r4, 14
    jgt %r4, %r3, count
    ldxh %r4, [%r2+12]
    jne %r4, 0x8, ipv6
    mov %r5, %r2
    add %r5, 34
    jgt %r5, %r3, count
    ldxb %r6, [%r2+23]
    ja count
ipv6:
    jne %r4, 0xdd86, count
    mov %r5, %r2
    add %r5, 54
    jgt %r5, %r3, count
    ldxb %r6, [%r2+20]
count:
    stxw [%r10-4], %r6
    lddw %r1, map:packets
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, done
    ldxdw %r1, [%r0+0]
    add %r1, 1
    stxdw [%r0+0], %r1
    lddw %r1, map:bytes
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, done
    ldxdw %r1, [%r0+0]
    add %r1, %r7
    stxdw [%r0+0], %r1
done:
    mov %r0, 2
    exit
