# expect: reject
# kernel: accept
# rule: mem-access
# why: differs: Linux lets GPL programs read struct bpf_map through BTF; luabpf maps are host objects
.map m hash key=4 value=8 entries=16
    lddw %r1, map:m
    ldxw %r0, [%r1+0]
    exit
