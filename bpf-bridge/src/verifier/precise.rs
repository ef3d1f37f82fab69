//! Precision tracking (the kernel's `mark_chain_precision`): scalars are
//! imprecise until their exact value matters for safety — a pointer
//! arithmetic operand, a helper argument that must be known, a comparison
//! whose outcome the walk decided. Then the history of the current path is
//! walked backwards and every register and stack slot the value derives from
//! is marked precise in the recorded states it passes. Pruning compares only
//! precise scalars: an imprecise one in an explored state matches any scalar.
//!
//! A path pruned against a state whose exploration is not finished (a may_goto
//! loop head, or a state inside such a loop) cannot copy marks that are still
//! to come. It is kept as a back-edge, the states on its way are tied to the
//! loop head (and compared by full containment meanwhile), and when the head
//! is finished the marks are pushed along every back-edge until nothing
//! changes (the kernel's loop entries and SCC back-edges).

use super::cfg::MAX_FRAMES;
use super::check::Checker;
pub use super::marks::Marks;
use super::marks::{Demand, OneFrame, SLOTS};
use super::state::{Byte, Frame, Kind, State};
use super::store::Kept;
use crate::isa::{AluOp, AtomicOp, Op, Reg, Size, Src};
use crate::program::{helper_id, ProgType};
use alloc::vec::Vec;

/// No stack access recorded.
pub const NO_STACK: u16 = 0;
/// A jump whose operands are linked to scalars of other frames.
pub const LINK_FAR: u16 = 0x8000;

/// One executed instruction of a path, with what backtracking needs.
#[derive(Clone, Copy, Debug)]
pub struct Hist {
    /// The instruction.
    pub pc: u32,
    /// Loads, stores and atomics on the stack: `1 + frame * 64 + slot`;
    /// conditional jumps: [`LINK_FAR`] when linked scalars live in other frames.
    pub stack: u16,
    /// Conditional jumps on scalars: registers of the frame linked to an
    /// operand by id (refined together).
    pub links: u16,
    /// ... and stack slots of the frame holding such a spilled scalar.
    pub link_slots: u64,
}

impl Hist {
    /// An entry for `pc` with nothing recorded yet.
    pub fn at(pc: usize) -> Hist {
        Hist {
            pc: pc as u32,
            stack: NO_STACK,
            links: 0,
            link_slots: 0,
        }
    }

    /// The stack access recorded: `(frame, slot)`.
    fn stack_slot(&self) -> Option<(usize, usize)> {
        match self.stack {
            NO_STACK | LINK_FAR => None,
            s => {
                let s = (s - 1) as usize;
                Some((s / SLOTS, s % SLOTS))
            }
        }
    }

    /// Records a stack access at frame offset `off` of `frame`.
    pub fn set_stack(&mut self, frame: usize, off: i64) {
        let (i, _) = super::state::slot_of(off);
        if frame < MAX_FRAMES && i < SLOTS {
            self.stack = 1 + (frame * SLOTS + i) as u16;
        }
    }
}

/// A path that ended on a state whose marks are not final yet.
pub(super) struct Backedge {
    /// The path's instructions since its last recorded state.
    hist: Vec<Hist>,
    /// Its last recorded state.
    parent: Option<u32>,
    /// Its current frame.
    frame: usize,
    /// The state it was pruned against: its marks are to be copied.
    from: u32,
    /// The loop head whose completion makes the marks final.
    head: u32,
}

