# expect: accept
# kernel: reject
# why: differs: Linux does not verify callx; luabpf calls the helper a known constant names
    mov %r1, 7
    callx %r1
    exit
