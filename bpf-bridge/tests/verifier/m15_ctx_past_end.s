# expect: reject
# kernel: reject
# rule: mem-access
# why: beyond struct xdp_md
    ldxw %r0, [%r1+24]
    exit