/// Undoes one instruction on the demanded set: what `d` needed after `h`
/// becomes what it needs before. `false` when the walk cannot follow (then
/// everything is made precise). Inlined into the backtracking loops: it runs
/// once per instruction walked back, and a call costs as much as its body.
#[inline(always)]
fn back_one<D: Demand>(ops: &[Op], raw: bool, h: &Hist, frame: &mut usize, d: &mut D) -> bool {
    let fr = *frame;
    let Some(op) = ops.get(h.pc as usize) else {
        return false;
    };
    match *op {
        Op::Alu { op, dst, src, .. } => {
            if !d.has_reg(fr, dst.idx()) {
                return true;
            }
            let mov = matches!(
                op,
                AluOp::Mov | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32
            );
            if mov {
                d.clear_reg(fr, dst.idx());
            }
            if let Src::Reg(r) = src {
                d.set_reg(fr, r.idx());
            }
        }
        Op::Neg { .. } | Op::Endian { .. } => {}
        Op::LoadImm64 { dst, .. } | Op::LoadMap { dst, .. } | Op::LoadMapValue { dst, .. } => {
            d.clear_reg(fr, dst.idx())
        }
        Op::Load { dst, .. } => {
            if d.has_reg(fr, dst.idx()) {
                d.clear_reg(fr, dst.idx());
                if let Some((f, i)) = h.stack_slot() {
                    d.set_slot(f, i);
                }
            }
        }
        Op::Store { size, src, .. } => {
            if let Some((f, i)) = h.stack_slot() {
                if d.has_slot(f, i) {
                    d.clear_slot(f, i);
                    // Only a full spill keeps the register's value.
                    if let (Size::DW, Src::Reg(r)) = (size, src) {
                        d.set_reg(fr, r.idx());
                    }
                }
            }
        }
        Op::Atomic { op, fetch, src, .. } => {
            if let Some((f, i)) = h.stack_slot() {
                d.clear_slot(f, i);
            }
            if op == AtomicOp::Cmpxchg {
                d.clear_reg(fr, 0);
            } else if fetch {
                d.clear_reg(fr, src.idx());
            }
        }
        Op::Jmp { dst, src, .. } => {
            let mut ops = 1u16 << dst.idx();
            if let Src::Reg(r) = src {
                ops |= 1 << r.idx();
            }
            let far = h.stack == LINK_FAR && !d.is_empty();
            let hit = far || d.regs(fr) & (ops | h.links) != 0 || d.slots(fr) & h.link_slots != 0;
            if hit {
                // The refined value derives from both operands before the jump.
                d.set_reg(fr, dst.idx());
                if let Src::Reg(r) = src {
                    d.set_reg(fr, r.idx());
                }
            }
        }
        Op::Call { helper } => {
            let r0 = d.has_reg(fr, 0);
            for r in 0..=5 {
                d.clear_reg(fr, r);
            }
            // `raw` programs: the conformance helper 5 returns its argument.
            if r0 && raw && helper == helper_id::KTIME_GET_NS {
                d.set_reg(fr, 1);
            }
        }
        Op::CallReg { .. } => {
            let r0 = d.has_reg(fr, 0);
            for r in 0..=5 {
                d.clear_reg(fr, r);
            }
            // It may be the conformance helper returning r1.
            if r0 && raw {
                d.set_reg(fr, 1);
            }
        }
        Op::CallLocal { .. } => {
            // Back from the callee's first instruction into the caller.
            if fr == 0 {
                return false;
            }
            let args = d.regs(fr) & 0b11_1110;
            d.set_regs(fr, 0);
            d.set_slots(fr, 0);
            d.set_regs(fr - 1, d.regs(fr - 1) | args);
            *frame = fr - 1;
        }
        Op::Exit => {
            // A function's return, seen from the caller: r0 came from the callee.
            if fr + 1 >= D::FRAMES {
                return false;
            }
            let r0 = d.has_reg(fr, 0);
            for r in 0..=5 {
                d.clear_reg(fr, r);
            }
            d.set_regs(fr + 1, u16::from(r0));
            d.set_slots(fr + 1, 0);
            *frame = fr + 1;
        }
        Op::Ja { .. } | Op::MayGoto { .. } | Op::LddwHigh => {}
    }
    true
}

