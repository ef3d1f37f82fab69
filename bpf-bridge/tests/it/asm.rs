//! Assembler and disassembler: conformance vectors, every encodable op, and
//! random bytecode, all through assemble → decode → disassemble → assemble.

use bpf_bridge::asm::assemble;
use bpf_bridge::disasm::{disassemble, Style};
use bpf_bridge::isa::{
    self, decode_program, AluOp, AtomicOp, Endian, Insn, JmpOp, Op, Reg, Size, Src, Width,
};
use bpf_bridge::program::{MapDef, MapKind};

/// Re-encodes decoded ops, keeping the JMP32 form of `ja` where the original used it.
fn reencode(ops: &[Op], orig: &[Insn]) -> Vec<Insn> {
    let mut out = Vec::new();
    for (pc, op) in ops.iter().enumerate() {
        match *op {
            Op::Ja { off } if isa::is_gotol(orig[pc]) => out.push(isa::gotol(off)),
            _ => op.encode(&mut out),
        }
    }
    out
}

/// Disassembles `insns` in both styles and re-assembles the conformance text.
#[track_caller]
fn check_round_trip(insns: &[Insn], maps: &[MapDef], what: &str) {
    let text = disassemble(insns, maps, Style::Conformance)
        .unwrap_or_else(|e| panic!("{what}: disassemble: {e}"));
    let again = assemble(&text).unwrap_or_else(|e| panic!("{what}: {e}\n{text}"));
    assert_eq!(again.insns, insns, "{what}:\n{text}");
    assert_eq!(again.maps, maps, "{what}");
    let llvm = disassemble(insns, maps, Style::Llvm).unwrap();
    assert!(llvm.lines().all(|l| !l.is_empty()), "{what}:\n{llvm}");
}

#[test]
fn conformance_vectors_round_trip() {
    let vectors = crate::conformance_vectors();
    let mut decoded = 0;
    for (name, text) in &vectors {
        let src = crate::section(text, "asm").unwrap_or_else(|| panic!("{name}: no asm"));
        let a = assemble(&src).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!a.insns.is_empty(), "{name}");
        match decode_program(&a.insns) {
            Ok(ops) => {
                decoded += 1;
                assert_eq!(reencode(&ops, &a.insns), a.insns, "{name}");
                check_round_trip(&a.insns, &a.maps, name);
            }
            // Vectors of programs that must be rejected still assemble.
            Err(e) => println!("{name}: does not decode ({e})"),
        }
    }
    println!(
        "{decoded} of {} vectors decode and round-trip",
        vectors.len()
    );
    if !vectors.is_empty() {
        assert!(decoded >= vectors.len() - 5, "only {decoded} decode");
    }
}

#[test]
fn conformance_raw_sections_match() {
    let mut seen = 0;
    for (name, text) in crate::conformance_vectors() {
        let Some(raw) = crate::section(&text, "raw") else {
            continue;
        };
        let raw: Vec<u64> = raw
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| u64::from_str_radix(l.trim_start_matches("0x"), 16).unwrap())
            .collect();
        let a = assemble(&crate::section(&text, "asm").unwrap()).unwrap();
        let got: Vec<u64> = a.insns.iter().map(|i| i.to_u64()).collect();
        assert_eq!(got, raw, "{name}");
        seen += 1;
    }
    if crate::conformance_dir().is_some() {
        assert!(seen >= 1, "no vector with a -- raw section");
    }
}

fn maps() -> Vec<MapDef> {
    let def = |name: &str, kind, key_size| MapDef {
        name: name.into(),
        kind,
        key_size,
        value_size: 16,
        max_entries: 8,
    };
    vec![
        def("h", MapKind::Hash, 8),
        def("a", MapKind::Array, 4),
        def("ph", MapKind::PercpuHash, 2),
        def("pa", MapKind::PercpuArray, 4),
    ]
}

