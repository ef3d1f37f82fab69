# 32-bit FNV-1a hash of the bytes after the Ethernet and IPv6 headers (up to
# 2048 of them), a byte at a time: load, xor, 32-bit multiply. Bounded byte
# counter, each load checked against data_end first. Returns the hash.
    ldxw %r2, [%r1+0]           # data
    ldxw %r3, [%r1+4]           # data_end
    add %r2, 54                 # past Ethernet (14) and IPv6 (40)
    mov32 %r0, 0x811c9dc5       # offset basis
    mov %r4, 0                  # bytes done
loop:
    mov %r5, %r2
    add %r5, 1
    jgt %r5, %r3, done
    ldxb %r6, [%r2+0]
    xor32 %r0, %r6
    mul32 %r0, 0x01000193       # FNV prime
    mov %r2, %r5
    add %r4, 1
    jlt %r4, 2048, loop
done:
    exit
