//! Unit tests on programs built from `Op` lists.

use super::state::{Byte, Frame, Kind, RegState, Slot, State};
use super::*;
use crate::isa::{encode_program, AluOp, AtomicOp, JmpOp, Op, Reg, Size, Src, Width};
use crate::program::{helper_id, MapDef, MapKind, ProgType, Program};

const R0: Reg = Reg::R0;
const R1: Reg = Reg::R1;
const R2: Reg = Reg::R2;
const R3: Reg = Reg::R3;
const R4: Reg = Reg::R4;
const R10: Reg = Reg::R10;

fn mov(dst: Reg, imm: i32) -> Op {
    Op::Alu {
        width: Width::W64,
        op: AluOp::Mov,
        dst,
        src: Src::Imm(imm),
    }
}
fn movr(dst: Reg, src: Reg) -> Op {
    Op::Alu {
        width: Width::W64,
        op: AluOp::Mov,
        dst,
        src: Src::Reg(src),
    }
}
fn alu(op: AluOp, dst: Reg, imm: i32) -> Op {
    Op::Alu {
        width: Width::W64,
        op,
        dst,
        src: Src::Imm(imm),
    }
}
fn alur(op: AluOp, dst: Reg, src: Reg) -> Op {
    Op::Alu {
        width: Width::W64,
        op,
        dst,
        src: Src::Reg(src),
    }
}
fn ldx(size: Size, dst: Reg, base: Reg, off: i16) -> Op {
    Op::Load {
        size,
        signed: false,
        dst,
        base,
        off,
    }
}
fn stx(size: Size, base: Reg, off: i16, src: Reg) -> Op {
    Op::Store {
        size,
        base,
        off,
        src: Src::Reg(src),
    }
}
fn st(size: Size, base: Reg, off: i16, imm: i32) -> Op {
    Op::Store {
        size,
        base,
        off,
        src: Src::Imm(imm),
    }
}
fn jr(op: JmpOp, dst: Reg, src: Reg, off: i16) -> Op {
    Op::Jmp {
        width: Width::W64,
        op,
        dst,
        src: Src::Reg(src),
        off,
    }
}
fn ji(op: JmpOp, dst: Reg, imm: i32, off: i16) -> Op {
    Op::Jmp {
        width: Width::W64,
        op,
        dst,
        src: Src::Imm(imm),
        off,
    }
}
const EXIT: Op = Op::Exit;

fn program(ty: ProgType, ops: &[Op]) -> Program {
    let mut full = Vec::new();
    for op in ops {
        if *op != Op::LddwHigh {
            full.push(*op);
        }
    }
    let mut p = Program::new("t", ty, encode_program(&full));
    p.maps.push(MapDef {
        name: "hash".into(),
        kind: MapKind::Hash,
        key_size: 4,
        value_size: 8,
        max_entries: 16,
    });
    p.maps.push(MapDef {
        name: "arr".into(),
        kind: MapKind::Array,
        key_size: 4,
        value_size: 16,
        max_entries: 4,
    });
    p
}

#[track_caller]
fn accept(ty: ProgType, ops: &[Op]) -> Verified {
    match verify(&program(ty, ops)) {
        Ok(v) => v,
        Err(e) => panic!("rejected: {e}"),
    }
}

#[track_caller]
fn reject(ty: ProgType, ops: &[Op], rule: Rule) -> VerifyError {
    match verify(&program(ty, ops)) {
        Ok(v) => panic!("accepted: {v}"),
        Err(e) => {
            assert_eq!(e.rule, rule, "{e}");
            e
        }
    }
}

const XDP: ProgType = ProgType::Xdp;
const RAW: ProgType = ProgType::Raw;

/// r2 = data, r3 = data_end, r4 = data + n; if r4 > r3 goto exit(+k)
fn pkt_prologue(n: i32) -> Vec<Op> {
    vec![
        ldx(Size::W, R2, R1, 0),
        ldx(Size::W, R3, R1, 4),
        movr(R4, R2),
        alu(AluOp::Add, R4, n),
    ]
}

#[test]
fn simplest_programs() {
    let v = accept(XDP, &[mov(R0, 2), EXIT]);
    assert_eq!(v.stats.worst_case_path, Some(2));
    reject(XDP, &[EXIT], Rule::UninitReg);
    reject(XDP, &[movr(R0, R1), EXIT], Rule::PointerLeak);
    reject(XDP, &[mov(R0, 1)], Rule::Structure);
}

