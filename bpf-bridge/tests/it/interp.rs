//! The project's own ISA, memory, helper and map tests for the interpreter, in
//! both modes. Independent of the bpf_conformance vectors.

use bpf_bridge::engine::{run_capture, Engine, Fault, FaultKind};
use bpf_bridge::facts::{Access, CtxField, Facts};
use bpf_bridge::interp::{InterpEngine, Interpreter, Mode, MAY_GOTO_BUDGET};
use bpf_bridge::isa::{
    encode_program, AluOp, AtomicOp, Endian, Insn, JmpOp, Op, Reg, Size, Src, Width,
};
use bpf_bridge::maps::{errno, flags, MapSet};
use bpf_bridge::program::{helper_id, MapDef, MapKind, ProgType, Program};
use std::io::Write;
use std::sync::{Arc, Mutex};

fn r(n: u8) -> Reg {
    Reg::new(n).unwrap()
}
fn alu(width: Width, op: AluOp, d: u8, imm: i32) -> Op {
    Op::Alu {
        width,
        op,
        dst: r(d),
        src: Src::Imm(imm),
    }
}
fn alur(width: Width, op: AluOp, d: u8, s: u8) -> Op {
    Op::Alu {
        width,
        op,
        dst: r(d),
        src: Src::Reg(r(s)),
    }
}
fn a64(op: AluOp, d: u8, imm: i32) -> Op {
    alu(Width::W64, op, d, imm)
}
fn a32(op: AluOp, d: u8, imm: i32) -> Op {
    alu(Width::W32, op, d, imm)
}
fn mov(d: u8, imm: i32) -> Op {
    a64(AluOp::Mov, d, imm)
}
fn movr(d: u8, s: u8) -> Op {
    alur(Width::W64, AluOp::Mov, d, s)
}
fn lddw(d: u8, value: u64) -> Op {
    Op::LoadImm64 { dst: r(d), value }
}
fn ldx(size: Size, d: u8, base: u8, off: i16) -> Op {
    Op::Load {
        size,
        signed: false,
        dst: r(d),
        base: r(base),
        off,
    }
}
fn stx(size: Size, base: u8, off: i16, s: u8) -> Op {
    Op::Store {
        size,
        base: r(base),
        off,
        src: Src::Reg(r(s)),
    }
}
fn st(size: Size, base: u8, off: i16, imm: i32) -> Op {
    Op::Store {
        size,
        base: r(base),
        off,
        src: Src::Imm(imm),
    }
}
fn jmp(op: JmpOp, d: u8, imm: i32, off: i16) -> Op {
    Op::Jmp {
        width: Width::W64,
        op,
        dst: r(d),
        src: Src::Imm(imm),
        off,
    }
}
fn call(helper: i32) -> Op {
    Op::Call { helper }
}
const EXIT: Op = Op::Exit;

fn program(ty: ProgType, ops: &[Op]) -> Program {
    Program::new("t", ty, encode_program(ops))
}

/// Facts marking every memory access `Check` except those listed.
fn facts(prog: &Program, overrides: &[(usize, Access)]) -> Facts {
    let mut f = Facts::unproven(prog.insns.len());
    for &(i, a) in overrides {
        f.accesses[i] = a;
    }
    f
}

/// Runs `ops` as a `raw` program on `mem` in checked mode and in verified mode
/// (all accesses `Check`), asserts both agree and returns the result.
#[track_caller]
fn run_raw(ops: &[Op], mem: &[u8]) -> Result<u64, Fault> {
    run_prog(&program(ProgType::Raw, ops), mem)
}

#[track_caller]
fn run_prog(prog: &Program, mem: &[u8]) -> Result<u64, Fault> {
    let mut results = Vec::new();
    for mode in [Mode::Checked, Mode::Verified(facts(prog, &[]))] {
        let mut e = InterpEngine::new(prog, mode).expect("loads");
        let mut m = mem.to_vec();
        results.push(e.run_packet(&mut m));
    }
    // Fault addresses differ between runs (fresh buffers); compare the rest.
    let strip =
        |r: &Result<u64, Fault>| r.as_ref().map(|v| *v).map_err(|f| (f.insn, f.kind.name()));
    assert_eq!(
        strip(&results[0]),
        strip(&results[1]),
        "checked and verified modes differ"
    );
    results.remove(0)
}

#[track_caller]
fn check(name: &str, ops: &[Op], want: u64) {
    assert_eq!(run_raw(ops, &[]), Ok(want), "case {name}");
}

