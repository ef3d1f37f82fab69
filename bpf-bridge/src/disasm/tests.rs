use super::*;
use crate::asm::assemble;
use crate::program::MapKind;

fn maps() -> Vec<MapDef> {
    vec![MapDef {
        name: "counts".into(),
        kind: MapKind::Array,
        key_size: 4,
        value_size: 16,
        max_entries: 4,
    }]
}

/// Assembles `asm` (conformance syntax, one instruction), and checks both styles.
#[track_caller]
fn check(asm: &str, conformance: &str, llvm: &str) {
    let text = format!(".map counts array key=4 value=16 entries=4\n{asm}");
    let a = assemble(&text).unwrap_or_else(|e| panic!("{asm}: {e}"));
    let ops = isa::decode_program(&a.insns)
        .or_else(|_| {
            // Single non-terminating ops: decode just the first one.
            isa::decode_one(&a.insns, 0).map(|op| vec![op])
        })
        .unwrap();
    assert_eq!(
        format_op(&ops[0], 0, &maps(), Style::Conformance),
        conformance
    );
    assert_eq!(format_op(&ops[0], 0, &maps(), Style::Llvm), llvm);
}

#[test]
fn both_styles() {
    check("mov %r0, 1", "mov %r0, 1", "r0 = 1");
    check("add32 %r0, 1", "add32 %r0, 1", "w0 += 1");
    check("add32 %r0, -3", "add32 %r0, -3", "w0 += -3");
    check("sdiv %r1, 3", "sdiv %r1, 3", "r1 s/= 3");
    check("smod %r1, %r2", "smod %r1, %r2", "r1 s%= r2");
    check("arsh32 %r1, %r2", "arsh32 %r1, %r2", "w1 s>>= w2");
    check(
        "mov %r1, 0x80000000",
        "mov %r1, 0x80000000",
        "r1 = -0x80000000",
    );
    check("neg %r3", "neg %r3", "r3 = -r3");
    check("neg32 %r3", "neg32 %r3", "w3 = -w3");
    check("be16 %r1", "be16 %r1", "r1 = be16 r1");
    check("le64 %r1", "le64 %r1", "r1 = le64 r1");
    check("swap64 %r1", "bswap64 %r1", "r1 = bswap64 r1");
    check("movsx864 %r1, %r2", "movsx864 %r1, %r2", "r1 = (s8)r2");
    check("movsx1632 %r1, %r2", "movsx1632 %r1, %r2", "w1 = (s16)w2");
    check("movsx3264 %r1, %r2", "movsx3264 %r1, %r2", "r1 = (s32)r2");
    check(
        "ldxh %r2, [%r1+12]",
        "ldxh %r2, [%r1+12]",
        "r2 = *(u16 *)(r1 + 12)",
    );
    check(
        "ldxsb %r2, [%r10-1]",
        "ldxsb %r2, [%r10-1]",
        "r2 = *(s8 *)(r10 - 1)",
    );
    check(
        "ldxdw %r2, [%r1]",
        "ldxdw %r2, [%r1+0]",
        "r2 = *(u64 *)(r1 + 0)",
    );
    check(
        "stxdw [%r10-8], %r1",
        "stxdw [%r10-8], %r1",
        "*(u64 *)(r10 - 8) = r1",
    );
    check(
        "stw [%r10-8], 5",
        "stw [%r10-8], 5",
        "*(u32 *)(r10 - 8) = 5",
    );
    check(
        "lddw %r1, 0x1122334455667788",
        "lddw %r1, 0x1122334455667788",
        "r1 = 0x1122334455667788 ll",
    );
    check(
        "lddw %r1, map:counts",
        "lddw %r1, map:counts",
        "r1 = map[counts] ll",
    );
    check(
        "lddw %r1, map_value:counts+8",
        "lddw %r1, map_value:counts+8",
        "r1 = map_value[counts] + 8 ll",
    );
    check(
        "lock add [%r10-8], %r1",
        "lock add [%r10-8], %r1",
        "lock *(u64 *)(r10 - 8) += r1",
    );
    check(
        "lock xor32 [%r1+4], %r2",
        "lock xor32 [%r1+4], %r2",
        "lock *(u32 *)(r1 + 4) ^= w2",
    );
    check(
        "lock fetch add [%r1+0], %r0",
        "lock fetch add [%r1+0], %r0",
        "r0 = atomic_fetch_add((u64 *)(r1 + 0), r0)",
    );
    check(
        "lock xchg32 [%r10-8], %r1",
        "lock xchg32 [%r10-8], %r1",
        "w1 = xchg32_32(r10 - 8, w1)",
    );
    check(
        "lock cmpxchg [%r10-8], %r1",
        "lock cmpxchg [%r10-8], %r1",
        "r0 = cmpxchg_64(r10 - 8, r0, r1)",
    );
    check(
        "jne %r2, 0x800, +3\nexit\nexit\nexit\nexit",
        "jne %r2, 2048, L4",
        "if r2 != 0x800 goto +3",
    );
    check(
        "jsgt32 %r1, %r2, +0\nexit",
        "jsgt32 %r1, %r2, L1",
        "if w1 s> w2 goto +0",
    );
    check(
        "jset %r1, 1, +0\nexit",
        "jset %r1, 1, L1",
        "if r1 & 1 goto +0",
    );
    check("ja +0\nexit", "ja L1", "goto +0");
    check("may_goto +0\nexit", "may_goto L1", "may_goto +0");
    check("call 1", "call 1", "call 1");
    check("call local +0\nexit", "call local L1", "call pc+0");
    check("call %r2", "call %r2", "callx r2");
    check("exit", "exit", "exit");
}

#[test]
fn backward_jumps_and_gotol() {
    let a = assemble("L0: mov %r0, 0\nja32 L0\njsgt32 %r1, %r2, L0\nexit").unwrap();
    let text = disassemble(&a.insns, &[], Style::Llvm).unwrap();
    assert_eq!(text, "r0 = 0\ngotol -2\nif w1 s> w2 goto -3\nexit\n");
    let text = disassemble(&a.insns, &[], Style::Conformance).unwrap();
    assert_eq!(
        text,
        "L0:\nmov %r0, 0\nja32 L0\njsgt32 %r1, %r2, L0\nexit\n"
    );
    assert_eq!(assemble(&text).unwrap().insns, a.insns);
}

#[test]
fn maps_are_declared_and_checked() {
    let a =
        assemble(".map counts array key=4 value=16 entries=4\nlddw %r1, map_value:counts+4\nexit")
            .unwrap();
    let text = disassemble(&a.insns, &a.maps, Style::Conformance).unwrap();
    assert_eq!(
        text,
        ".map counts array key=4 value=16 entries=4\nlddw %r1, map_value:counts+4\nexit\n"
    );
    let e = disassemble(&a.insns, &[], Style::Llvm).unwrap_err();
    assert!(e.reason.contains("map index 0 out of range"), "{e}");
    // format_op alone falls back to the index.
    let op = isa::decode_one(&a.insns, 0).unwrap();
    assert_eq!(
        format_op(&op, 0, &[], Style::Conformance),
        "lddw %r1, map_value:0+4"
    );
}
