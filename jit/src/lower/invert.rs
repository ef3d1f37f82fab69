//! Loop inversion: a back edge `ja H` whose head only tests (a few ALU ops,
//! then a conditional jump that leaves the loop) is lowered as a copy of
//! that test, inverted: back to the body while the loop goes on, on to the
//! exit (falling through when it follows the back edge). An iteration then
//! runs one conditional branch instead of a jump and a branch.
//!
//! ```text
//! H:   t = ...; if c(t) goto X        H:   t = ...; if c(t) goto X
//!      body                           L:   body
//! B:   goto H                         B:   t = ...; if !c(t) goto L
//! X:                                       (goto X unless X = B + 1)
//! ```
//!
//! The copy computes what the head would: its ops are register-only ALU
//! ops (no access, no call, nothing that faults), lowered by the same
//! methods. Jumps into the head or the body are unaffected (the head keeps
//! its code); checked mode still counts the back edge before the copy.

use super::Lowering;
use crate::masm::{MacroAssembler, VReg};
use bpf_bridge::isa::{decode_one, AluOp, Insn, JmpOp, Op, Src, Width};

/// ALU ops a head may have before its test (each is copied to the latch).
const MAX_HEAD_OPS: usize = 4;

/// The head test of a loop from `h` back from `b`: its ALU ops `h .. g`
/// and its conditional jump at `g`, which leaves forward past `b` on a
/// condition that has an inverse.
fn head_test(insns: &[Insn], h: usize, b: usize) -> Option<usize> {
    let mut g = h;
    while g < b && g <= h + MAX_HEAD_OPS {
        match decode_one(insns, g).ok()? {
            Op::Alu { .. } => g += 1,
            Op::Jmp { op, off, .. } => {
                let x = g as i64 + 1 + off as i64;
                return (op.inverse().is_some() && x > b as i64).then_some(g);
            }
            _ => return None,
        }
    }
    None
}

impl<M: MacroAssembler> Lowering<'_, M> {
    /// The back edge `ja` at `b` to `h <= b` as its head's test, inverted;
    /// returns whether it was (else the caller emits the jump).
    #[inline(never)]
    pub(super) fn inverted_back_edge(&mut self, b: usize, h: usize) -> bool {
        let Some(g) = head_test(self.insns, h, b) else {
            return false;
        };
        let Ok(Op::Jmp {
            width: jw,
            op: jop,
            dst: a,
            src: c,
            off,
        }) = decode_one(self.insns, g)
        else {
            return false;
        };
        let mut pc = h;
        while pc < g {
            // (`head_test` saw ALU ops only.)
            let Ok(Op::Alu {
                width,
                op,
                dst,
                src,
            }) = decode_one(self.insns, pc)
            else {
                break;
            };
            pc += 1;
            if let (AluOp::Mov, Src::Reg(s)) = (op, src) {
                // `mov d, s; add d, k` as one op, as `combine` lowers it.
                if let Some(k) = self.added(pc, g, width, dst) {
                    if self.m.add_copy(width, VReg::bpf(dst), VReg::bpf(s), k) {
                        pc += 1;
                        continue;
                    }
                }
            }
            self.alu(width, op, VReg::bpf(dst), src);
        }
        let x = self.target(g, off as i64);
        let s = self.src(c, VReg::T0);
        let back = jop.inverse().unwrap_or(JmpOp::Eq);
        self.m
            .branch(jw, back, VReg::bpf(a), s, self.first.nth(g + 1));
        if x != b + 1 {
            self.m.jump(self.first.nth(x));
        }
        true
    }

    /// `k` when slot `pc` (before `g`) adds the immediate `k` to `dst` at
    /// `width` and constants are not blinded.
    fn added(&self, pc: usize, g: usize, width: Width, dst: bpf_bridge::isa::Reg) -> Option<i32> {
        if pc >= g || !M::ADDS_COPIES || self.opts.blind.is_some() {
            return None;
        }
        match decode_one(self.insns, pc).ok()? {
            Op::Alu {
                width: w,
                op: AluOp::Add,
                dst: d,
                src: Src::Imm(k),
            } if w == width && d == dst => Some(k),
            _ => None,
        }
    }
}