#[test]
fn alu_table() {
    use AluOp::*;
    let min64 = i64::MIN as u64;
    let cases: Vec<(&str, Vec<Op>, u64)> = vec![
        ("add64 wraps", vec![mov(0, -1), a64(Add, 0, 2), EXIT], 1),
        (
            "add32 truncates",
            vec![lddw(0, 0xffff_ffff), a32(Add, 0, 1), EXIT],
            0,
        ),
        ("sub64", vec![mov(0, 1), a64(Sub, 0, 2), EXIT], u64::MAX),
        (
            "sub32 zero-extends",
            vec![mov(0, 1), a32(Sub, 0, 2), EXIT],
            0xffff_ffff,
        ),
        (
            "mul64",
            vec![lddw(0, 0x1_0000_0001), a64(Mul, 0, 3), EXIT],
            0x3_0000_0003,
        ),
        (
            "mul32",
            vec![lddw(0, 0x1_0000_0002), a32(Mul, 0, 3), EXIT],
            6,
        ),
        ("div64", vec![mov(0, 7), a64(Div, 0, 2), EXIT], 3),
        (
            "div64 by zero",
            vec![mov(0, 7), mov(1, 0), alur(Width::W64, Div, 0, 1), EXIT],
            0,
        ),
        (
            "div32 by zero",
            vec![mov(0, 7), mov(1, 0), alur(Width::W32, Div, 0, 1), EXIT],
            0,
        ),
        (
            "div32 by high-only reg is by zero",
            vec![
                mov(0, 7),
                lddw(1, 1 << 32),
                alur(Width::W32, Div, 0, 1),
                EXIT,
            ],
            0,
        ),
        (
            "mod64 by zero leaves dst",
            vec![mov(0, -7), mov(1, 0), alur(Width::W64, Mod, 0, 1), EXIT],
            -7i64 as u64,
        ),
        (
            "mod32 by zero keeps low half",
            vec![
                lddw(0, 0x5_0000_0007),
                mov(1, 0),
                alur(Width::W32, Mod, 0, 1),
                EXIT,
            ],
            7,
        ),
        ("mod64", vec![mov(0, 17), a64(Mod, 0, 5), EXIT], 2),
        (
            "sdiv64",
            vec![mov(0, -7), a64(Sdiv, 0, 2), EXIT],
            -3i64 as u64,
        ),
        (
            "sdiv64 INT_MIN/-1",
            vec![lddw(0, min64), a64(Sdiv, 0, -1), EXIT],
            min64,
        ),
        (
            "sdiv32 INT_MIN/-1",
            vec![mov(0, i32::MIN), a32(Sdiv, 0, -1), EXIT],
            0x8000_0000,
        ),
        ("sdiv64 by zero", vec![mov(0, -7), a64(Sdiv, 0, 0), EXIT], 0),
        (
            "smod64",
            vec![mov(0, -7), a64(Smod, 0, 2), EXIT],
            -1i64 as u64,
        ),
        (
            "smod64 INT_MIN%-1",
            vec![lddw(0, min64), a64(Smod, 0, -1), EXIT],
            0,
        ),
        (
            "smod32 INT_MIN%-1",
            vec![mov(0, i32::MIN), a32(Smod, 0, -1), EXIT],
            0,
        ),
        (
            "smod32 by zero",
            vec![mov(0, -7), a32(Smod, 0, 0), EXIT],
            0xffff_fff9,
        ),
        (
            "or/and/xor",
            vec![
                mov(0, 0b1100),
                a64(Or, 0, 0b0011),
                a64(And, 0, 0b1010),
                a64(Xor, 0, 1),
                EXIT,
            ],
            0b1011,
        ),
        (
            "lsh64 masks count",
            vec![mov(0, 1), mov(1, 65), alur(Width::W64, Lsh, 0, 1), EXIT],
            2,
        ),
        (
            "lsh32 masks count",
            vec![mov(0, 1), mov(1, 33), alur(Width::W32, Lsh, 0, 1), EXIT],
            2,
        ),
        ("rsh64", vec![mov(0, -1), a64(Rsh, 0, 60), EXIT], 0xf),
        (
            "rsh32 of negative",
            vec![mov(0, -1), a32(Rsh, 0, 28), EXIT],
            0xf,
        ),
        (
            "arsh64",
            vec![mov(0, -16), a64(Arsh, 0, 2), EXIT],
            -4i64 as u64,
        ),
        (
            "arsh32 zero-extends",
            vec![mov(0, i32::MIN), a32(Arsh, 0, 31), EXIT],
            0xffff_ffff,
        ),
        (
            "arsh64 masks count",
            vec![mov(0, -16), mov(1, 66), alur(Width::W64, Arsh, 0, 1), EXIT],
            -4i64 as u64,
        ),
        (
            "mov32 zero-extends",
            vec![mov(0, -1), a32(Mov, 0, -1), EXIT],
            0xffff_ffff,
        ),
        (
            "mov64 imm sign-extends",
            vec![mov(0, -2), EXIT],
            -2i64 as u64,
        ),
        (
            "movsx8 64",
            vec![mov(1, 0x180), alur(Width::W64, Movsx8, 0, 1), EXIT],
            -128i64 as u64,
        ),
        (
            "movsx16 64",
            vec![mov(1, 0x18000), alur(Width::W64, Movsx16, 0, 1), EXIT],
            -32768i64 as u64,
        ),
        (
            "movsx32 64",
            vec![
                lddw(1, 0x1_8000_0000),
                alur(Width::W64, Movsx32, 0, 1),
                EXIT,
            ],
            i32::MIN as i64 as u64,
        ),
        (
            "movsx8 32",
            vec![mov(1, 0x80), alur(Width::W32, Movsx8, 0, 1), EXIT],
            0xffff_ff80,
        ),
        (
            "movsx16 32",
            vec![mov(1, 0x8000), alur(Width::W32, Movsx16, 0, 1), EXIT],
            0xffff_8000,
        ),
        (
            "neg64",
            vec![
                mov(0, 5),
                Op::Neg {
                    width: Width::W64,
                    dst: r(0),
                },
                EXIT,
            ],
            -5i64 as u64,
        ),
        (
            "neg32",
            vec![
                mov(0, 5),
                Op::Neg {
                    width: Width::W32,
                    dst: r(0),
                },
                EXIT,
            ],
            0xffff_fffb,
        ),
        (
            "bswap16",
            vec![
                lddw(0, 0x1122_3344_5566_7788),
                Op::Endian {
                    kind: Endian::Swap,
                    bits: 16,
                    dst: r(0),
                },
                EXIT,
            ],
            0x8877,
        ),
        (
            "bswap32",
            vec![
                lddw(0, 0x1122_3344_5566_7788),
                Op::Endian {
                    kind: Endian::Swap,
                    bits: 32,
                    dst: r(0),
                },
                EXIT,
            ],
            0x8877_6655,
        ),
        (
            "bswap64",
            vec![
                lddw(0, 0x1122_3344_5566_7788),
                Op::Endian {
                    kind: Endian::Swap,
                    bits: 64,
                    dst: r(0),
                },
                EXIT,
            ],
            0x8877_6655_4433_2211,
        ),
        (
            "be16",
            vec![
                lddw(0, 0x1122_3344_5566_7788),
                Op::Endian {
                    kind: Endian::Be,
                    bits: 16,
                    dst: r(0),
                },
                EXIT,
            ],
            0x8877,
        ),
        (
            "be64",
            vec![
                lddw(0, 0x1122_3344_5566_7788),
                Op::Endian {
                    kind: Endian::Be,
                    bits: 64,
                    dst: r(0),
                },
                EXIT,
            ],
            0x8877_6655_4433_2211,
        ),
        (
            "le16 truncates",
            vec![
                lddw(0, 0x1122_3344_5566_7788),
                Op::Endian {
                    kind: Endian::Le,
                    bits: 16,
                    dst: r(0),
                },
                EXIT,
            ],
            0x7788,
        ),
        (
            "le32 truncates",
            vec![
                lddw(0, 0x1122_3344_5566_7788),
                Op::Endian {
                    kind: Endian::Le,
                    bits: 32,
                    dst: r(0),
                },
                EXIT,
            ],
            0x5566_7788,
        ),
        (
            "le64",
            vec![
                lddw(0, 0x1122_3344_5566_7788),
                Op::Endian {
                    kind: Endian::Le,
                    bits: 64,
                    dst: r(0),
                },
                EXIT,
            ],
            0x1122_3344_5566_7788,
        ),
    ];
    for (name, ops, want) in cases {
        check(name, &ops, want);
    }
}

