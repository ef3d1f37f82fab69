//! Pairs of eBPF ops lowered as one: patterns a C compiler leaves in loops
//! that have a better machine form than their ops one by one. Each pattern
//! needs the second op not to be a jump target (nothing else reaches it) and
//! no constant blinding (the immediates would have to be blinded).
//!
//! (`mov d, s; add d, k` as one `lea` was tried: on Zen 4 the loops ran
//! slower with it than with the eliminated `mov` and an `add`.)

use crate::masm::{BinOp, Cmp, MacroAssembler, Operand, VReg};
use bpf_bridge::isa::{AluOp, Op, Src};

/// Lowers two consecutive ops together when they form a pattern; returns
/// whether it did (if not, the caller lowers them one by one). The caller
/// checks that nothing jumps to `second` and that constants are not blinded.
pub fn fuse<M: MacroAssembler>(m: &mut M, first: Op, second: Op) -> bool {
    match (first, second) {
        // `if a op b goto +1; d op= s`: a branch over one ALU op, as counting
        // or saturating code has it, done without the branch.
        (
            Op::Jmp {
                width: cw,
                op: jop,
                dst: a,
                src: b,
                off: 1,
            },
            Op::Alu {
                width,
                op,
                dst,
                src,
            },
        ) => {
            let bin = match op {
                AluOp::Mov => None,
                AluOp::Add => Some(BinOp::Add),
                AluOp::Sub => Some(BinOp::Sub),
                AluOp::Or => Some(BinOp::Or),
                AluOp::Xor => Some(BinOp::Xor),
                AluOp::And => Some(BinOp::And),
                _ => return false,
            };
            let operand = |s: Src| match s {
                Src::Reg(r) => Operand::Reg(VReg::bpf(r)),
                Src::Imm(i) => Operand::Imm(i),
            };
            let c = Cmp {
                w: cw,
                op: jop,
                a: VReg::bpf(a),
                b: operand(b),
            };
            m.alu_unless(c, width, bin, VReg::bpf(dst), operand(src))
        }
        _ => false,
    }
}
