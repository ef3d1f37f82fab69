# expect: reject
# kernel: accept
# rule: pointer-leak
# why: differs: the context address would be the verdict; root may return it in Linux
    mov %r0, %r1
    exit
