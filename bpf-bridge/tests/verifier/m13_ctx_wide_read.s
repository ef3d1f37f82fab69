# expect: reject
# kernel: reject
# rule: mem-access
# why: xdp_md fields are read 4 bytes at a time
    ldxdw %r0, [%r1+0]
    exit
