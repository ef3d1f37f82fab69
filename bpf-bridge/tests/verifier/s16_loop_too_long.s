# expect: reject
# kernel: reject
# rule: too-complex
# why: 2^64 iterations: the analysis gives up at 1M instructions
    mov %r1, 0
loop:
    add %r1, 1
    jne %r1, 0, loop
    mov %r0, %r1
    exit
