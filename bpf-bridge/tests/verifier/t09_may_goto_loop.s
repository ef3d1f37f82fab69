# expect: accept
# kernel: accept
# why: an unbounded loop guarded by may_goto
    mov %r0, 0
loop:
    may_goto out
    add %r0, 1
    ja loop
out:
    exit
