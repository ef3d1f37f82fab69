//! Loops whose back edge `ja` the JIT lowers as a copy of the head's test
//! (`jit/src/lower/invert.rs`): heads of no to four ALU ops, 32- and 64-bit,
//! signed and unsigned, immediate and register compares, `jset` heads (which
//! keep the jump), exits right after the back edge or elsewhere, tests that
//! leave on the first trip, jumps into the head's middle, into the body and
//! onto the back edge, budgeted (`may_goto`) bodies; against the reference on
//! every architecture, checked and verified.

use super::harness::{check_emulated, check_same};
use bpf_bridge::asm::assemble;
use bpf_bridge::program::{ProgType, Program};
use jit::{compile, Arch, Options};

/// Head ops and their test (`X`: the exit label).
const HEADS: [(&str, &str); 7] = [
    ("", "jge %r2, 9, X"),
    ("mov %r3, %r2\n    add %r3, 3", "jgt %r3, 11, X"),
    (
        "mov32 %r3, %r2\n    lsh32 %r3, 1\n    add32 %r3, -5",
        "jsgt32 %r3, 9, X",
    ),
    (
        "mov %r3, %r2\n    xor %r3, 0x55\n    and %r3, 0xff",
        "jeq %r3, 0x5d, X",
    ),
    ("mov %r3, %r2\n    sub %r3, %r5", "jge %r3, %r6, X"),
    (
        "mov %r3, %r2\n    add %r3, 1\n    mul %r3, 3\n    rsh %r3, 1",
        "jsge %r3, 14, X",
    ),
    ("", "jset %r2, 8, X"),
];

/// Loop bodies (`L`: the back edge's label; `A`: the other exit).
const BODIES: [&str; 5] = [
    "add %r2, 1\n    add %r0, %r2",
    "ldxb %r4, [%r1+0]\n    add %r2, 1\n    add %r0, %r4\n    jeq %r2, 4, L\n    add %r0, 100",
    "add %r2, 2\n    jgt %r0, 30, A\n    add %r0, %r2",
    "add %r2, 1\n    may_goto +1\n    add %r0, 7\n    add %r0, 1",
    // Ends when the test leaves or the `may_goto` budget runs out.
    "add %r0, 1\n    may_goto A",
];

fn program(start: i64, head: (&str, &str), body: &str, into_middle: bool, tail: &str) -> String {
    let (ops, test) = head;
    let exit = if tail.is_empty() { "away" } else { "done" };
    let test = test.replace('X', exit);
    let body = body.replace('L', "latch").replace('A', "away");
    // A jump from before the loop into the head's second op (or its test).
    let (entry, mid) = if into_middle {
        ("    jne %r7, 0, mid\n", "mid:\n")
    } else {
        ("", "")
    };
    let ops: Vec<&str> = ops.lines().map(str::trim).collect();
    let head = match ops.split_first() {
        Some((first, rest)) => format!("    {first}\n{mid}    {}\n", rest.join("\n    ")),
        None => mid.to_string(),
    };
    format!(
        "    mov %r0, 0
    mov %r2, {start}
    mov %r3, 0
    mov %r5, 2
    mov %r6, 7
    mov %r7, {k}
{entry}loop:
{head}    {test}
    {body}
latch:
    ja loop
done:
    {tail}
    exit
away:
    add %r0, 1000
    exit
",
        k = into_middle as i32,
    )
}

#[test]
fn inverted_back_edges_match_the_reference() {
    let mem = [5u8, 1, 2, 3];
    let mut n = 0;
    for head in HEADS {
        for body in BODIES {
            // 9 and 20 leave on the first trip for most heads; -1 for the
            // unsigned ones, not the signed.
            for start in [0, 3, 9, 20, -1, -40] {
                for into_middle in [false, true] {
                    for tail in ["", "add %r0, %r3", "mov %r0, %r2"] {
                        let text = program(start, head, body, into_middle, tail);
                        let insns = assemble(&text)
                            .unwrap_or_else(|e| panic!("{e}\n{text}"))
                            .insns;
                        check_same(&insns, &mem).unwrap();
                        if start == 3 && !into_middle {
                            check_emulated(&insns, &mem);
                        }
                        n += 1;
                    }
                }
            }
        }
    }
    assert!(n > 1000, "{n}");
}

/// The copy sits where the jump was: `gotol` back edges, a head at slot 0,
/// a head whose test is the latch's neighbour, and nested inverted loops.
#[test]
fn inverted_edge_cases() {
    let texts = [
        // A head at slot 0 (the entry falls into it): r1 moves to the next
        // address that is 5 mod 8.
        "loop:\n    mov %r3, %r1\n    and %r3, 7\n    jeq %r3, 5, +2\n    add %r1, 1\n    ja loop\n    mov %r0, %r3\n    exit\n",
        // `gotol` as the back edge.
        "    mov %r0, 0\nloop:\n    jge %r0, 6, +2\n    add %r0, 2\n    gotol loop\n    exit\n",
        // A body of nothing but the back edge (the head test leaves at once).
        "    mov %r0, 3\nloop:\n    jgt %r0, 1, +1\n    ja loop\n    exit\n",
        // Nested: both back edges inverted, the inner exit into the outer body.
        "    mov %r0, 0
    mov %r2, 0
outer:
    jge %r2, 4, +9
    mov %r3, 0
inner:
    mov %r4, %r3
    add %r4, 1
    jgt %r4, 5, +3
    add %r0, %r4
    mov %r3, %r4
    ja inner
    add %r2, 1
    ja outer
    exit
",
    ];
    for (i, text) in texts.into_iter().enumerate() {
        let insns = assemble(text)
            .unwrap_or_else(|e| panic!("{e}\n{text}"))
            .insns;
        check_same(&insns, &[0u8; 4]).unwrap();
        check_emulated(&insns, &[0u8; 4]);
        if i == 1 || i == 3 {
            // Each exit follows its back edge: no unconditional jump is left.
            let p = Program::new("t", ProgType::Raw, insns.clone());
            let facts = super::harness::all_proven(&insns);
            let c = compile(&p, Some(&facts), Arch::X86_64, Options::default()).unwrap();
            let text = c.disassemble();
            assert!(!text.contains("jmp"), "{text}");
        }
    }
}
