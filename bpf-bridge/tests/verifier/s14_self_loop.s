# expect: reject
# kernel: reject
# rule: infinite-loop
# why: jump to itself
loop:
    ja loop
