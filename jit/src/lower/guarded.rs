//! The slots of a [`GuardLoop`]: the limit computed on entry, the guard
//! compared with it, the counter's add and test gone (the latch jumps back).

use super::Lowering;
use crate::masm::{MacroAssembler, VReg};
use bpf_bridge::isa::{Op, OpSink};

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
        let armed = self.guard_armed;
        if pc == l.head && pc >= self.fused {
            // Before the head's label: on entry only.
            let v = VReg::bpf;
            self.m.loop_limit(v(l.p), v(l.c), v(l.e), l.n, l.k);
            self.next_guard = l.guard();
            return false;
        }
        if let (true, Op::Jmp { dst, off, .. }) = (pc == l.guard() && pc >= self.fused, op) {
            self.m.bind(self.first.nth(pc));
            let t = self.target(pc, off as i64);
            self.m.branch_above_limit(VReg::bpf(dst), self.first.nth(t));
            self.guard_armed = true;
            self.next_guard = l.latch - 1;
            return true;
        }
        if armed && pc == l.latch - 1 && pc >= self.fused {
            // The counter's add: nothing reads it.
            self.m.bind(self.first.nth(pc));
            self.next_guard = l.latch;
            return true;
        }
        if let (true, Op::Jmp { off, .. }) = (armed && pc == l.latch && pc >= self.fused, op) {
            self.m.bind(self.first.nth(pc));
            let t = self.target(pc, off as i64);
            self.m.jump(self.first.nth(t));
            self.next_loop();
            return true;
        }
        // Not as expected (a slot fused into an earlier one): the rest of
        // this loop lowers as usual, which the limit does not change.
        self.next_loop();
        false
    }

    fn next_loop(&mut self) {
        self.guard_loops.remove(0);
        self.guard_armed = false;
        self.next_guard = self.guard_loops.first().map_or(usize::MAX, |l| l.head);
    }
}
