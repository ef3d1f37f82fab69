//! The slots of a [`GuardLoop`]: the limit computed on entry, the guard
//! compared with it, the counter's add and test gone; the latch repeats the
//! guard's test (inverted, back to the body; the exit falls through), so an
//! iteration runs one branch. With [`GuardLoop::by_pointer`] the head's
//! `t = p + k` goes too: the guard tests `p` and the advance adds `k` to it.

use super::Lowering;
use crate::guard_loop::GuardLoop;
use crate::masm::{BinOp, MacroAssembler, Operand, VReg};
use bpf_bridge::isa::{JmpOp, Op, OpSink, Width};

/// The sink of a program with such loops: their slots first, the rest as
/// usual (programs without them pay nothing per op).
pub(super) struct Sink<'l, 'a, M: MacroAssembler>(pub &'l mut Lowering<'a, M>);

impl<M: MacroAssembler> OpSink for Sink<'_, '_, M> {
    #[inline(always)]
    fn op(&mut self, pc: usize, op: Op) {
        if pc >= self.0.next_guard && self.0.guard_slot(pc, op) {
            return;
        }
        self.0.lower_slot(pc, op);
    }
}

impl<M: MacroAssembler> Lowering<'_, M> {
    /// [`OpSink::op`] of the plain lowering, once for this sink.
    #[inline(never)]
    fn lower_slot(&mut self, pc: usize, op: Op) {
        OpSink::op(self, pc, op);
    }

    /// Slot `pc` (at least `next_guard`) of the first loop left; returns
    /// whether it was lowered here (its label bound), else the caller
    /// lowers it as usual.
    #[inline(never)]
    pub(super) fn guard_slot(&mut self, pc: usize, op: Op) -> bool {
        let Some(&l) = self.guard_loops.first() else {
            self.next_guard = usize::MAX;
            return false;
        };
        let v = VReg::bpf;
        if !self.guard_armed {
            if pc == l.head && pc >= self.fused && self.waiting.is_none() {
                // Before the head's label: on entry only.
                self.m
                    .loop_limit(v(l.p), v(l.c), v(l.e), l.n, l.k, l.by_pointer);
                // From here on every slot of the loop is as `find` saw it
                // (none is fused into another, no jump waits before one).
                self.guard_armed = true;
                self.guard_step = l.k;
                if !l.by_pointer {
                    self.next_guard = l.guard();
                    return false;
                }
                // `t = p; t += k`: never set.
                self.m.bind(self.first.nth(pc));
                self.next_guard = pc + 1;
                return true;
            }
            // Not as expected (a slot fused into an earlier one): this loop
            // lowers as usual.
            self.next_loop();
            return false;
        }
        if pc < l.advance && pc >= l.hoist_from && l.by_pointer {
            self.hoist_advance(&l, pc);
            return false;
        }
        debug_assert!(pc >= self.fused && self.waiting.is_none());
        self.m.bind(self.first.nth(pc));
        if pc == l.head + 1 {
            self.next_guard = l.guard();
        } else if pc == l.guard() {
            let Op::Jmp { off, .. } = op else {
                unreachable!("find saw a jump")
            };
            let t = self.target(pc, off as i64);
            self.guard_test(&l, false, self.first.nth(t));
            self.next_guard = after_guard(&l);
            self.unroll(&l, self.first.nth(t));
        } else if pc == l.advance {
            if !self.guard_hoisted {
                let k = Operand::Imm(self.guard_step);
                self.m.alu(Width::W64, BinOp::Add, v(l.p), k);
            }
            self.next_guard = l.latch - 1;
        } else if pc == l.latch - 1 {
            // The counter's add: nothing reads it.
            self.next_guard = l.latch;
        } else if self.guard_unrolled {
            // The latch of an unrolled loop: its body ran once more, the
            // last time (`lower/unroll.rs`); the exit follows.
            self.next_loop();
        } else {
            // The latch: the guard's test again, back into the body while it
            // passes; its exit (B + 1) follows.
            if !l.by_pointer {
                let (t, p) = (v(l.t), v(l.p));
                if !self.m.add_copy(Width::W64, t, p, l.k) {
                    self.m.mov(Width::W64, t, Operand::Reg(p));
                    self.m.alu(Width::W64, BinOp::Add, t, Operand::Imm(l.k));
                }
            }
            self.guard_test(&l, true, self.first.nth(l.guard() + 1));
            self.next_loop();
        }
        true
    }

    /// Jumps to `to` when the guard fails (`pass`: when it passes).
    fn guard_test(&mut self, l: &GuardLoop, pass: bool, to: crate::buffer::Label) {
        let (op, a) = match (l.by_pointer, pass) {
            (false, false) => (JmpOp::Gt, l.t),
            (false, true) => (JmpOp::Le, l.t),
            (true, false) => (JmpOp::Ge, l.p),
            (true, true) => (JmpOp::Lt, l.p),
        };
        self.m.branch_limit(op, VReg::bpf(a), to);
    }

    /// Slot `pc` of the span where the advance's `p += k` may go early:
    /// emitted before the slot's label (nothing before it lands there) when
    /// `find` allows the slot and no earlier slot's code holds this one's.
    fn hoist_advance(&mut self, l: &GuardLoop, pc: usize) {
        let allowed = (l.hoist_mask >> (pc - l.hoist_from).min(63)) & 1 == 1;

        if !self.guard_hoisted && allowed && pc >= self.fused && self.waiting.is_none() {
            let (p, k) = (VReg::bpf(l.p), Operand::Imm(self.guard_step));
            self.m.alu(Width::W64, BinOp::Add, p, k);
            self.guard_hoisted = true;
        }
        self.next_guard = if self.guard_hoisted {
            l.advance
        } else {
            pc + 1
        };
    }

    fn next_loop(&mut self) {
        self.guard_loops.remove(0);
        self.guard_armed = false;
        self.guard_hoisted = false;
        self.guard_unrolled = false;
        self.next_guard = self.guard_loops.first().map_or(usize::MAX, |l| l.head);
    }
}

/// The slot of `l` whose code comes next after its guard's.
pub(super) fn after_guard(l: &GuardLoop) -> usize {
    match (l.by_pointer, l.hoist_mask) {
        (false, _) => l.latch - 1,
        (true, 0) => l.advance,
        (true, _) => l.hoist_from,
    }
}
