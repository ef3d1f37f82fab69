# Hand-written twin of examples/tcp_mss.lua (the option walk uses may_goto).
.map mss_seen hash key=4 value=4 entries=256
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
    jne %r2, 6, pass
    ldxb %r8, [%r6+14]
    and %r8, 0xf
    lsh %r8, 2
    add %r8, 14                 # r8 = tcp offset
    mov %r2, %r6
    add %r2, %r8
    mov %r3, %r2
    add %r3, 14
    jgt %r3, %r7, abort
    ldxb %r3, [%r2+13]
    and %r3, 2
    jeq %r3, 0, pass            # not a SYN
    ldxb %r3, [%r2+12]
    rsh %r3, 4
    lsh %r3, 2
    add %r3, %r8                # tcp + doff
    mov %r9, %r7
    sub %r9, %r6                # len
    jle %r9, %r3, have_stop
    mov %r9, %r3
have_stop:                      # r9 = stop
    add %r8, 20                 # r8 = i
loop:
    jsge %r8, %r9, pass
    jgt %r8, 0xffe0, abort
    mov %r2, %r6
    add %r2, %r8
    mov %r3, %r2
    add %r3, 1
    jgt %r3, %r7, abort
    ldxb %r3, [%r2+0]           # kind
    jeq %r3, 0, pass
    jne %r3, 1, option
    add %r8, 1
    ja next
option:
    mov %r4, %r2
    add %r4, 2
    jgt %r4, %r7, abort
    ldxb %r4, [%r2+1]           # length
    jlt %r4, 2, pass
    jne %r3, 2, skip
    jne %r4, 4, skip
    mov %r5, %r2
    add %r5, 4
    jgt %r5, %r7, abort
    ldxh %r5, [%r2+2]
    be16 %r5
    stxw [%r10-4], %r5
    stxdw [%r10-16], %r4
    stxdw [%r10-24], %r5
    lddw %r1, map:mss_seen
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, insert
    ldxw %r1, [%r0+0]
    add %r1, 1
    stxw [%r0+0], %r1
    ja counted
insert:
    stw [%r10-8], 1
    lddw %r1, map:mss_seen
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -8
    mov %r4, 0
    call 2
counted:
    ldxdw %r5, [%r10-24]
    jlt %r5, 536, drop
    ldxdw %r4, [%r10-16]
skip:
    add %r8, %r4
next:
    may_goto abort
    ja loop
pass:
    mov %r0, 2
    exit
drop:
    mov %r0, 1
    exit
abort:
    mov %r0, 0
    exit
