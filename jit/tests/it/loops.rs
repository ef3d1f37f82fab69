//! Loops of every length (x86_64 pads their heads to cache lines, see
//! `jit::buffer::LoopAlign`): nested, with short branches across the padding
//! in both directions, against the reference on every architecture.

use super::harness::{check_emulated, check_same};
use super::ops::prog;
use bpf_bridge::isa::{AluOp, JmpOp, Op, Reg, Src, Width};

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
        let start = c.offsets[head] as usize;
        let end = c.offsets[back + 1] as usize;
        assert!(end - start <= 64, "body {body}: {} bytes", end - start);
        assert_eq!(start / 64, (end - 1) / 64, "body {body}: {start}..{end}");
    }
}
