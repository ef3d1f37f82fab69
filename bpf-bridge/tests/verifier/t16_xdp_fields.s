# expect: accept
# kernel: accept
# why: ingress_ifindex and rx_queue_index
    ldxw %r0, [%r1+12]
    ldxw %r2, [%r1+16]
    add %r0, %r2
    exit
