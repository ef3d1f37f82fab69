# expect: reject
# kernel: reject
# rule: uninit-reg
# why: r0 not set at exit
    exit
