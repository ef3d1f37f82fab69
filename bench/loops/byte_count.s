# Counts the newline bytes (0x0a) after the Ethernet and IPv6 headers (up to
# 2048 bytes): a scan with a data-dependent compare-branch per byte, as a
# line or delimiter count over a payload. Bounded byte counter, each load
# checked against data_end first. Returns the count.
    ldxw %r2, [%r1+0]           # data
    ldxw %r3, [%r1+4]           # data_end
    add %r2, 54                 # past Ethernet (14) and IPv6 (40)
    mov %r0, 0                  # matches
    mov %r4, 0                  # bytes done
loop:
    mov %r5, %r2
    add %r5, 1
    jgt %r5, %r3, done
    ldxb %r6, [%r2+0]
    jne %r6, 0x0a, next
    add %r0, 1
next:
    mov %r2, %r5
    add %r4, 1
    jlt %r4, 2048, loop
done:
    exit
