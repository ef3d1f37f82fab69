use super::*;
use crate::program::MapKind;

/// Assembles `text` and compares each slot with `expected` (little-endian u64s,
/// the conformance `-- raw` form).
#[track_caller]
fn check(text: &str, expected: &[u64]) {
    let got: Vec<u64> = match assemble(text) {
        Ok(a) => a.insns.iter().map(|i| i.to_u64()).collect(),
        Err(e) => panic!("{text:?}: {e}"),
    };
    let fmt = |v: &[u64]| v.iter().map(|x| format!("{x:#018x}")).collect::<Vec<_>>();
    assert_eq!(fmt(&got), fmt(expected), "{text:?}");
}

/// Asserts that `text` fails at `line:col` with a message containing `needle`.
#[track_caller]
fn check_err(text: &str, line: usize, col: usize, needle: &str) {
    match assemble(text) {
        Ok(a) => panic!("{text:?} assembled to {:?}", a.insns),
        Err(e) => {
            assert_eq!((e.line, e.col), (line, col), "{text:?}: {e}");
            assert!(e.message.contains(needle), "{text:?}: {e}");
            assert_eq!(e.to_string(), format!("{line}:{col}: {}", e.message));
        }
    }
}

#[test]
fn alu_forms() {
    check("mov %r0, 1", &[0x0000_0001_0000_00b7]);
    check("mov32 %r0, -3", &[0xffff_fffd_0000_00b4]);
    check("add32 %r0, -3", &[0xffff_fffd_0000_0004]);
    check("add %r1, %r2", &[0x0000_0000_0000_210f]);
    check("mov32 %r1, 0xffffffff", &[0xffff_ffff_0000_01b4]);
    check("sdiv %r1, 3", &[0x0000_0003_0001_0137]);
    check("smod32 %r1, %r2", &[0x0000_0000_0001_219c]);
    check("neg %r3", &[0x0000_0000_0000_0387]);
    check("neg32 %r3", &[0x0000_0000_0000_0384]);
    check("movsx832 %r0, %r1", &[0x0000_0000_0008_10bc]);
    check("movsx3264 %r0, %r1", &[0x0000_0000_0020_10bf]);
}

#[test]
fn endian_forms() {
    check("be16 %r1", &[0x0000_0010_0000_01dc]);
    check("le32 %r1", &[0x0000_0020_0000_01d4]);
    check("swap64 %r1", &[0x0000_0040_0000_01d7]);
    check("bswap16 %r1", &[0x0000_0010_0000_01d7]);
}

#[test]
fn memory_forms() {
    check("ldxh %r2, [%r1+12]", &[0x0000_0000_000c_1269]);
    check("ldxsb %r0, [%r10-1]", &[0x0000_0000_ffff_a091]);
    check("ldxdw %r0, [%r1]", &[0x0000_0000_0000_1079]);
    check("stxdw [%r10-8], %r0", &[0x0000_0000_fff8_0a7b]);
    check("stb [%r1+2], 0x11", &[0x0000_0011_0002_0172]);
    check("lock add [%r10-8], %r1", &[0x0000_0000_fff8_1adb]);
    check("lock fetch add32 [%r10-4], %r1", &[0x0000_0001_fffc_1ac3]);
    check("lock fetch_add [%r10-8], %r1", &[0x0000_0001_fff8_1adb]);
    check("lock xchg [%r10-8], %r1", &[0x0000_00e1_fff8_1adb]);
    check("lock cmpxchg32 [%r10-8], %r1", &[0x0000_00f1_fff8_1ac3]);
}

#[test]
fn lddw_and_maps() {
    check(
        "lddw %r0, 0x1122334455667788\nexit",
        &[0x5566778800000018, 0x1122334400000000, 0x95],
    );
    check(
        "lddw %r0, -1",
        &[0xffff_ffff_0000_0018, 0xffff_ffff_0000_0000],
    );
    let a = assemble(
        ".map counts hash key=4 value=8 entries=16\n\
         .map arr array key=4 value=16 entries=4\n\
         lddw %r1, map:arr\n\
         lddw %r2, map_value:arr+8\n\
         lddw %r3, map:0\n\
         exit",
    )
    .unwrap();
    assert_eq!(a.maps.len(), 2);
    assert_eq!(a.maps[0].kind, MapKind::Hash);
    assert_eq!(a.maps[1].value_size, 16);
    let ops = isa::decode_program(&a.insns).unwrap();
    assert_eq!(
        ops[0],
        Op::LoadMap {
            dst: isa::Reg::R1,
            map: 1
        }
    );
    assert_eq!(
        ops[2],
        Op::LoadMapValue {
            dst: isa::Reg::R2,
            map: 1,
            offset: 8
        }
    );
    assert_eq!(
        ops[4],
        Op::LoadMap {
            dst: isa::Reg::R3,
            map: 0
        }
    );
    let p = a.into_program("p", ProgType::Xdp);
    assert_eq!(p.maps.len(), 2);
}

