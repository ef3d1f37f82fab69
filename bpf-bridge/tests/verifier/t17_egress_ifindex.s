# expect: accept
# kernel: reject
# why: differs: Linux lets only devmap programs read egress_ifindex; luabpf's engines define it
    ldxw %r0, [%r1+20]
    exit
