//! Two iterations a trip for small [`GuardLoop`]s that test the pointer
//! itself ([`GuardLoop::by_pointer`]): the body twice, the second copy's
//! accesses through `p` displaced by `k` and one `p += 2k` for both, then a
//! single test of the limit less `k`. A last odd iteration runs once after.
//!
//! ```text
//!      if p >= L goto X                    (the guard: iteration allowed)
//!      if p + k >= L goto R                (not two)
//!      L -= k
//! U:   body [p]; body [p + k]; p += 2k
//!      if p < L goto U                     (two more allowed)
//!      L += k
//!      if p >= L goto X
//! R:   body [p]; p += k                    (then p + k >= L: the exit)
//! X:
//! ```
//!
//! Iteration `i` runs exactly when `p0 + i * k < L`, as in the loop it
//! replaces, and `p` ends where that loop leaves it. `L` is at least
//! `p + k + 1` when it is lowered, so neither sum wraps. The copies are the
//! slots lowered again through [`Sink`] with their own labels, so every
//! pattern and every architecture lowers them as it lowers the loop's own.
//!
//! Only straight bodies qualify: jumps go forward inside the body (no exit
//! but the guard: a copy's labels stand for body slots only), and `p` is read
//! only as the base of loads and stores. On Ice Lake one add for two
//! iterations ran the byte count 30-40% faster; the body twice with its own
//! adds did not pay.

use super::guarded::{after_guard, Sink};
use super::Lowering;
use crate::buffer::Label;
use crate::guard_loop::GuardLoop;
use crate::masm::{MacroAssembler, VReg};
use crate::regflow::{bit, effects};
use alloc::vec::Vec;
use bpf_bridge::isa::{decode_one, Insn, JmpOp, Op, OpSink, Reg, Src};

/// Body slots (between the guard and the latch) of a loop unrolled at most.
const MAX_BODY: usize = 24;

/// Largest stride unrolled (`2k` stays a small immediate everywhere).
const MAX_STRIDE: i32 = 256;

/// Whether `l`'s body can be lowered twice a trip.
pub(super) fn unrollable(insns: &[Insn], l: &GuardLoop) -> bool {
    let (first, end) = (l.guard() + 1, l.latch - 1);
    if !l.by_pointer || l.k > MAX_STRIDE || end - first > MAX_BODY {
        return false;
    }
    let p = l.p;
    let displaced = |base: Reg, off: i16| base != p || off.checked_add(l.k as i16).is_some();
    (first..end).all(|pc| {
        let Ok(op) = decode_one(insns, pc) else {
            return false;
        };
        match op {
            _ if pc == l.advance => true,
            Op::Alu { .. } | Op::Neg { .. } | Op::Endian { .. } => effects(op).reads & bit(p) == 0,
            Op::Load { base, off, .. } => displaced(base, off),
            Op::Store { base, off, src, .. } => src != Src::Reg(p) && displaced(base, off),
            Op::Jmp { off, .. } => {
                let t = pc as i64 + 1 + off as i64;
                effects(op).reads & bit(p) == 0 && t > pc as i64 && t <= end as i64
            }
            _ => false,
        }
    })
}

/// `op` with its access through `p` displaced by `d` bytes.
fn displace(mut op: Op, p: Reg, d: i16) -> Op {
    if let Op::Load { base, off, .. } | Op::Store { base, off, .. } = &mut op {
        if *base == p {
            *off += d;
        }
    }
    op
}

impl<M: MacroAssembler> Lowering<'_, M> {
    /// Right after the guard of `l` (which leaves for `exit`): when `l`
    /// can, the unrolled loop up to the last odd iteration, which the
    /// loop's own slots then lower (their latch with no code).
    pub(super) fn unroll(&mut self, l: &GuardLoop, exit: Label) {
        if !unrollable(self.insns, l) {
            return;
        }
        let (first, end) = (l.guard() + 1, l.latch - 1);
        let Some(copies) = [
            self.m.new_labels(end + 1 - first),
            self.m.new_labels(end + 1 - first),
        ]
        .into_iter()
        .map(|b| b.back(first))
        .collect::<Option<Vec<Label>>>() else {
            return;
        };
        let p = VReg::bpf(l.p);
        // Not two iterations: only the last.
        self.m.lea(VReg::T0, p, l.k);
        self.m
            .branch_limit(JmpOp::Ge, VReg::T0, self.first.nth(first));
        self.m.limit_add(-l.k);
        let top = self.m.new_label();
        self.m.bind(top);
        let (own, fused) = (self.first, self.fused);
        for (i, labels) in copies.into_iter().enumerate() {
            self.first = labels;
            self.fused = fused;
            self.next_guard = after_guard(l);
            // The first copy leaves `p` alone, the second adds both strides.
            self.guard_hoisted = i == 0;
            self.guard_step = 2 * l.k;
            let d = (i as i32 * l.k) as i16;
            let mut pc = first;
            while pc <= end {
                let Ok(op) = decode_one(self.insns, pc) else {
                    break;
                };
                Sink(self).op(pc, displace(op, l.p, d));
                pc += 1;
            }
        }
        self.first = own;
        self.fused = fused;
        self.next_guard = after_guard(l);
        self.guard_hoisted = false;
        self.guard_step = l.k;
        self.guard_unrolled = true;
        self.m.branch_limit(JmpOp::Lt, p, top);
        self.m.limit_add(l.k);
        self.m.branch_limit(JmpOp::Ge, p, exit);
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;
    use crate::guard_loop::tests::strided;

    /// Whether the loop of `bench/loops/byte_count.s` with `body` after the
    /// load (stride `k`) is unrolled.
    fn unrolls(k: i32, body: &str) -> bool {
        let (insns, loops) = strided(k, &format!("    ldxb %r6, [%r2+0]\n{body}"), "");
        assert_eq!(loops.len(), 1, "{body}");
        unrollable(&insns, &loops[0])
    }

    #[test]
    fn straight_bodies_through_the_pointer_are_unrolled() {
        assert!(unrolls(1, "    jne %r6, 10, +1\n    add %r0, 1"));
        assert!(unrolls(
            2,
            "    ldxh %r7, [%r2+0]\n    be16 %r7\n    add %r0, %r7"
        ));
        assert!(unrolls(
            4,
            "    stxb [%r2+3], %r6\n    jeq %r6, 1, +1\n    neg %r0"
        ));
        // A jump onto the advance.
        assert!(unrolls(1, "    jeq %r6, 1, +1\n    add %r0, 1"));
    }

    #[test]
    fn other_bodies_keep_one_iteration_a_trip() {
        // The pointer read as a value, compared, stored.
        assert!(!unrolls(1, "    mov %r7, %r2"));
        assert!(!unrolls(1, "    jeq %r2, %r6, +0"));
        assert!(!unrolls(1, "    stxdw [%r10-8], %r2"));
        // An exit from the middle.
        assert!(!unrolls(1, "    jeq %r6, 1, +3"));
        // A second copy's offset out of range.
        assert!(!unrolls(8, "    ldxb %r7, [%r2+32760]"));
        assert!(unrolls(8, "    ldxb %r7, [%r2+32759]"));
        // Too long a body, too long a stride, or a call.
        assert!(!unrolls(1, &"    add %r0, 1\n".repeat(MAX_BODY)));
        assert!(!unrolls(MAX_STRIDE + 1, "    add %r0, 1"));
        assert!(!unrolls(1, "    lddw %r7, 5\n    add %r0, %r7"));
    }
}