#[test]
fn jump_table() {
    use JmpOp::*;
    // r0 = 1 if (r1 op imm) is taken, else 0; r1 = -1 (as 64 and 32 bits).
    let case = |width: Width, op: JmpOp, a: i32, b: i32| -> u64 {
        run_raw(
            &[
                mov(1, a),
                mov(0, 0),
                Op::Jmp {
                    width,
                    op,
                    dst: r(1),
                    src: Src::Imm(b),
                    off: 1,
                },
                EXIT,
                mov(0, 1),
                EXIT,
            ],
            &[],
        )
        .unwrap()
    };
    let table = [
        (Eq, 3, 3, 1),
        (Eq, 3, 4, 0),
        (Ne, 3, 4, 1),
        (Gt, -1, 1, 1),
        (Ge, 1, 1, 1),
        (Lt, 1, -1, 1),
        (Le, 2, 1, 0),
        (Set, 6, 4, 1),
        (Set, 6, 1, 0),
        (Sgt, -1, 1, 0),
        (Sge, -1, -1, 1),
        (Slt, -1, 1, 1),
        (Sle, 2, 1, 0),
    ];
    for (op, a, b, want) in table {
        assert_eq!(case(Width::W64, op, a, b), want, "{op:?} 64 {a} {b}");
        assert_eq!(case(Width::W32, op, a, b), want, "{op:?} 32 {a} {b}");
    }
    // jmp32 compares only the low halves.
    let ops = [
        lddw(1, 0x1_0000_0005),
        mov(0, 0),
        Op::Jmp {
            width: Width::W32,
            op: Eq,
            dst: r(1),
            src: Src::Imm(5),
            off: 1,
        },
        EXIT,
        mov(0, 1),
        EXIT,
    ];
    assert_eq!(run_raw(&ops, &[]), Ok(1));
    let ops64 = [
        lddw(1, 0x1_0000_0005),
        mov(0, 0),
        Op::Jmp {
            width: Width::W64,
            op: Eq,
            dst: r(1),
            src: Src::Imm(5),
            off: 1,
        },
        EXIT,
        mov(0, 1),
        EXIT,
    ];
    assert_eq!(run_raw(&ops64, &[]), Ok(0));
    // Register operand.
    let regs = [
        mov(1, 7),
        mov(2, 7),
        mov(0, 0),
        Op::Jmp {
            width: Width::W64,
            op: Eq,
            dst: r(1),
            src: Src::Reg(r(2)),
            off: 1,
        },
        EXIT,
        mov(0, 1),
        EXIT,
    ];
    assert_eq!(run_raw(&regs, &[]), Ok(1));
}

#[test]
fn ja32_jumps_with_a_32_bit_offset() {
    // gotol +1 (BPF_JMP32 | BPF_JA, offset in imm) skips `mov r0, 1`.
    let mut insns = encode_program(&[mov(0, 2)]);
    insns.push(Insn::new(0x06, 0, 0, 0, 1));
    insns.extend(encode_program(&[mov(0, 1), EXIT]));
    let prog = Program::new("ja32", ProgType::Raw, insns);
    assert_eq!(run_prog(&prog, &[]), Ok(2));
    // Long form through the encoder.
    let mut ops = vec![mov(0, 3), Op::Ja { off: 40_000 }];
    ops.extend(std::iter::repeat_n(mov(0, 1), 40_000));
    ops.push(EXIT);
    assert_eq!(run_raw(&ops, &[]), Ok(3));
}

#[test]
fn may_goto_budget_is_exhausted_then_jumps() {
    // r0 counts fall-throughs: 0: mov r0,0; 1: may_goto +2; 2: add r0,1; 3: ja -3; 4: exit
    let ops = [
        mov(0, 0),
        Op::MayGoto { off: 2 },
        a64(AluOp::Add, 0, 1),
        Op::Ja { off: -3 },
        EXIT,
    ];
    assert_eq!(run_raw(&ops, &[]), Ok(MAY_GOTO_BUDGET as u64));
}

#[test]
fn unbounded_loop_faults_in_checked_mode() {
    let prog = program(ProgType::Raw, &[mov(0, 0), Op::Ja { off: -1 }, EXIT]);
    let mut e = InterpEngine::new(&prog, Mode::Checked).unwrap();
    let f = e.run_packet(&mut []).unwrap_err();
    assert_eq!(
        f,
        Fault {
            insn: 1,
            kind: FaultKind::BackEdgeLimit
        }
    );
}

