# RFC 1071 Internet checksum of the whole frame (up to 2048 bytes) in the
# shape a C loop takes for the kernel's verifier: a bounded word counter, and
# every 16-bit load checked against data_end first. Returns the folded,
# complemented sum (an odd trailing byte is left out).
    ldxw %r2, [%r1+0]           # data
    ldxw %r3, [%r1+4]           # data_end
    mov %r0, 0                  # sum
    mov %r4, 0                  # words done
loop:
    mov %r5, %r2
    add %r5, 2
    jgt %r5, %r3, fold
    ldxh %r6, [%r2+0]
    be16 %r6
    add %r0, %r6
    mov %r2, %r5
    add %r4, 1
    jlt %r4, 1024, loop
fold:
    # Under 2^26 after 1024 words: two folds bring it under 2^16.
    mov %r5, %r0
    rsh %r5, 16
    and %r0, 0xffff
    add %r0, %r5
    mov %r5, %r0
    rsh %r5, 16
    and %r0, 0xffff
    add %r0, %r5
    xor %r0, 0xffff
    exit
