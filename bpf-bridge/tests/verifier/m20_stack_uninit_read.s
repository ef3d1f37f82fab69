# expect: reject
# kernel: accept
# rule: uninit-stack
# why: differs: the kernel lets root read uninitialised stack (allow_uninit_stack); it would expose old host stack contents here
    ldxdw %r0, [%r10-8]
    exit
