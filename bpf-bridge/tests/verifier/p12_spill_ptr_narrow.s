# expect: reject
# kernel: accept
# rule: pointer-leak
# why: differs: half a pointer stored as data; root may in Linux
    stxw [%r10-8], %r1
    mov %r0, 0
    exit