#[test]
fn jumps_and_labels() {
    let text = "mov %r0, 0\n\
                jne %r0, 15, failed # trailing comment\n\
                ja +1\n\
                failed: exit\n\
                jeq32 %r1, %r2, -2\n\
                exit";
    check(
        text,
        &[
            0x0000_0000_0000_00b7,
            0x0000_000f_0001_0055,
            0x0000_0000_0001_0005,
            0x95,
            0x0000_0000_fffe_211e,
            0x95,
        ],
    );
    // `exit` names the first exit instruction unless defined as a label.
    check(
        "jeq %r1, 0xb, exit\nmov %r0, 1\nexit\nexit",
        &[0x0000_000b_0001_0115, 0x0000_0001_0000_00b7, 0x95, 0x95],
    );
    // ja32 keeps the JMP32 form even for short jumps.
    check("ja32 L\nL:\nexit", &[0x0000_0000_0000_0006, 0x95]);
    check(
        "call local f\nexit\nf: exit",
        &[0x0000_0001_0000_1085, 0x95, 0x95],
    );
    check("call 5", &[0x0000_0005_0000_0085]);
    check("call %r2", &[0x0000_0000_0000_028d]);
    check("may_goto +3", &[0x0000_0000_0003_00e5]);
    // lddw takes two slots for label arithmetic.
    check(
        "ja L\nlddw %r0, 1\nL: exit",
        &[0x0000_0000_0002_0005, 0x0000_0001_0000_0018, 0, 0x95],
    );
}

#[test]
fn blank_and_comment_lines() {
    check("\n  # nothing\n\nexit # done\n", &[0x95]);
    let a = assemble("\n\nmov %r0, 1\nexit").unwrap();
    assert_eq!(a.lines[0].line, 3);
    assert_eq!(a.lines[1].insn, 1);
}

#[test]
fn positioned_errors() {
    check_err("exit\nfrob %r0", 2, 1, "unknown mnemonic frob");
    check_err("mov %r11, 1", 1, 5, "bad register");
    check_err("mov %r0, 0x100000000", 1, 10, "32 bits");
    check_err("mov %r0, -2147483649", 1, 10, "32 bits");
    check_err("ja nowhere", 1, 4, "unknown label nowhere");
    check_err("a:\na:\nexit", 2, 1, "duplicate label a");
    check_err("ldxw %r0, [%r1+32768]", 1, 15, "out of range");
    check_err("ja +40000", 1, 4, "16 bits");
    check_err("mov %r0", 1, 8, "expected `,`");
    check_err("mov %r0, 1, 2", 1, 11, "unexpected");
    check_err("mov %r10, 1", 1, 1, "read-only frame pointer");
    check_err("lddw %r1, map:nope", 1, 15, "unknown map nope");
    check_err("lddw %r1, map:3", 1, 15, "out of range");
    check_err(".map m array key=8 value=4 entries=1", 1, 18, "4-byte keys");
    check_err(".map m hash key=4 value=4", 1, 26, "missing entries");
    check_err(
        ".map m tree key=4 value=4 entries=1",
        1,
        8,
        "unknown map kind",
    );
    check_err(
        ".map m hash key=4 value=4 entries=1\n.map m hash key=4 value=4 entries=1",
        2,
        6,
        "twice",
    );
    check_err(".frob", 1, 1, "unknown directive");
    check_err("lock nand [%r1], %r2", 1, 6, "unknown atomic");
    check_err("stxw [%r1+2], 5", 1, 15, "expected a register");
    check_err("jeq %r1, 1", 1, 11, "expected `,`");
    check_err("lddw %r1, 0x1ffffffffffffffff", 1, 11, "64 bits");
    check_err("mov 5, %r1", 1, 5, "expected a register");
    check_err(", x", 1, 1, "expected a mnemonic");
}

#[test]
fn jump_offsets_out_of_range_through_labels() {
    let mut text = String::from("jeq %r0, 0, far\n");
    for _ in 0..33000 {
        text.push_str("mov %r0, 0\n");
    }
    text.push_str("far: exit\n");
    check_err(&text, 1, 13, "does not fit in 16 bits");
    // The same distance is fine for ja32.
    let text = text.replacen("jeq %r0, 0, far", "ja32 far", 1);
    let a = assemble(&text).unwrap();
    assert_eq!(a.insns[0].imm, 33000);
}
