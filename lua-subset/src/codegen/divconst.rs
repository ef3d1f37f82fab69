//! Floored `//` and `%` by a constant, in forms whose results both verifiers
//! can bound.
//!
//! Linux (6.x) keeps no bounds through `div`, `mod`, `sdiv` or `smod`: a
//! packet offset or a loop start computed with `%` is any 64-bit value to it,
//! and the paths that follow rarely prune. Each form here either uses ops it
//! tracks (`and`, `arsh` for powers of two) or ends with a jump to the error
//! exit that never runs but tells it the result's range (`clamp`).

use super::vcode::*;
use super::{Gen, Opnd};
use crate::luaops::idiv;
use bpf_bridge::isa::{AluOp, JmpOp};

impl<'m, 'a> Gen<'m, 'a> {
    /// `a // d` or `a % d` for a constant `d != 0`, into a fresh temporary.
    ///
    /// Its range is told to Linux but not recorded in `ranges`: there it would
    /// let `num_for` prove loops (`for i = 1, x % 9`) whose exact index then
    /// multiplies Linux's states in nested loops (generated program 134).
    pub(crate) fn divmod_const(&mut self, is_mod: bool, a: Opnd, d: i64) -> V {
        let known = match a {
            Opnd::Imm(i) => Some((i, i)),
            Opnd::Reg(r) => self.ranges.get(&r).copied(),
        };
        let ar = self.reg_of(a);
        if d > 0 && (d as u64).is_power_of_two() {
            // For every signed x: x % 2^k == x & (2^k - 1), x // 2^k == x >> k
            // (arithmetic).
            let r = self.new_v();
            let k = d.trailing_zeros();
            if is_mod && d == 1 {
                self.mov_imm(r, 0);
            } else if is_mod {
                self.mov(r, ar);
                let m = self.src_of(Opnd::Imm(d - 1));
                self.alu(AluOp::And, r, m);
            } else {
                self.mov(r, ar);
                if k > 0 {
                    self.alu(AluOp::Arsh, r, VSrc::Imm(k as i32));
                }
            }
            return r;
        }
        if let Some((_, hi)) = known.filter(|&(lo, _)| lo >= 0 && d > 0) {
            // A non-negative dividend: the unsigned op is the floored one.
            let r = self.new_v();
            self.mov(r, ar);
            let ds = self.src_of(Opnd::Imm(d));
            let (op, top) = if is_mod {
                (AluOp::Mod, (d - 1).min(hi))
            } else {
                (AluOp::Div, hi / d)
            };
            self.alu(op, r, ds);
            // From 0, not `lo / d`: one unsigned jump tells Linux the range.
            self.clamp(r, 0, top);
            return r;
        }
        let r = self.floored(is_mod, ar, Opnd::Imm(d));
        let range = if is_mod {
            Some(if d > 0 { (0, d - 1) } else { (d + 1, 0) })
        } else {
            // Floored division is monotonic in the dividend.
            known.and_then(|(lo, hi)| {
                let (x, y) = (idiv(lo, d)?, idiv(hi, d)?);
                Some((x.min(y), x.max(y)))
            })
        };
        if let Some((lo, hi)) = range {
            self.clamp(r, lo, hi);
        }
        r
    }

    /// Jumps to the error exit unless `lo <= v <= hi`, which always holds:
    /// the jump never runs, but Linux learns the range from it. The jump in
    /// the code goes on when the value is in range, so the side Linux keeps
    /// pending (a jump's target) is the rest of the program, not the error
    /// exit: pending error exits piled up in long paths and exceeded its
    /// 8,192 pending branches.
    pub(crate) fn clamp(&mut self, v: V, lo: i64, hi: i64) {
        let within = |g: &mut Self, op: JmpOp, k: i64| {
            let b = g.src_of(Opnd::Imm(k));
            let ok = g.label();
            g.emit(VOp::Jmp {
                op,
                a: v,
                b,
                target: ok,
            });
            g.fail();
            g.place(ok);
        };
        if lo == 0 {
            // Unsigned: negative values are above `hi` too.
            within(self, JmpOp::Le, hi);
        } else {
            within(self, JmpOp::Sge, lo);
            within(self, JmpOp::Sle, hi);
        }
    }
}