#[test]
fn atomics() {
    use AtomicOp::*;
    // Memory word starts at 0x0000_0001_0000_000c (64) / 12 (32); r1 = 3 (src).
    let atomic = |width: Width, op: AtomicOp, fetch: bool, r0: i64| -> (u64, u64, u64) {
        let ops = [
            lddw(2, 0x1_0000_000c),
            stx(Size::DW, 10, -8, 2),
            mov(1, 3),
            lddw(0, r0 as u64),
            Op::Atomic {
                width,
                op,
                fetch,
                base: r(10),
                off: -8,
                src: r(1),
            },
            // r3 = memory, r4 = r1 (fetched), r5 = r0; encode r0 = mem, check others by separate runs.
            ldx(Size::DW, 3, 10, -8),
            stx(Size::DW, 10, -16, 1),
            stx(Size::DW, 10, -24, 0),
            movr(0, 3),
            EXIT,
        ];
        let mem = run_raw(&ops, &[]).unwrap();
        let mut ops2 = ops.to_vec();
        let n = ops2.len() - 2;
        ops2[n] = ldx(Size::DW, 0, 10, -16);
        let fetched = run_raw(&ops2, &[]).unwrap();
        let n = ops2.len() - 2;
        ops2[n] = ldx(Size::DW, 0, 10, -24);
        let r0_after = run_raw(&ops2, &[]).unwrap();
        (mem, fetched, r0_after)
    };
    let hi = 0x1_0000_0000u64;
    assert_eq!(atomic(Width::W64, Add, false, 0), (hi + 15, 3, 0));
    assert_eq!(atomic(Width::W64, Add, true, 0), (hi + 15, hi + 12, 0));
    assert_eq!(atomic(Width::W32, Add, true, 0), (hi + 15, 12, 0));
    assert_eq!(atomic(Width::W64, Or, true, 0), (hi + 15, hi + 12, 0));
    assert_eq!(atomic(Width::W64, And, false, 0), (0, 3, 0));
    assert_eq!(atomic(Width::W32, Xor, true, 0), (hi + 15, 12, 0));
    assert_eq!(atomic(Width::W64, Xchg, true, 0), (3, hi + 12, 0));
    assert_eq!(atomic(Width::W32, Xchg, true, 0), (hi + 3, 12, 0));
    // cmpxchg: match stores src, mismatch keeps memory; r0 gets the old value.
    assert_eq!(
        atomic(Width::W64, Cmpxchg, true, (hi + 12) as i64),
        (3, 3, hi + 12)
    );
    assert_eq!(atomic(Width::W64, Cmpxchg, true, 5), (hi + 12, 3, hi + 12));
    // cmpxchg32 compares the low halves and zero-extends the old value into r0.
    assert_eq!(
        atomic(Width::W32, Cmpxchg, true, 0x7_0000_000c),
        (hi + 3, 3, 12)
    );
    assert_eq!(atomic(Width::W32, Cmpxchg, true, -1), (hi + 12, 3, 12));
}

#[test]
fn local_calls_save_registers_and_frames() {
    // main: r6 = 7, [r10-8] = 1; call f; r0 = r6 + [r10-8] + r0
    // f: r6 = 100; [r10-8] = 50; r0 = r10 (distance check below); exit
    let ops = [
        mov(6, 7),
        st(Size::DW, 10, -8, 1),
        movr(7, 10),
        Op::CallLocal { off: 5 },
        a64(AluOp::Add, 0, 0),
        ldx(Size::DW, 1, 10, -8),
        alur(Width::W64, AluOp::Add, 0, 6),
        alur(Width::W64, AluOp::Add, 0, 1),
        EXIT,
        // f at 9
        mov(6, 100),
        st(Size::DW, 10, -8, 50),
        // r0 = caller r10 (r7) - r10 = 512
        movr(0, 7),
        alur(Width::W64, AluOp::Sub, 0, 10),
        EXIT,
    ];
    // 512 (frame distance) + 7 (r6 restored) + 1 (caller's slot intact)
    assert_eq!(run_raw(&ops, &[]), Ok(520));
}

fn recursion(k: i32) -> Vec<Op> {
    vec![
        mov(1, k),
        Op::CallLocal { off: 1 },
        EXIT,
        jmp(JmpOp::Eq, 1, 0, 2),
        a64(AluOp::Sub, 1, 1),
        Op::CallLocal { off: -3 },
        EXIT,
    ]
}

#[test]
fn call_depth_eight_frames_ok_nine_fault() {
    assert_eq!(run_raw(&recursion(6), &[]), Ok(0));
    assert_eq!(
        run_raw(&recursion(7), &[]),
        Err(Fault {
            insn: 5,
            kind: FaultKind::CallDepth
        })
    );
}

