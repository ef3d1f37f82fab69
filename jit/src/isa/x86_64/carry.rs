//! Counting without a branch through the carry flag: `if c goto +1;
//! d += 1` (or `d -= 1`) as a compare that leaves in CF whether the add
//! applies (or whether it does not), then one `adc`/`sbb` of a constant —
//! two or three instructions where a `setcc` takes a zeroed register, the
//! `setcc` and an add.

use super::asm::{Alu, Mem};
use super::masm::X64Masm;
use super::regs::Gpr;
use crate::masm::{BinOp, Cmp, Operand, VReg};
use bpf_bridge::isa::{JmpOp, Width};

impl X64Masm {
    /// `dst op= 1` (`op`: add or sub, at 64 bits) unless `c` holds; returns
    /// false, having emitted nothing, when `c` has no compare that puts the
    /// answer in CF.
    pub(super) fn count_unless(&mut self, c: Cmp, op: BinOp, dst: Gpr) -> bool {
        let wide = c.w == Width::W64;
        let (a, t) = (gpr(c.a), gpr(VReg::T1));
        // Whether CF, once set, says the op applies (else it says it does not).
        let applies = match (c.op, c.b) {
            (JmpOp::Ge, b) | (JmpOp::Lt, b) => {
                match b {
                    Operand::Reg(b) => self.asm.alu_rr(Alu::Cmp, wide, a, gpr(b)),
                    Operand::Imm(i) => self.asm.alu_ri(Alu::Cmp, wide, a, i),
                }
                // CF = a < b.
                c.op == JmpOp::Ge
            }
            (JmpOp::Gt | JmpOp::Le, Operand::Reg(b)) => {
                // CF = b < a.
                self.asm.alu_rr(Alu::Cmp, wide, gpr(b), a);
                c.op == JmpOp::Le
            }
            (JmpOp::Eq | JmpOp::Ne, Operand::Imm(i)) if !wide || i != i32::MIN => {
                // t = a - b, at the compare's width.
                let m = Mem {
                    base: a,
                    disp: i.wrapping_neg(),
                };
                self.asm.lea_w(wide, t, m);
                if c.op == JmpOp::Ne {
                    // CF = t < 1: a == b, when the add applies.
                    self.asm.alu_ri(Alu::Cmp, wide, t, 1);
                } else {
                    // CF = t != 0.
                    self.asm.neg(wide, t);
                }
                true
            }
            _ => return false,
        };
        let (x, k) = match (op, applies) {
            (BinOp::Add, true) => (Alu::Adc, 0),
            (BinOp::Add, false) => (Alu::Sbb, -1),
            (_, true) => (Alu::Sbb, 0),
            (_, false) => (Alu::Adc, -1),
        };
        self.asm.alu_ri(x, true, dst, k);
        true
    }
}

fn gpr(v: VReg) -> Gpr {
    super::regs::MAP[v.idx()]
}
