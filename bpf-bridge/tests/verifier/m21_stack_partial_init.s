# expect: reject
# kernel: accept
# rule: uninit-stack
# why: differs: four of the eight bytes never written; root may read them in Linux
    stw [%r10-8], 1
    ldxdw %r0, [%r10-8]
    exit
