# expect: reject
# kernel: accept
# rule: mem-access
# why: differs: luabpf wants map values aligned (engines on strict-alignment hosts, atomics); x86 Linux does not check
.map m hash key=4 value=8 entries=16
    stw [%r10-4], 1
    lddw %r1, map:m
    mov %r2, %r10
    add %r2, -4
    call 1

    jeq %r0, 0, out
    ldxw %r0, [%r0+2]
    exit
out:
    exit
