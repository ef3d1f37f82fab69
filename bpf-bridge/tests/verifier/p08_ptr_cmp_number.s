# expect: reject
# kernel: accept
# rule: pointer-arith
# why: differs: comparing an address with a number reveals it; root may in Linux
    mov %r0, 0
    jgt %r1, 4096, +1
    mov %r0, 1
    exit
