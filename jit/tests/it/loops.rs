//! Loops of every length (x86_64 pads their heads to cache lines, see
//! `jit::buffer::LoopAlign`): nested, with short branches across the padding
//! in both directions, against the reference on every architecture.

use super::harness::{check_emulated, check_same};
use super::ops::prog;
use bpf_bridge::isa::{AluOp, JmpOp, Op, Reg, Size, Src, Width};

fn alu(op: AluOp, d: u8, imm: i32) -> Op {
    Op::Alu {
        width: Width::W64,
        op,
        dst: Reg::new(d).unwrap(),
        src: Src::Imm(imm),
    }
}

fn jmp(op: JmpOp, d: u8, imm: i32, off: i16) -> Op {
    Op::Jmp {
        width: Width::W64,
        op,
        dst: Reg::new(d).unwrap(),
        src: Src::Imm(imm),
        off,
    }
}

fn load(size: Size, d: u8, off: i16) -> Op {
    Op::Load {
        size,
        signed: false,
        dst: Reg::new(d).unwrap(),
        base: Reg::new(1).unwrap(),
        off,
    }
}

/// `outer` rounds of an inner loop of `inner` rounds whose body is `body`
/// ALU ops; a forward jump over the whole nest (taken when `skip`), and a
/// short forward jump across the inner loop's head.
pub fn nest(outer: i32, inner: i32, body: usize, skip: bool) -> Vec<Op> {
    let mut inner_ops = Vec::new();
    for k in 0..body {
        inner_ops.push(alu(
            [AluOp::Add, AluOp::Xor, AluOp::Mul][k % 3],
            0,
            k as i32 * 7 + 3,
        ));
    }
    inner_ops.push(alu(AluOp::Add, 3, 1));
    let inner_len = inner_ops.len() as i16 + 1;
    inner_ops.push(jmp(JmpOp::Lt, 3, inner, -inner_len));
    let mut outer_ops = vec![
        alu(AluOp::Mov, 3, 0),
        // Across the inner loop's head when r0 is zero (the first round).
        jmp(JmpOp::Eq, 0, 0, 1),
        alu(AluOp::Add, 0, 5),
    ];
    outer_ops.extend(inner_ops);
    outer_ops.push(alu(AluOp::Add, 2, 1));
    let outer_len = outer_ops.len() as i16 + 1;
    outer_ops.push(jmp(JmpOp::Lt, 2, outer, -outer_len));
    let mut ops = vec![alu(AluOp::Mov, 0, 0), alu(AluOp::Mov, 2, 0)];
    let op = if skip { JmpOp::Eq } else { JmpOp::Ne };
    ops.push(jmp(op, 0, 0, outer_ops.len() as i16));
    ops.extend(outer_ops);
    ops.push(Op::Exit);
    ops
}

#[test]
fn loops_of_every_length() {
    for body in [0, 1, 3, 7, 12, 20, 40, 70] {
        for (outer, inner, skip) in [(1, 1, false), (3, 5, false), (7, 2, false), (2, 2, true)] {
            let p = prog(&nest(outer, inner, body, skip));
            let r0 = check_same(&p, &[]).unwrap();
            if skip {
                assert_eq!(r0, 0);
            }
            check_emulated(&p, &[]);
        }
    }
}

/// x86_64 places each short loop within one 64-byte line (verified mode:
/// checked mode's back edges go through out-of-line budget counters).
#[test]
fn short_loops_do_not_straddle_lines() {
    use bpf_bridge::program::{ProgType, Program};
    use jit::{compile, Arch, Options};
    for body in 0..12 {
        let ops = nest(3, 3, body, false);
        let insns = prog(&ops);
        let facts = super::harness::all_proven(&insns);
        let p = Program::new("t", ProgType::Raw, insns);
        let c = compile(&p, Some(&facts), Arch::X86_64, Options::default()).unwrap();
        // The inner loop: from the slot after the jump over the outer
        // loop's first ops (slot 6) to its back edge (slot 6 + body + 1).
        let (head, back) = (6, 6 + body + 1);
        assert!(matches!(ops[back], Op::Jmp { off, .. } if off < 0));
        let offsets = c.offsets.to_vec();
        let start = offsets[head] as usize;
        let end = offsets[back + 1] as usize;
        assert!(end - start <= 64, "body {body}: {} bytes", end - start);
        assert_eq!(start / 64, (end - 1) / 64, "body {body}: {start}..{end}");
    }
}

/// Only loops are padded: branches back to the exit code (bound before the
/// body) and returns from out-of-line paths (checked mode's bounds-check
/// stubs) are not loop back edges, so a loop-free program gets no no-ops.
#[test]
fn loop_free_code_has_no_padding() {
    use bpf_bridge::program::{ProgType, Program};
    use jit::{compile, Arch, Options};
    // Loads from r1 (checked: stubs that branch back), an early exit and a
    // forward branch, over several cache lines: no backward eBPF jump.
    let mut ops = Vec::new();
    for k in 0..24 {
        ops.push(load(Size::B, 3, k));
        ops.push(alu(AluOp::Add, 3, 1));
    }
    ops.extend([
        load(Size::B, 2, 0),
        jmp(JmpOp::Eq, 2, 7, 2),
        alu(AluOp::Mov, 0, 1),
        Op::Exit,
        load(Size::W, 0, 4),
        Op::Exit,
    ]);
    let insns = prog(&ops);
    let mut mem = [0u8; 24];
    mem[4..8].copy_from_slice(&[1, 2, 3, 4]);
    for first in [7u8, 8] {
        mem[0] = first;
        let r0 = check_same(&insns, &mem).unwrap();
        assert_eq!(r0, if first == 7 { 0x0403_0201 } else { 1 });
    }
    let facts = super::harness::all_proven(&insns);
    let p = Program::new("t", ProgType::Raw, insns);
    for proven in [Some(&facts), None] {
        let c = compile(&p, proven, Arch::X86_64, Options::default()).unwrap();
        let text = c.disassemble();
        assert!(!text.contains("nop"), "{text}");
    }
}
