//! Pairs of eBPF ops lowered as one: patterns a C compiler leaves in loops
//! that have a better machine form than their ops one by one. Each pattern
//! needs the second op not to be a jump target (nothing else reaches it) and
//! no constant blinding (the immediates would have to be blinded).
//!
//! Patterns that need more than the two ops (a register's liveness) live in
//! `lower/combine.rs`, as does `mov d, s; add d, k` as one `lea` (measured
//! slower on Zen 4 once; on Ice Lake it takes `byte_count` from 1.8x to
//! 1.5x its native Rust version).

use crate::masm::{BinOp, Cmp, MacroAssembler, Operand, VReg};
use bpf_bridge::isa::{AluOp, Op, Src, Width};

/// Two consecutive ops that form a pattern, as the architecture takes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pair {
    /// `if c goto +1; dst op= src` (`op` None: `dst = src`): a branch over
    /// one ALU op, as counting or saturating code has it, done without the
    /// branch ([`MacroAssembler::alu_unless`]).
    JumpOverAlu {
        c: Cmp,
        w: Width,
        op: Option<BinOp>,
        dst: VReg,
        src: Operand,
    },
}

/// The pattern `first; second` form, if any. Looks at the two ops only: the
/// caller checks that nothing jumps to `second` and that constants are not
/// blinded, then [`lower`]s it.
#[inline]
pub fn pair(first: Op, second: Op) -> Option<Pair> {
    match first {
        Op::Jmp {
            width: cw,
            op: jop,
            dst: a,
            src: b,
            off: 1,
        } => {
            let (w, op, dst, src) = skipped_alu(second)?;
            let c = Cmp {
                w: cw,
                op: jop,
                a: VReg::bpf(a),
                b: operand(b),
            };
            Some(Pair::JumpOverAlu { c, w, op, dst, src })
        }
        _ => None,
    }
}

/// Lowers `p` as one piece; returns whether it did (if not, having emitted
/// nothing, the caller lowers the ops one by one).
pub fn lower<M: MacroAssembler>(m: &mut M, p: Pair) -> bool {
    match p {
        Pair::JumpOverAlu { c, w, op, dst, src } => m.alu_unless(c, w, op, dst, src),
    }
}

/// The ALU op a jump skips, as [`MacroAssembler::alu_unless`] takes it,
/// when it has a branch-free form.
#[inline(always)]
fn skipped_alu(op: Op) -> Option<(Width, Option<BinOp>, VReg, Operand)> {
    let Op::Alu {
        width,
        op,
        dst,
        src,
    } = op
    else {
        return None;
    };
    if !skips(op) {
        return None;
    }
    let bin = match op {
        AluOp::Add => Some(BinOp::Add),
        AluOp::Sub => Some(BinOp::Sub),
        AluOp::Or => Some(BinOp::Or),
        AluOp::Xor => Some(BinOp::Xor),
        AluOp::And => Some(BinOp::And),
        _ => None,
    };
    Some((width, bin, VReg::bpf(dst), operand(src)))
}

/// Whether a jump over one ALU op of operation `op` may form a
/// [`Pair::JumpOverAlu`] (asked before the op is decoded, from its opcode).
#[inline(always)]
pub fn skips(op: AluOp) -> bool {
    SKIPS >> op as u32 & 1 != 0
}

/// [`skips`] as a mask of `1 << op`: a test without a branch per operation.
pub const SKIPS: u32 = 1 << AluOp::Mov as u32
    | 1 << AluOp::Add as u32
    | 1 << AluOp::Sub as u32
    | 1 << AluOp::Or as u32
    | 1 << AluOp::Xor as u32
    | 1 << AluOp::And as u32;

#[inline(always)]
fn operand(s: Src) -> Operand {
    match s {
        Src::Reg(r) => Operand::Reg(VReg::bpf(r)),
        Src::Imm(i) => Operand::Imm(i),
    }
}