/// Keeps `k` — the registers and slots of the current path whose derivation
/// is already marked everywhere, so demanding them again adds nothing — true
/// after `h` ran. Mirrors [`back_one`]: a value stays known when everything a
/// backtrack through `h` would add is known.
#[inline]
pub fn known_after(ops: &[Op], raw: bool, h: &Hist, frame: usize, k: &mut Marks) {
    let fr = frame;
    let Some(op) = ops.get(h.pc as usize) else {
        *k = Marks::default();
        return;
    };
    let set = |k: &mut Marks, r: usize, v: bool| {
        if v {
            k.set_reg(fr, r)
        } else {
            k.clear_reg(fr, r)
        }
    };
    match *op {
        Op::Alu { op, dst, src, .. } => {
            let s = match src {
                Src::Reg(r) => k.has_reg(fr, r.idx()),
                Src::Imm(_) => true,
            };
            let mov = matches!(
                op,
                AluOp::Mov | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32
            );
            let v = s && (mov || k.has_reg(fr, dst.idx()));
            set(k, dst.idx(), v);
        }
        Op::Neg { .. } | Op::Endian { .. } | Op::Ja { .. } | Op::MayGoto { .. } => {}
        Op::LoadImm64 { dst, .. } | Op::LoadMap { dst, .. } | Op::LoadMapValue { dst, .. } => {
            set(k, dst.idx(), true)
        }
        Op::Load { dst, .. } => {
            let v = match h.stack_slot() {
                Some((f, i)) => k.has_slot(f, i),
                None => true,
            };
            set(k, dst.idx(), v);
        }
        Op::Store { size, src, .. } => {
            if let Some((f, i)) = h.stack_slot() {
                let v = match (size, src) {
                    (Size::DW, Src::Reg(r)) => k.has_reg(fr, r.idx()),
                    _ => true,
                };
                if v {
                    k.set_slot(f, i);
                } else {
                    k.clear_slot(f, i);
                }
            }
        }
        Op::Atomic { op, fetch, src, .. } => {
            if let Some((f, i)) = h.stack_slot() {
                k.set_slot(f, i);
            }
            if op == AtomicOp::Cmpxchg {
                set(k, 0, true);
            } else if fetch {
                set(k, src.idx(), true);
            }
        }
        Op::Jmp { dst, src, .. } => {
            if h.stack == LINK_FAR {
                *k = Marks::default();
                return;
            }
            let mut both = k.has_reg(fr, dst.idx());
            let mut regs = h.links | 1 << dst.idx();
            if let Src::Reg(r) = src {
                both &= k.has_reg(fr, r.idx());
                regs |= 1 << r.idx();
            }
            if !both {
                k.regs[fr] &= !regs;
                k.slots[fr] &= !h.link_slots;
            }
        }
        Op::Call { helper } => {
            let r0 = !raw || helper != helper_id::KTIME_GET_NS || k.has_reg(fr, 1);
            for r in 1..=5 {
                set(k, r, true);
            }
            set(k, 0, r0);
        }
        Op::CallReg { .. } => {
            let r0 = !raw || k.has_reg(fr, 1);
            for r in 1..=5 {
                set(k, r, true);
            }
            set(k, 0, r0);
        }
        Op::CallLocal { .. } | Op::Exit | Op::LddwHigh => *k = Marks::default(),
    }
}

/// What of `d` is a scalar in `frames` (registers and spilled registers); marks
/// on anything else say nothing.
fn scalars_only<D: Demand>(frames: &[Frame], d: &D) -> D {
    let mut out = D::default();
    for (f, fr) in frames.iter().enumerate().take(D::FRAMES) {
        let mut m = d.regs(f) & 0x7ff;
        while m != 0 {
            let r = m.trailing_zeros() as usize;
            m &= m - 1;
            if fr.regs[r].kind == Kind::Scalar {
                out.set_reg(f, r);
            }
        }
        let mut s = d.slots(f);
        while s != 0 {
            let i = s.trailing_zeros() as usize;
            s &= s - 1;
            if let Some(slot) = fr.stack.get(i) {
                if slot.bytes[0] == Byte::Spill && slot.spill.kind == Kind::Scalar {
                    out.set_slot(f, i);
                }
            }
        }
    }
    out
}

