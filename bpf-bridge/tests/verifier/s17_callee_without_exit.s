# expect: reject
# kernel: reject
# rule: structure
# why: the last function falls off the end
    call local fn
    exit
fn:
    mov %r0, 1
    jeq %r1, 0, +1
    exit
    mov %r0, 2