#[test]
fn packet_bounds() {
    let mut ok = pkt_prologue(14);
    ok.extend([
        jr(JmpOp::Gt, R4, R3, 2),
        ldx(Size::B, R0, R2, 13),
        EXIT,
        mov(R0, 0),
        EXIT,
    ]);
    let v = accept(XDP, &ok);
    assert_eq!(
        v.facts.accesses[0],
        crate::facts::Access::Ctx(crate::facts::CtxField::XdpData)
    );
    assert_eq!(v.facts.accesses[5], crate::facts::Access::Proven);
    let mut bad = pkt_prologue(14);
    bad.extend([
        jr(JmpOp::Gt, R4, R3, 2),
        ldx(Size::B, R0, R2, 14),
        EXIT,
        mov(R0, 0),
        EXIT,
    ]);
    reject(XDP, &bad, Rule::MemAccess);
    // Reversed comparison: data_end > data + 14 gives 15 bytes... checked via `<` form.
    let mut lt = pkt_prologue(14);
    lt.extend([
        jr(JmpOp::Lt, R3, R4, 2),
        ldx(Size::H, R0, R2, 12),
        EXIT,
        mov(R0, 0),
        EXIT,
    ]);
    accept(XDP, &lt);
    // Without any check.
    reject(
        XDP,
        &[ldx(Size::W, R2, R1, 0), ldx(Size::B, R0, R2, 0), EXIT],
        Rule::MemAccess,
    );
}

#[test]
fn variable_packet_offset_after_mask() {
    let mut p = pkt_prologue(64);
    p.extend([
        jr(JmpOp::Gt, R4, R3, 7),
        ldx(Size::B, R0, R2, 0),
        alu(AluOp::And, R0, 0x1f),
        alur(AluOp::Add, R2, R0),
        movr(R4, R2),
        alu(AluOp::Add, R4, 4),
        jr(JmpOp::Gt, R4, R3, 1),
        ldx(Size::W, R0, R2, 0),
        mov(R0, 0),
        EXIT,
    ]);
    // the jump at index 10 lands on mov r0, 0 (index 12)
    accept(XDP, &p);
}

#[test]
fn ctx_rules() {
    reject(XDP, &[ldx(Size::DW, R0, R1, 0), EXIT], Rule::MemAccess);
    reject(XDP, &[ldx(Size::W, R0, R1, 2), EXIT], Rule::MemAccess);
    reject(
        XDP,
        &[st(Size::W, R1, 12, 0), mov(R0, 0), EXIT],
        Rule::MemAccess,
    );
    reject(
        XDP,
        &[alu(AluOp::Add, R1, 4), ldx(Size::W, R0, R1, 0), EXIT],
        Rule::PointerArith,
    );
    accept(XDP, &[ldx(Size::W, R0, R1, 12), EXIT]);
}

#[test]
fn stack_rules() {
    accept(
        XDP,
        &[st(Size::DW, R10, -8, 7), ldx(Size::DW, R0, R10, -8), EXIT],
    );
    reject(XDP, &[ldx(Size::DW, R0, R10, -8), EXIT], Rule::UninitStack);
    reject(
        XDP,
        &[st(Size::W, R10, -6, 7), mov(R0, 0), EXIT],
        Rule::MemAccess,
    );
    reject(
        XDP,
        &[st(Size::B, R10, -513, 7), mov(R0, 0), EXIT],
        Rule::MemAccess,
    );
    reject(
        XDP,
        &[st(Size::B, R10, 0, 7), mov(R0, 0), EXIT],
        Rule::MemAccess,
    );
    // Spill and fill of the context pointer keeps its type.
    accept(
        XDP,
        &[
            stx(Size::DW, R10, -8, R1),
            ldx(Size::DW, R2, R10, -8),
            ldx(Size::W, R0, R2, 12),
            EXIT,
        ],
    );
    // Partial fill of a spilled pointer.
    reject(
        XDP,
        &[stx(Size::DW, R10, -8, R1), ldx(Size::W, R0, R10, -8), EXIT],
        Rule::MemAccess,
    );
    // Narrow pointer spill.
    reject(
        XDP,
        &[stx(Size::W, R10, -8, R1), mov(R0, 0), EXIT],
        Rule::PointerLeak,
    );
    // A constant spilled and read back by halves.
    let v = accept(
        XDP,
        &[
            Op::LoadImm64 {
                dst: R2,
                value: 0x0000_0005_0000_0003,
            },
            Op::LddwHigh,
            stx(Size::DW, R10, -8, R2),
            ldx(Size::W, R0, R10, -4),
            ji(JmpOp::Eq, R0, 5, 1),
            ldx(Size::DW, R0, R1, 0), // dead: would be rejected
            EXIT,
        ],
    );
    assert_eq!(v.facts.accesses[5], crate::facts::Access::Check);
    assert_eq!(v.stats.max_stack, 8);
}