/// Every op shape the ISA can encode, with jumps whose targets lie within
/// `-4..=4` slots of a program of 4 exits, the op, and 4 exits.
fn all_ops() -> Vec<Op> {
    let r = |n| Reg::new(n).unwrap();
    let mut ops = Vec::new();
    let alus = [
        AluOp::Add,
        AluOp::Sub,
        AluOp::Mul,
        AluOp::Div,
        AluOp::Sdiv,
        AluOp::Or,
        AluOp::And,
        AluOp::Lsh,
        AluOp::Rsh,
        AluOp::Mod,
        AluOp::Smod,
        AluOp::Xor,
        AluOp::Mov,
        AluOp::Movsx8,
        AluOp::Movsx16,
        AluOp::Movsx32,
        AluOp::Arsh,
    ];
    let srcs = [
        Src::Reg(r(2)),
        Src::Reg(r(10)),
        Src::Imm(0),
        Src::Imm(-3),
        Src::Imm(4096),
        Src::Imm(4097),
        Src::Imm(i32::MAX),
        Src::Imm(i32::MIN),
    ];
    for width in [Width::W32, Width::W64] {
        for op in alus {
            for src in srcs {
                let movsx = matches!(op, AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32);
                if movsx && (matches!(src, Src::Imm(_))) {
                    continue;
                }
                if op == AluOp::Movsx32 && width == Width::W32 {
                    continue;
                }
                ops.push(Op::Alu {
                    width,
                    op,
                    dst: r(9),
                    src,
                });
            }
        }
        ops.push(Op::Neg { width, dst: r(0) });
    }
    for kind in [Endian::Le, Endian::Be, Endian::Swap] {
        for bits in [16, 32, 64] {
            ops.push(Op::Endian {
                kind,
                bits,
                dst: r(1),
            });
        }
    }
    for value in [0, 1, u64::MAX, 0x1122_3344_5566_7788, 0x8000_0000] {
        ops.push(Op::LoadImm64 { dst: r(3), value });
    }
    for map in 0..4 {
        ops.push(Op::LoadMap { dst: r(1), map });
        for offset in [0, 8, u32::MAX] {
            ops.push(Op::LoadMapValue {
                dst: r(2),
                map,
                offset,
            });
        }
    }
    for size in [Size::B, Size::H, Size::W, Size::DW] {
        for off in [0, -8, 12, i16::MIN, i16::MAX] {
            for signed in [false, true] {
                if !(signed && size == Size::DW) {
                    ops.push(Op::Load {
                        size,
                        signed,
                        dst: r(4),
                        base: r(10),
                        off,
                    });
                }
            }
            for src in srcs {
                ops.push(Op::Store {
                    size,
                    base: r(10),
                    off,
                    src,
                });
            }
        }
    }
    let atomics = [
        AtomicOp::Add,
        AtomicOp::Or,
        AtomicOp::And,
        AtomicOp::Xor,
        AtomicOp::Xchg,
        AtomicOp::Cmpxchg,
    ];
    for width in [Width::W32, Width::W64] {
        for op in atomics {
            for fetch in [false, true] {
                if !fetch && matches!(op, AtomicOp::Xchg | AtomicOp::Cmpxchg) {
                    continue;
                }
                ops.push(Op::Atomic {
                    width,
                    op,
                    fetch,
                    base: r(10),
                    off: -8,
                    src: r(1),
                });
            }
        }
    }
    let jmps = [
        JmpOp::Eq,
        JmpOp::Gt,
        JmpOp::Ge,
        JmpOp::Set,
        JmpOp::Ne,
        JmpOp::Sgt,
        JmpOp::Sge,
        JmpOp::Lt,
        JmpOp::Le,
        JmpOp::Slt,
        JmpOp::Sle,
    ];
    for off in [-4i16, -1, 0, 3] {
        for width in [Width::W32, Width::W64] {
            for op in jmps {
                for src in srcs {
                    ops.push(Op::Jmp {
                        width,
                        op,
                        dst: r(5),
                        src,
                        off,
                    });
                }
            }
        }
        ops.push(Op::Ja { off: off as i32 });
        ops.push(Op::MayGoto { off });
        ops.push(Op::CallLocal { off: off as i32 });
    }
    for helper in [0, 1, 5, -1, i32::MAX] {
        ops.push(Op::Call { helper });
    }
    ops.push(Op::CallReg { reg: r(2) });
    ops.push(Op::Exit);
    ops
}

