# expect: reject
# kernel: reject
# rule: structure
# why: jump target outside the program
    ja +5
    exit
