# expect: reject
# kernel: reject
# rule: calls
# why: a function calls itself
    call local fn
    exit
fn:
    call local fn
    exit
