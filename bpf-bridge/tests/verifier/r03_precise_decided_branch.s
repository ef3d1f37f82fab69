# expect: reject
# kernel: reject
# rule: mem-access
# why: a flag decides a later branch on each path; the decided comparison makes it precise, so the path with the other flag value is walked and its unchecked read found
    mov %r9, %r1
    call 7
    ldxw %r2, [%r9+0]
    mov %r8, 0
    jgt %r0, 100, other
    ja join
other:
    mov %r8, 1
join:
    mov %r0, 2
    jeq %r8, 0, done
    ldxb %r0, [%r2+0]
done:
    exit