#[test]
fn every_encodable_op_round_trips() {
    let maps = maps();
    let ops = all_ops();
    assert!(ops.len() > 700, "{}", ops.len());
    for op in &ops {
        let mut insns = Vec::new();
        for _ in 0..4 {
            Op::Exit.encode(&mut insns);
        }
        op.encode(&mut insns);
        for _ in 0..4 {
            Op::Exit.encode(&mut insns);
        }
        let decoded = decode_program(&insns).unwrap_or_else(|e| panic!("{op:?}: {e}"));
        assert_eq!(decoded[4], *op);
        check_round_trip(&insns, &maps, &format!("{op:?}"));
    }
    // gotol forms: short (kept by the assembler's ja32) and long.
    for n in [3usize, 40_000] {
        let mut insns = vec![isa::gotol(n as i32)];
        for _ in 0..=n {
            Op::Exit.encode(&mut insns);
        }
        check_round_trip(&insns, &[], &format!("gotol {n}"));
        let long = isa::encode_program(&decode_program(&insns).unwrap());
        assert_eq!(isa::is_gotol(long[0]), n > i16::MAX as usize);
    }
}

/// xorshift64*: deterministic, dependency-free randomness.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A slot that is plausible often enough to decode: a real opcode (or a random
/// byte), small registers and small offsets most of the time.
fn random_slot(rng: &mut Rng, codes: &[u8]) -> Insn {
    let code = if rng.below(8) == 0 {
        rng.next() as u8
    } else {
        codes[rng.below(codes.len() as u64) as usize]
    };
    let regs = match rng.below(8) {
        0 => rng.next() as u8,
        1..=4 => rng.below(11) as u8,
        _ => (rng.below(11) as u8) | ((rng.below(11) as u8) << 4),
    };
    let off = match rng.below(10) {
        0..=4 => 0,
        5..=7 => rng.below(4) as i16,
        8 => -(rng.below(3) as i16),
        _ => rng.next() as i16,
    };
    let imm = match rng.below(10) {
        0..=2 => 0,
        3..=4 => rng.below(4) as i32,
        5..=7 => [16, 32, 64, 1, 8, 0xe1, 0xf1, 0x41][rng.below(8) as usize],
        _ => rng.next() as i32,
    };
    Insn {
        code,
        regs,
        off,
        imm,
    }
}

#[test]
fn random_bytecode_never_panics_and_round_trips() {
    let codes: Vec<u8> = {
        let mut v = Vec::new();
        for op in all_ops() {
            op.encode(&mut v);
        }
        let mut codes: Vec<u8> = v.iter().map(|i| i.code).collect();
        codes.push(0);
        codes.sort();
        codes.dedup();
        codes
    };
    let maps = maps();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut ok, mut total) = (0, 0);
    for _ in 0..200_000 {
        let len = 1 + rng.below(6) as usize;
        let mut insns: Vec<Insn> = (0..len).map(|_| random_slot(&mut rng, &codes)).collect();
        if rng.below(8) != 0 {
            Op::Exit.encode(&mut insns);
        }
        total += 1;
        let Ok(ops) = decode_program(&insns) else {
            continue;
        };
        ok += 1;
        assert_eq!(reencode(&ops, &insns), insns, "{insns:?}");
        match disassemble(&insns, &maps, Style::Conformance) {
            Ok(text) => {
                let a = assemble(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                assert_eq!(a.insns, insns, "{text}");
            }
            Err(e) => assert!(e.reason.contains("map index"), "{e}"),
        }
    }
    println!("{ok} of {total} random programs decoded");
    assert!(ok > 5000, "only {ok} decoded");
}

#[test]
fn random_text_never_panics() {
    let pieces = [
        "mov",
        "add32",
        "lddw",
        "ja",
        "ja32",
        "jeq",
        "lock",
        "fetch",
        "xchg",
        "call",
        "local",
        "exit",
        ".map",
        "m",
        "hash",
        "key=",
        "map:",
        "map_value:",
        "%r1",
        "%r10",
        "%r99",
        "[",
        "]",
        "+",
        "-",
        ",",
        ":",
        "0x",
        "0xffffffffffffffffff",
        "12",
        "-8",
        "L:",
        "L",
        "#",
        "\n",
        "ldxh",
        "stb",
        "movsx832",
        "be16",
        "=",
        "entries",
        "é",
        "\t",
    ];
    let mut rng = Rng(42);
    for _ in 0..20_000 {
        let n = 1 + rng.below(12);
        let mut text = String::new();
        for _ in 0..n {
            text.push_str(pieces[rng.below(pieces.len() as u64) as usize]);
            if rng.below(3) != 0 {
                text.push(' ');
            }
        }
        if let Err(e) = assemble(&text) {
            assert!(e.line >= 1 && e.col >= 1, "{e}");
            let line = text.lines().nth(e.line - 1).unwrap_or("");
            assert!(e.col <= line.chars().count() + 1, "{e}: {text:?}");
        }
    }
}