#[test]
fn immediate_rules() {
    reject(
        XDP,
        &[mov(R0, 1), alu(AluOp::Div, R0, 0), EXIT],
        Rule::DivByZero,
    );
    reject(
        XDP,
        &[mov(R0, 1), alu(AluOp::Lsh, R0, 64), EXIT],
        Rule::ShiftRange,
    );
    reject(
        XDP,
        &[
            mov(R0, 1),
            Op::Alu {
                width: Width::W32,
                op: AluOp::Rsh,
                dst: R0,
                src: Src::Imm(32),
            },
            EXIT,
        ],
        Rule::ShiftRange,
    );
    reject(XDP, &[Op::Call { helper: 99 }, EXIT], Rule::UnknownHelper);
    reject(
        XDP,
        &[mov(R0, 0), Op::Ja { off: 1 }, mov(R0, 1), EXIT],
        Rule::Unreachable,
    );
}

fn lookup_prologue() -> Vec<Op> {
    vec![
        st(Size::W, R10, -4, 1),
        Op::LoadMap { dst: R1, map: 0 },
        Op::LddwHigh,
        movr(R2, R10),
        alu(AluOp::Add, R2, -4),
        Op::Call {
            helper: helper_id::MAP_LOOKUP_ELEM,
        },
    ]
}

#[test]
fn map_lookup_needs_null_check() {
    let mut ok = lookup_prologue();
    ok.extend([
        ji(JmpOp::Eq, R0, 0, 2),
        movr(R1, R0),
        ldx(Size::DW, R0, R1, 0),
        EXIT,
    ]);
    // the jump target (EXIT) sees r0 = 0 there.
    accept(XDP, &ok);
    let mut bad = lookup_prologue();
    bad.extend([ldx(Size::DW, R0, R0, 0), EXIT]);
    reject(XDP, &bad, Rule::MemAccess);
    let mut oob = lookup_prologue();
    oob.extend([ji(JmpOp::Eq, R0, 0, 1), ldx(Size::DW, R0, R0, 4), EXIT]);
    reject(XDP, &oob, Rule::MemAccess);
    // Uninitialised key.
    reject(
        XDP,
        &[
            Op::LoadMap { dst: R1, map: 0 },
            Op::LddwHigh,
            movr(R2, R10),
            alu(AluOp::Add, R2, -4),
            Op::Call { helper: 1 },
            mov(R0, 0),
            EXIT,
        ],
        Rule::UninitStack,
    );
    // Map pointer where a number is expected.
    let mut leak = lookup_prologue();
    leak.extend([
        ji(JmpOp::Eq, R0, 0, 3),
        Op::LoadMap { dst: R1, map: 0 },
        Op::LddwHigh,
        stx(Size::DW, R0, 0, R1),
        mov(R0, 0),
        EXIT,
    ]);
    reject(XDP, &leak, Rule::PointerLeak);
}

#[test]
fn bounded_loop_and_worst_case() {
    // r1 = 0; loop: r1 += 1; if r1 < 10 goto loop; r0 = r1; exit
    let v = accept(
        XDP,
        &[
            mov(R1, 0),
            alu(AluOp::Add, R1, 1),
            ji(JmpOp::Lt, R1, 10, -2),
            movr(R0, R1),
            EXIT,
        ],
    );
    assert_eq!(v.stats.worst_case_path, Some(1 + 20 + 2));
    reject(
        XDP,
        &[
            mov(R1, 0),
            alu(AluOp::Add, R1, 0),
            ji(JmpOp::Lt, R1, 10, -2),
            movr(R0, R1),
            EXIT,
        ],
        Rule::InfiniteLoop,
    );
    let cfg = VerifierConfig {
        max_processed: 10_000,
        ..VerifierConfig::default()
    };
    let p = program(
        XDP,
        &[
            mov(R1, 0),
            alu(AluOp::Add, R1, 1),
            ji(JmpOp::Ne, R1, 0, -2),
            movr(R0, R1),
            EXIT,
        ],
    );
    assert_eq!(verify_with(&p, &cfg).unwrap_err().rule, Rule::TooComplex);
}

#[test]
fn may_goto_loop() {
    // r1 = 0; loop: may_goto +2; r1 += 1; ja loop; r0 = r1; exit
    let v = accept(
        XDP,
        &[
            mov(R1, 0),
            Op::MayGoto { off: 2 },
            alu(AluOp::Add, R1, 1),
            Op::Ja { off: -3 },
            movr(R0, R1),
            EXIT,
        ],
    );
    assert_eq!(v.stats.worst_case_path, None);
}