/// Which registers and stack slots of a one-frame state hold scalars: what
/// backtracking reads of a recorded state no comparison will read (see
/// [`super::store::Kept`]).
#[derive(Clone, Copy, Debug)]
pub struct Scalars {
    regs: u16,
    slots: u64,
}

impl Scalars {
    /// Those of `frame`.
    pub fn of(frame: &Frame) -> Scalars {
        let mut regs = 0;
        for (r, x) in frame.regs.iter().enumerate() {
            regs |= ((x.kind == Kind::Scalar) as u16) << r;
        }
        let mut slots = 0;
        for (i, s) in frame.stack.iter().enumerate().take(SLOTS) {
            let scalar = s.bytes[0] == Byte::Spill && s.spill.kind == Kind::Scalar;
            slots |= (scalar as u64) << i;
        }
        Scalars { regs, slots }
    }

    /// What of `d` is a scalar: [`scalars_only`] of the frame.
    fn filter<D: Demand>(&self, d: &D) -> D {
        let mut out = D::default();
        out.set_regs(0, d.regs(0) & self.regs);
        out.set_slots(0, d.slots(0) & self.slots);
        out
    }
}

impl Checker<'_> {
    /// Demands that `d` (values before the instruction being executed, whose
    /// history entry is the last of `st.hist`) be precise.
    pub(super) fn demand(&mut self, st: &mut State, d: Marks) {
        let d = d.minus(&st.known);
        if d.is_empty() {
            return;
        }
        let n = st.hist.len().saturating_sub(1);
        self.backtrack(&st.hist[..n], st.parent, st.frames.len() - 1, d);
        st.known.add(&d);
    }

    /// Demands register `r` of the current frame precise, when it is a scalar.
    pub(super) fn demand_reg(&mut self, st: &mut State, r: Reg) {
        if st.frame().regs[r.idx()].kind == Kind::Scalar {
            let d = Marks::reg(st.frames.len() - 1, r);
            self.demand(st, d);
        }
    }

    /// Copies the marks of explored state `from` onto the path `st` pruned
    /// against it (at a prune point, before the instruction runs).
    pub(super) fn propagate(&mut self, st: &State, from: u32) {
        let v = &self.visited[from as usize];
        if v.prec_all {
            self.all_precise(st.parent);
            return;
        }
        let d = v.prec;
        self.backtrack(&st.hist, st.parent, st.frames.len() - 1, d);
    }

    /// Walks back from a position (`hist` executed since the recorded state
    /// `parent`, in frame `frame`) marking what `d` derives from in every
    /// recorded state passed. Returns whether a mark was added.
    fn backtrack(&mut self, hist: &[Hist], parent: Option<u32>, frame: usize, d: Marks) -> bool {
        if self.cfg.calls {
            self.walk_back(hist, parent, frame, d)
        } else {
            self.walk_back(hist, parent, frame, OneFrame::from_marks(&d))
        }
    }

    /// [`Checker::backtrack`] on a set of marks `D` that holds every frame
    /// the program's paths may have.
    fn walk_back<D: Demand>(
        &mut self,
        hist: &[Hist],
        parent: Option<u32>,
        mut frame: usize,
        mut d: D,
    ) -> bool {
        let raw = self.prog.prog_type == ProgType::Raw;
        let cfg = self.cfg;
        let ops = &cfg.ops;
        for h in hist.iter().rev() {
            if d.is_empty() {
                return false;
            }
            if !back_one(ops, raw, h, &mut frame, &mut d) {
                return self.all_precise(parent);
            }
        }
        let mut changed = false;
        let mut cur = parent;
        while let Some(p) = cur {
            let v = &mut self.visited[p as usize];
            if v.prec_all {
                return changed;
            }
            match v.state {
                Kept::Frames(saved) => {
                    let frames = self.store.get(saved);
                    if frames.len() != frame + 1 {
                        return self.all_precise(Some(p)) || changed;
                    }
                    d = scalars_only(frames, &d);
                }
                Kept::Scalars(s) => {
                    if frame != 0 {
                        return self.all_precise(Some(p)) || changed;
                    }
                    d = s.filter(&d);
                }
                Kept::Nothing => {}
            }
            d = d.minus(&v.prec);
            if d.is_empty() {
                return changed;
            }
            d.add_to(&mut v.prec);
            changed = true;
            let seg = v.hist.clone();
            for k in seg.rev() {
                let h = self.hist_arena[k as usize];
                if d.is_empty() {
                    return changed;
                }
                if !back_one(ops, raw, &h, &mut frame, &mut d) {
                    let up = self.visited[p as usize].parent;
                    return self.all_precise(up) || changed;
                }
            }
            cur = self.visited[p as usize].parent;
        }
        changed
    }

    /// The fallback: every scalar of `p` and its ancestors is precise.
    fn all_precise(&mut self, mut p: Option<u32>) -> bool {
        let mut changed = false;
        while let Some(i) = p {
            let v = &mut self.visited[i as usize];
            if v.prec_all {
                break;
            }
            v.prec_all = true;
            changed = true;
            p = v.parent;
        }
        changed
    }

    /// The outermost unfinished loop head `i` depends on, if any.
    pub(super) fn open_loop(&self, i: u32) -> Option<u32> {
        let mut h = self.visited[i as usize].loop_entry?;
        while let Some(e) = self.visited[h as usize].loop_entry {
            h = e;
        }
        (self.branches[h as usize] > 0).then_some(h)
    }

    /// `st` was pruned against `from`, whose marks are final only when loop
    /// head `head` (an ancestor of `st`) is finished: ties the states on the
    /// way to the head and keeps the path for [`Checker::close_loops`].
    pub(super) fn add_backedge(&mut self, st: &State, from: u32, head: u32) {
        let hd = self.visited[head as usize].depth;
        self.visited[head as usize].is_head = true;
        let mut cur = st.parent;
        while let Some(i) = cur {
            if i == head {
                break;
            }
            let outer = match self.visited[i as usize].loop_entry {
                Some(e) => self.visited[e as usize].depth <= hd,
                None => false,
            };
            let v = &mut self.visited[i as usize];
            if !outer {
                v.loop_entry = Some(head);
            }
            cur = v.parent;
        }
        // What is known now; the rest comes when the head is finished.
        self.propagate(st, from);
        self.backedges.push(Backedge {
            hist: st.hist.clone(),
            parent: st.parent,
            frame: st.frames.len() - 1,
            from,
            head,
        });
    }

    /// After a loop head is finished: pushes the final marks along every
    /// back-edge whose loops are all finished, until nothing changes.
    pub(super) fn close_loops(&mut self) {
        let ready = |ck: &Checker<'_>, b: &Backedge| {
            ck.branches[b.head as usize] == 0 && ck.open_loop(b.head).is_none()
        };
        loop {
            let mut changed = false;
            for k in 0..self.backedges.len() {
                if !ready(self, &self.backedges[k]) {
                    continue;
                }
                let b = &mut self.backedges[k];
                let hist = core::mem::take(&mut b.hist);
                let (parent, frame, from) = (b.parent, b.frame, b.from);
                let v = &self.visited[from as usize];
                changed |= if v.prec_all {
                    self.all_precise(parent)
                } else {
                    let d = v.prec;
                    self.backtrack(&hist, parent, frame, d)
                };
                self.backedges[k].hist = hist;
            }
            if !changed {
                break;
            }
        }
        let mut k = 0;
        while k < self.backedges.len() {
            if ready(self, &self.backedges[k]) {
                self.backedges.swap_remove(k);
            } else {
                k += 1;
            }
        }
    }
}
