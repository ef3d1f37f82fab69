# expect: reject
# kernel: accept
# rule: pointer-leak
# why: differs: a 32-bit copy of the context pointer is a number with its low bits
    mov32 %r0, %r1
    exit