#[test]
fn local_calls() {
    // main: r1 = 5; call f; exit   f: r0 = r1; r0 += 1; exit
    accept(
        XDP,
        &[
            mov(R1, 5),
            Op::CallLocal { off: 1 },
            EXIT,
            movr(R0, R1),
            alu(AluOp::Add, R0, 1),
            EXIT,
        ],
    );
    // recursion
    reject(
        XDP,
        &[
            Op::CallLocal { off: 1 },
            EXIT,
            Op::CallLocal { off: -1 },
            EXIT,
        ],
        Rule::Calls,
    );
    // callee returns its stack
    reject(
        XDP,
        &[
            Op::CallLocal { off: 2 },
            mov(R0, 0),
            EXIT,
            movr(R0, R10),
            EXIT,
        ],
        Rule::PointerLeak,
    );
}

#[test]
fn atomics_and_jmp32() {
    accept(
        XDP,
        &[
            st(Size::DW, R10, -8, 1),
            mov(R1, 2),
            Op::Atomic {
                width: Width::W64,
                op: AtomicOp::Add,
                fetch: true,
                base: R10,
                off: -8,
                src: R1,
            },
            movr(R0, R1),
            EXIT,
        ],
    );
    reject(
        XDP,
        &[
            mov(R1, 2),
            Op::Atomic {
                width: Width::W64,
                op: AtomicOp::Add,
                fetch: false,
                base: R10,
                off: -8,
                src: R1,
            },
            mov(R0, 0),
            EXIT,
        ],
        Rule::UninitStack,
    );
    // jmp32 refinement bounds the low half, then the shift keeps it small.
    let mut p = pkt_prologue(300);
    p.extend([
        jr(JmpOp::Gt, R4, R3, 8),
        ldx(Size::W, R0, R2, 0),
        Op::Jmp {
            width: Width::W32,
            op: JmpOp::Gt,
            dst: R0,
            src: Src::Imm(200),
            off: 6,
        },
        alur(AluOp::Add, R2, R0),
        movr(R4, R2),
        alu(AluOp::Add, R4, 1),
        jr(JmpOp::Gt, R4, R3, 2),
        ldx(Size::B, R0, R2, 0),
        EXIT,
        mov(R0, 0),
        EXIT,
    ]);
    accept(XDP, &p);
}

#[test]
fn raw_programs() {
    // if r2 < 8 goto out; r0 = *(u64 *)(r1 + 0); exit; out: r0 = 0; exit
    accept(
        RAW,
        &[
            ji(JmpOp::Lt, R2, 8, 2),
            ldx(Size::DW, R0, R1, 0),
            EXIT,
            mov(R0, 0),
            EXIT,
        ],
    );
    reject(
        RAW,
        &[
            ji(JmpOp::Lt, R2, 4, 2),
            ldx(Size::DW, R0, R1, 0),
            EXIT,
            mov(R0, 0),
            EXIT,
        ],
        Rule::MemAccess,
    );
    // end pointer idiom
    accept(
        RAW,
        &[
            movr(R3, R1),
            alur(AluOp::Add, R3, R2),
            movr(R4, R1),
            alu(AluOp::Add, R4, 4),
            jr(JmpOp::Gt, R4, R3, 2),
            ldx(Size::W, R0, R1, 0),
            EXIT,
            mov(R0, 0),
            EXIT,
        ],
    );
}

#[test]
fn error_display_and_json() {
    let e = reject(
        XDP,
        &[ldx(Size::W, R2, R1, 0), ldx(Size::B, R0, R2, 0), EXIT],
        Rule::MemAccess,
    );
    let s = e.to_string();
    assert!(s.starts_with("insn 1: mem-access:"), "{s}");
    assert!(s.contains("R2=pkt(off=0,r=0)"), "{s}");
    assert_eq!(e.to_json()["insn"], 1);
    let mut p = program(
        XDP,
        &[ldx(Size::W, R2, R1, 0), ldx(Size::B, R0, R2, 0), EXIT],
    );
    p.source = Some(crate::program::SourceMap {
        file: "f.lua".into(),
        text: String::new(),
        lines: vec![
            crate::program::LineInfo {
                insn: 0,
                line: 3,
                col: 1,
            },
            crate::program::LineInfo {
                insn: 1,
                line: 4,
                col: 1,
            },
        ],
    });
    let e = verify(&p).unwrap_err();
    assert!(e.to_string().starts_with("f.lua:4: insn 1"), "{e}");
}