#[test]
fn helper_calls_and_callx() {
    // ktime for raw programs returns its first argument.
    assert_eq!(
        run_raw(&[mov(1, 42), call(helper_id::KTIME_GET_NS), EXIT], &[]),
        Ok(42)
    );
    assert_eq!(
        run_raw(
            &[mov(1, 42), mov(2, 5), Op::CallReg { reg: r(2) }, EXIT],
            &[]
        ),
        Ok(42)
    );
    assert_eq!(
        run_raw(&[mov(2, 99), Op::CallReg { reg: r(2) }, EXIT], &[]),
        Err(Fault {
            insn: 1,
            kind: FaultKind::BadCallx(99)
        })
    );
    assert_eq!(
        run_raw(&[mov(0, 0), call(1000), EXIT], &[]),
        Err(Fault {
            insn: 1,
            kind: FaultKind::UnknownHelper(1000)
        })
    );
    assert_eq!(
        run_raw(&[call(helper_id::GET_SMP_PROCESSOR_ID), EXIT], &[]),
        Ok(0)
    );
    // prandom: deterministic per engine, same across engines.
    let p = program(ProgType::Raw, &[call(helper_id::GET_PRANDOM_U32), EXIT]);
    let mut a = InterpEngine::new(&p, Mode::Checked).unwrap();
    let mut b = InterpEngine::new(&p, Mode::Checked).unwrap();
    let xa: Vec<_> = (0..3).map(|_| a.run_packet(&mut []).unwrap()).collect();
    let xb: Vec<_> = (0..3).map(|_| b.run_packet(&mut []).unwrap()).collect();
    assert_eq!(xa, xb);
    assert!(xa.iter().all(|&x| x <= u32::MAX as u64));
    assert_ne!(xa[0], xa[1]);
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);
impl Write for Capture {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn trace_printk_formats_checked_strings() {
    let fmt = b"v=%d x=%llx\n\0";
    let mut ops = Vec::new();
    for (i, chunk) in fmt.chunks(1).enumerate() {
        ops.push(st(Size::B, 10, -32 + i as i16, chunk[0] as i32));
    }
    ops.extend([
        movr(1, 10),
        a64(AluOp::Add, 1, -32),
        mov(2, fmt.len() as i32),
        mov(3, -3),
        mov(4, 255),
        call(helper_id::TRACE_PRINTK),
        EXIT,
    ]);
    let prog = program(ProgType::Raw, &ops);
    let mut interp = Interpreter::new(&prog, Mode::Checked).unwrap();
    let cap = Capture::default();
    interp.set_trace(Box::new(cap.clone()));
    let mut maps = MapSet::new(&[]).unwrap();
    assert_eq!(interp.run(&mut maps, &mut []), Ok(10));
    assert_eq!(&*cap.0.lock().unwrap(), b"v=-3 x=ff\n");
    // A format pointer outside every region faults, even with a huge length.
    let bad = program(
        ProgType::Raw,
        &[
            lddw(1, 0x1000),
            mov(2, 8),
            call(helper_id::TRACE_PRINTK),
            EXIT,
        ],
    );
    assert_eq!(
        run_prog(&bad, &[]),
        Err(Fault {
            insn: 3,
            kind: FaultKind::BadHelperPointer {
                helper: 6,
                addr: 0x1000,
                len: 8
            }
        })
    );
}

#[test]
fn raw_memory_bounds_are_checked_with_the_right_index() {
    let mem = [1u8, 2, 3, 4, 5, 6, 7, 8];
    assert_eq!(
        run_raw(&[ldx(Size::DW, 0, 1, 0), EXIT], &mem),
        Ok(0x0807_0605_0403_0201)
    );
    assert_eq!(run_raw(&[movr(0, 2), EXIT], &mem), Ok(8));
    let f = run_raw(&[mov(0, 0), ldx(Size::DW, 0, 1, 1), EXIT], &mem).unwrap_err();
    assert_eq!(f.insn, 1);
    assert!(matches!(
        f.kind,
        FaultKind::OutOfBounds {
            size: 8,
            write: false,
            ..
        }
    ));
    let f = run_raw(&[mov(0, 0), mov(0, 0), st(Size::B, 1, -1, 0), EXIT], &mem).unwrap_err();
    assert_eq!(f.insn, 2);
    assert!(matches!(
        f.kind,
        FaultKind::OutOfBounds {
            size: 1,
            write: true,
            ..
        }
    ));
    // Writes land in the memory.
    let prog = program(ProgType::Raw, &[st(Size::H, 1, 2, 0x0a0b), mov(0, 0), EXIT]);
    let mut e = InterpEngine::new(&prog, Mode::Checked).unwrap();
    let mut m = mem;
    e.run_packet(&mut m).unwrap();
    assert_eq!(m, [1, 2, 0x0b, 0x0a, 5, 6, 7, 8]);
    // Null and wild pointers fault.
    assert!(run_raw(&[mov(1, 0), ldx(Size::B, 0, 1, 0), EXIT], &[]).is_err());
    assert!(run_raw(&[lddw(1, 0xdead_beef), stx(Size::W, 1, 0, 1), EXIT], &[]).is_err());
}

#[test]
fn stack_bounds_cover_only_frames_in_use() {
    assert_eq!(
        run_raw(
            &[st(Size::DW, 10, -512, 9), ldx(Size::DW, 0, 10, -512), EXIT],
            &[]
        ),
        Ok(9)
    );
    let f = run_raw(&[ldx(Size::DW, 0, 10, -520), EXIT], &[]).unwrap_err();
    assert_eq!(f.insn, 0);
    let f = run_raw(&[mov(0, 0), ldx(Size::B, 0, 10, 0), EXIT], &[]).unwrap_err();
    assert_eq!(f.insn, 1);
    // In a callee, the caller's frame (above r10) is still in use.
    let ops = [
        st(Size::DW, 10, -8, 77),
        Op::CallLocal { off: 1 },
        EXIT,
        ldx(Size::DW, 0, 10, 504),
        EXIT,
    ];
    assert_eq!(run_raw(&ops, &[]), Ok(77));
    // After the callee returns, its frame is no longer accessible.
    let ops = [
        movr(6, 10),
        Op::CallLocal { off: 2 },
        ldx(Size::DW, 0, 6, -520),
        EXIT,
        mov(0, 0),
        EXIT,
    ];
    assert_eq!(run_raw(&ops, &[]).unwrap_err().insn, 2);
}

fn xdp(ops: &[Op]) -> Program {
    program(ProgType::Xdp, ops)
}

#[test]
fn xdp_context_loads_are_converted() {
    // r0 = data_end - data + ifindex*1000 + first byte
    let ops = [
        Op::Load {
            size: Size::W,
            signed: false,
            dst: r(2),
            base: r(1),
            off: 0,
        },
        Op::Load {
            size: Size::W,
            signed: false,
            dst: r(3),
            base: r(1),
            off: 4,
        },
        Op::Load {
            size: Size::W,
            signed: false,
            dst: r(4),
            base: r(1),
            off: 12,
        },
        movr(0, 3),
        alur(Width::W64, AluOp::Sub, 0, 2),
        a64(AluOp::Mul, 4, 1000),
        alur(Width::W64, AluOp::Add, 0, 4),
        ldx(Size::B, 5, 2, 0),
        alur(Width::W64, AluOp::Add, 0, 5),
        EXIT,
    ];
    let pkt = [9u8; 60];
    let prog = xdp(&ops);
    assert_eq!(run_prog(&prog, &pkt), Ok(60 + 1000 + 9));
    // Verified mode with the verifier's conversions and proven accesses.
    let f = facts(
        &prog,
        &[
            (0, Access::Ctx(CtxField::XdpData)),
            (1, Access::Ctx(CtxField::XdpDataEnd)),
            (2, Access::Ctx(CtxField::XdpIngressIfindex)),
            (7, Access::Proven),
        ],
    );
    let mut e = InterpEngine::new(&prog, Mode::Verified(f)).unwrap();
    assert_eq!(e.run_packet(&mut pkt.clone()), Ok(1069));
    // Reading data_end itself is out of the packet.
    let past = xdp(&[
        Op::Load {
            size: Size::W,
            signed: false,
            dst: r(3),
            base: r(1),
            off: 4,
        },
        ldx(Size::B, 0, 3, 0),
        EXIT,
    ]);
    assert_eq!(run_prog(&past, &pkt).unwrap_err().insn, 1);
}

#[test]
fn xdp_context_misuse_faults() {
    let pkt = [0u8; 20];
    let cases: Vec<(&str, Vec<Op>, FaultKind)> = vec![
        (
            "8-byte ctx load",
            vec![ldx(Size::DW, 0, 1, 0), EXIT],
            FaultKind::BadCtxAccess { off: 0, size: 8 },
        ),
        (
            "misaligned ctx load",
            vec![ldx(Size::W, 0, 1, 2), EXIT],
            FaultKind::BadCtxAccess { off: 2, size: 4 },
        ),
        (
            "partial ctx load",
            vec![ldx(Size::H, 0, 1, 4), EXIT],
            FaultKind::BadCtxAccess { off: 4, size: 2 },
        ),
        (
            "ctx store",
            vec![st(Size::W, 1, 0, 0), EXIT],
            FaultKind::BadCtxAccess { off: 0, size: 4 },
        ),
    ];
    for (name, ops, kind) in cases {
        assert_eq!(
            run_prog(&xdp(&ops), &pkt),
            Err(Fault { insn: 0, kind }),
            "{name}"
        );
    }
    // A context fact on a store is refused at load time.
    let prog = xdp(&[st(Size::W, 1, 0, 0), EXIT]);
    let f = facts(&prog, &[(0, Access::Ctx(CtxField::XdpData))]);
    assert!(Interpreter::new(&prog, Mode::Verified(f)).is_err());
    // Facts of the wrong length are refused.
    let f = Facts::unproven(5);
    assert!(Interpreter::new(&prog, Mode::Verified(f)).is_err());
}

fn map(name: &str, kind: MapKind, key_size: u32, value_size: u32, max_entries: u32) -> MapDef {
    MapDef {
        name: name.into(),
        kind,
        key_size,
        value_size,
        max_entries,
    }
}

/// r0 = update(map 0, key = r6, value = r7, flags) for each (key, value, flags);
/// stores the results in array map 1 (index i) so that one run checks many calls.
fn update_program(kind: MapKind, max: u32, calls: &[(i32, i32, i32)]) -> Program {
    let mut ops = Vec::new();
    for (i, &(k, v, fl)) in calls.iter().enumerate() {
        ops.extend([
            st(Size::W, 10, -4, k),
            st(Size::DW, 10, -16, v),
            Op::LoadMap { dst: r(1), map: 0 },
            movr(2, 10),
            a64(AluOp::Add, 2, -4),
            movr(3, 10),
            a64(AluOp::Add, 3, -16),
            mov(4, fl),
            call(helper_id::MAP_UPDATE_ELEM),
            // results[i] = r0
            stx(Size::DW, 10, -24, 0),
            st(Size::W, 10, -28, i as i32),
            Op::LoadMap { dst: r(1), map: 1 },
            movr(2, 10),
            a64(AluOp::Add, 2, -28),
            movr(3, 10),
            a64(AluOp::Add, 3, -24),
            mov(4, 0),
            call(helper_id::MAP_UPDATE_ELEM),
        ]);
    }
    ops.extend([mov(0, 0), EXIT]);
    let mut p = program(ProgType::Raw, &ops);
    p.maps = vec![
        map("m", kind, 4, 8, max),
        map("results", MapKind::Array, 4, 8, 16),
    ];
    p
}

fn results(e: &InterpEngine, n: usize) -> Vec<i64> {
    let m = e.map_set().by_name("results").unwrap();
    (0..n as u32)
        .map(|i| i64::from_le_bytes(m.get(&i.to_le_bytes()).unwrap().try_into().unwrap()))
        .collect()
}

#[test]
fn hash_map_flags_and_capacity() {
    let (any, noexist, exist) = (
        flags::BPF_ANY as i32,
        flags::BPF_NOEXIST as i32,
        flags::BPF_EXIST as i32,
    );
    let calls = [
        (1, 10, any),     // new: ok
        (1, 11, noexist), // exists: EEXIST
        (2, 20, exist),   // absent: ENOENT
        (2, 21, noexist), // new: ok (now full, max 2)
        (3, 30, any),     // full: E2BIG
        (3, 31, noexist), // full: E2BIG
        (1, 12, exist),   // update: ok
        (1, 13, 4),       // bad flags: EINVAL
    ];
    for kind in [MapKind::Hash, MapKind::PercpuHash] {
        let prog = update_program(kind, 2, &calls);
        let mut e = InterpEngine::new(&prog, Mode::Checked).unwrap();
        assert_eq!(e.run_packet(&mut []), Ok(0));
        let want = [
            0,
            -errno::EEXIST,
            -errno::ENOENT,
            0,
            -errno::E2BIG,
            -errno::E2BIG,
            0,
            -errno::EINVAL,
        ];
        assert_eq!(results(&e, calls.len()), want);
        let dump = e.maps();
        assert_eq!(
            dump["m"],
            vec![
                (1u32.to_le_bytes().to_vec(), 12u64.to_le_bytes().to_vec()),
                (2u32.to_le_bytes().to_vec(), 21u64.to_le_bytes().to_vec())
            ]
        );
    }
}

#[test]
fn array_map_flags_and_bounds() {
    let calls = [(0, 5, 0), (3, 6, 2), (1, 7, 1), (4, 8, 0), (2, 0, 0)];
    for kind in [MapKind::Array, MapKind::PercpuArray] {
        let prog = update_program(kind, 4, &calls);
        let mut e = InterpEngine::new(&prog, Mode::Checked).unwrap();
        assert_eq!(e.run_packet(&mut []), Ok(0));
        assert_eq!(
            results(&e, calls.len()),
            [0, 0, -errno::EEXIST, -errno::E2BIG, 0]
        );
        // Only non-zero indices are dumped.
        let dump = e.maps();
        assert_eq!(
            dump["m"],
            vec![
                (0u32.to_le_bytes().to_vec(), 5u64.to_le_bytes().to_vec()),
                (3u32.to_le_bytes().to_vec(), 6u64.to_le_bytes().to_vec())
            ]
        );
    }
}

/// Lookup returns a stable pointer the program can write through, across runs;
/// delete on an array is EINVAL; on a hash it frees the key.
#[test]
fn lookup_pointer_counter_and_delete() {
    // counter[key 0] += 1 via lookup pointer (inserting 0 first if absent), r0 = new count
    let ops = vec![
        st(Size::W, 10, -4, 0),
        Op::LoadMap { dst: r(1), map: 0 },
        movr(2, 10),
        a64(AluOp::Add, 2, -4),
        call(helper_id::MAP_LOOKUP_ELEM),
        jmp(JmpOp::Ne, 0, 0, 10),
        // absent: insert zero and look up again
        st(Size::DW, 10, -16, 0),
        Op::LoadMap { dst: r(1), map: 0 },
        movr(2, 10),
        a64(AluOp::Add, 2, -4),
        movr(3, 10),
        a64(AluOp::Add, 3, -16),
        mov(4, 0),
        call(helper_id::MAP_UPDATE_ELEM),
        Op::Ja { off: -16 },
        // present (slot 17): atomic add 1, return the value
        mov(1, 1),
        Op::Atomic {
            width: Width::W64,
            op: AtomicOp::Add,
            fetch: false,
            base: r(0),
            off: 0,
            src: r(1),
        },
        ldx(Size::DW, 0, 0, 0),
        EXIT,
    ];
    let mut prog = program(ProgType::Raw, &ops);
    prog.maps = vec![map("counter", MapKind::Hash, 4, 8, 4)];
    let mut e = InterpEngine::new(&prog, Mode::Checked).unwrap();
    let runs: Vec<_> = (0..3).map(|_| e.run_packet(&mut []).unwrap()).collect();
    assert_eq!(runs, [1, 2, 3]);
    // Reading past the value (8 bytes into a slot of 8, last slot) stays inside the
    // storage only for inner slots; reading before the storage faults.
    let m = e.map_set().get(0).unwrap();
    assert_eq!(m.get(&0u32.to_le_bytes()), Some(&3u64.to_le_bytes()[..]));

    // delete: array → EINVAL, hash → 0 then ENOENT.
    let del = |kind: MapKind| {
        let ops = [
            st(Size::W, 10, -4, 0),
            Op::LoadMap { dst: r(1), map: 0 },
            movr(2, 10),
            a64(AluOp::Add, 2, -4),
            call(helper_id::MAP_DELETE_ELEM),
            EXIT,
        ];
        let mut p = program(ProgType::Raw, &ops);
        p.maps = vec![map("m", kind, 4, 8, 4)];
        let mut e = InterpEngine::new(&p, Mode::Checked).unwrap();
        e.map_set_mut()
            .get_mut(0)
            .unwrap()
            .update(&0u32.to_le_bytes(), &[1; 8], 0)
            .unwrap();
        [
            e.run_packet(&mut []).unwrap() as i64,
            e.run_packet(&mut []).unwrap() as i64,
        ]
    };
    assert_eq!(del(MapKind::Array), [-errno::EINVAL, -errno::EINVAL]);
    assert_eq!(del(MapKind::Hash), [0, -errno::ENOENT]);
}

#[test]
fn map_handles_and_value_pointers_are_checked() {
    // A bogus map handle faults in the helper.
    let prog = program(
        ProgType::Raw,
        &[
            mov(1, 5),
            movr(2, 10),
            call(helper_id::MAP_LOOKUP_ELEM),
            EXIT,
        ],
    );
    assert_eq!(
        run_prog(&prog, &[]),
        Err(Fault {
            insn: 2,
            kind: FaultKind::BadMapHandle(5)
        })
    );
    // A key pointer outside every region faults.
    let mut prog = program(
        ProgType::Raw,
        &[Op::LoadMap { dst: r(1), map: 0 }, mov(2, 64), call(1), EXIT],
    );
    prog.maps = vec![map("m", MapKind::Hash, 4, 8, 4)];
    assert_eq!(
        run_prog(&prog, &[]).unwrap_err().kind.name(),
        "bad-helper-pointer"
    );
    // Pseudo lddw src=2: the array's value address, usable for loads and stores.
    let mut prog = program(
        ProgType::Raw,
        &[
            Op::LoadMapValue {
                dst: r(1),
                map: 0,
                offset: 4,
            },
            st(Size::W, 1, 0, 7),
            ldx(Size::W, 0, 1, 0),
            ldx(Size::W, 2, 1, 4),
            EXIT,
        ],
    );
    prog.maps = vec![map("a", MapKind::Array, 4, 8, 1)];
    // offset 4 + 4 = 8 is the end of the 8-byte value (stride 8, one entry): out of bounds.
    assert_eq!(run_prog(&prog, &[]).unwrap_err().insn, 4);
    prog.insns.truncate(prog.insns.len() - 2);
    prog.insns.extend(encode_program(&[EXIT]));
    assert_eq!(run_prog(&prog, &[]), Ok(7));
    // LoadMapValue on a hash map, or an unknown map index, is refused at load.
    prog.maps[0].kind = MapKind::Hash;
    assert!(InterpEngine::new(&prog, Mode::Checked).is_err());
    let bad = program(ProgType::Raw, &[Op::LoadMap { dst: r(1), map: 3 }, EXIT]);
    assert!(InterpEngine::new(&bad, Mode::Checked).is_err());
}

#[test]
fn run_capture_collects_verdicts_maps_and_faults() {
    // Fault on packets shorter than 2 bytes, else return the first byte.
    let prog = program(
        ProgType::Raw,
        &[ldx(Size::B, 0, 1, 1), ldx(Size::B, 0, 1, 0), EXIT],
    );
    let mut e = InterpEngine::new(&prog, Mode::Checked).unwrap();
    let packets = vec![vec![5u8, 0], vec![1u8], vec![7, 7, 7], vec![]];
    let (report, faults) = run_capture(&mut e, packets);
    assert_eq!(report.engine, "interp");
    assert_eq!(report.verdicts, [Some(5), None, Some(7), None]);
    assert_eq!(faults.count, 2);
    let (n, first) = faults.by_kind["out-of-bounds"];
    assert_eq!((n, first.insn), (2, 0));
    assert!(faults
        .to_string()
        .contains("2 packets faulted (out-of-bounds), first: instruction 0"));
}

#[test]
fn malformed_programs_are_load_errors() {
    let p = Program::new("x", ProgType::Raw, vec![Insn::new(0xff, 0, 0, 0, 0)]);
    assert!(Interpreter::new(&p, Mode::Checked).is_err());
    let p = Program::new("x", ProgType::Raw, vec![]);
    assert!(Interpreter::new(&p, Mode::Checked).is_err());
    let p = program(ProgType::Raw, &[mov(0, 0)]);
    assert!(Interpreter::new(&p, Mode::Checked).is_err());
}

#[test]
fn a_foreign_map_set_is_refused() {
    let mut prog = program(ProgType::Raw, &[mov(0, 1), EXIT]);
    prog.maps = vec![map("m", MapKind::Hash, 4, 8, 4)];
    let mut i = Interpreter::new(&prog, Mode::Checked).unwrap();
    let mut other = MapSet::new(&[map("m", MapKind::Hash, 4, 16, 4)]).unwrap();
    assert_eq!(
        i.run(&mut other, &mut []).unwrap_err().kind.name(),
        "engine"
    );
    let mut own = MapSet::new(&prog.maps).unwrap();
    assert_eq!(i.run(&mut own, &mut []), Ok(1));
}

#[test]
fn backward_jumps_loop_in_both_modes() {
    // sum 1..=10 with a 64-bit backward jlt, then with a 32-bit register jne.
    let ops = [
        mov(0, 0),
        mov(1, 1),
        alur(Width::W64, AluOp::Add, 0, 1),
        a64(AluOp::Add, 1, 1),
        jmp(JmpOp::Le, 1, 10, -3),
        EXIT,
    ];
    assert_eq!(run_raw(&ops, &[]), Ok(55));
    let ops = [
        mov(0, 0),
        mov(1, 0),
        lddw(2, 0x7_0000_0005),
        a64(AluOp::Add, 0, 2),
        a64(AluOp::Add, 1, 1),
        Op::Jmp {
            width: Width::W32,
            op: JmpOp::Ne,
            dst: r(1),
            src: Src::Reg(r(2)),
            off: -3,
        },
        EXIT,
    ];
    assert_eq!(run_raw(&ops, &[]), Ok(10));
}

#[test]
fn exhausted_backward_may_goto_hits_the_checked_loop_limit() {
    // Spend the budget, then loop through an exhausted (hence jumping) backward may_goto.
    let ops = [
        mov(0, 0),
        Op::MayGoto { off: 1 },
        Op::Ja { off: -2 },
        a64(AluOp::Add, 0, 1),
        Op::MayGoto { off: -2 },
        EXIT,
    ];
    let prog = program(ProgType::Raw, &ops);
    let mut e = InterpEngine::new(&prog, Mode::Checked).unwrap();
    let f = e.run_packet(&mut []).unwrap_err();
    assert_eq!((f.insn, f.kind), (4, FaultKind::BackEdgeLimit));
}

/// Random decodable programs never panic or touch memory outside their regions in
/// checked mode: every run ends with r0 or a fault.
#[test]
fn random_programs_run_safely_in_checked_mode() {
    use bpf_bridge::isa::decode_one;
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let maps = vec![
        map("a", MapKind::Array, 4, 8, 4),
        map("h", MapKind::Hash, 4, 8, 4),
    ];
    let (mut ran, mut faulted) = (0, 0);
    for case in 0..3000 {
        let len = 2 + (next() % 14) as usize;
        let mut insns: Vec<Insn> = Vec::new();
        while insns.len() < len {
            let v = next();
            let code = v as u8;
            let regs = ((v >> 8) as u8 % 11) | (((v >> 12) as u8 % 11) << 4);
            // A target inside the program (the final exit is slot `len`).
            let target = ((v >> 16) % (len as u64 + 1)) as i64;
            let off = (target - insns.len() as i64 - 1) as i16;
            let imm = match (v >> 40) % 4 {
                0 => ((v >> 44) % 16) as i32 - 4,
                1 => (v >> 32) as i32,
                2 => ((v >> 44) % 9) as i32,
                _ => 64,
            };
            let mut cand = vec![
                Insn::new(code, regs & 0xf, regs >> 4, off, imm),
                Insn::new(0, 0, 0, 0, 0),
            ];
            if let Ok(op) = decode_one(&cand, 0) {
                let slots = op.slots();
                if let Op::LoadMap { map: m, .. } | Op::LoadMapValue { map: m, .. } = op {
                    if m >= 2 {
                        continue;
                    }
                }
                cand.truncate(slots);
                insns.extend(cand);
            }
        }
        insns.extend(encode_program(&[EXIT]));
        let ty = if case % 3 == 0 {
            ProgType::Xdp
        } else {
            ProgType::Raw
        };
        let mut prog = Program::new("rand", ty, insns);
        prog.maps = maps.clone();
        // Checked mode only: pointer values differ between engines, so a run of an
        // arbitrary program may take another path in another engine, and verified
        // mode has no loop limit.
        let Ok(mut e) = InterpEngine::new(&prog, Mode::Checked) else {
            continue;
        };
        e.interpreter_mut().set_back_edge_limit(10_000);
        e.interpreter_mut().set_trace(Box::new(std::io::sink()));
        let mut pkt = vec![0x5au8; 64];
        ran += 1;
        faulted += e.run_packet(&mut pkt).is_err() as usize;
    }
    assert!(ran > 1000, "only {ran} programs loaded");
    assert!(faulted > 100 && faulted < ran, "{faulted} of {ran} faulted");
}