/// A full spill links the slot with the register (as the kernel does since
/// 6.8): a bound learnt on a fill holds for the slot and every later fill, but
/// not once the register has been changed.
#[test]
fn spill_links_scalar_ids() {
    let r5 = Reg::R5;
    let r6 = Reg::R6;
    let prog = |changed: bool| {
        let mut v = vec![
            movr(r6, R1),
            Op::Call { helper: 5 },
            stx(Size::DW, R10, -8, R0),
        ];
        if changed {
            v.push(alu(AluOp::Add, R0, 1));
            v.push(ji(JmpOp::Gt, R0, 64, 9));
        } else {
            v.push(ldx(Size::DW, r5, R10, -8));
            v.push(ji(JmpOp::Gt, r5, 64, 9));
        }
        v.extend([
            ldx(Size::W, R2, r6, 0),
            ldx(Size::W, R3, r6, 4),
            ldx(Size::DW, R4, R10, -8),
            alur(AluOp::Add, R2, R4),
            movr(R4, R2),
            alu(AluOp::Add, R4, 1),
            jr(JmpOp::Gt, R4, R3, 2),
            ldx(Size::B, R0, R2, 0),
            EXIT,
            mov(R0, 1),
            EXIT,
        ]);
        v
    };
    accept(XDP, &prog(false));
    reject(XDP, &prog(true), Rule::PointerArith);
}

/// Widening at a may_goto forgets a scalar's bounds but keeps its id: the
/// spill and its fills stay equal, so a bound on one still bounds the others.
#[test]
fn widen_keeps_scalar_ids() {
    let mut old = State::with_frames(vec![Frame::new(0, 0)]);
    let mut cur = old.clone();
    let linked = |hi: u64| RegState {
        id: 7,
        ..RegState::scalar(Scalar::urange(0, hi))
    };
    old.frames[0].regs[3] = linked(10);
    cur.frames[0].regs[3] = linked(20);
    *cur.frames[0].slot_mut(-8) = Slot {
        bytes: [Byte::Spill; 8],
        spill: linked(20),
    };
    *old.frames[0].slot_mut(-8) = Slot {
        bytes: [Byte::Spill; 8],
        spill: linked(10),
    };
    prune::widen(&old.frames, &mut cur, None);
    let r = cur.frames[0].regs[3];
    assert_eq!((r.kind, r.var, r.id), (Kind::Scalar, Scalar::UNKNOWN, 7));
    let s = cur.frames[0].stack[0].spill;
    assert_eq!((s.var, s.id), (Scalar::UNKNOWN, 7));
    // Contained values stay as they are.
    old.frames[0].regs[4] = linked(30);
    cur.frames[0].regs[4] = linked(20);
    prune::widen(&old.frames, &mut cur, None);
    assert_eq!(cur.frames[0].regs[4], linked(20));
}

/// Sixteen diamonds adding different numbers to a scalar that never matters
/// for safety: imprecise, so each join prunes the second path (linear work,
/// not 65,536 paths); the same scalar used as a packet offset is precise and
/// its out-of-bounds value on the last path is found.
#[test]
fn imprecise_scalars_prune_precise_ones_do_not() {
    let prog = |use_as_offset: bool| {
        let mut text = String::from(
            "mov %r9, %r1\ncall 7\nmov %r6, %r0\nmov %r7, 0\nldxw %r2, [%r9+0]\nldxw %r3, [%r9+4]\n",
        );
        for i in 0..16 {
            // The first path walked (no jump taken) keeps 0.
            text += &format!(
                "jset %r6, {}, t{i}\nja a{i}\nt{i}:\nadd %r7, 1\na{i}:\n",
                1u32 << i
            );
        }
        if use_as_offset {
            // Up to 16: one past the 16 bytes proven.
            text += "mov %r4, %r2\nadd %r4, 16\njgt %r4, %r3, out\nadd %r2, %r7\nldxb %r0, [%r2+0]\nexit\n";
            text += "out:\nmov %r0, 1\nexit\n";
        } else {
            text += "mov %r0, %r7\nand %r0, 3\nexit\n";
        }
        crate::asm::assemble(&text)
            .expect("assembles")
            .into_program("t", XDP)
    };
    let v = verify(&prog(false)).expect("accepted");
    assert!(v.stats.processed < 400, "{}", v.stats);
    let e = verify(&prog(true)).expect_err("offset 16 is out of bounds");
    assert_eq!(e.rule, Rule::MemAccess, "{e}");
}
