//! The path-sensitive walk: a depth-first exploration of abstract states with
//! pruning at recorded points, and the transfer functions for ALU ops.
//! Conditional jumps live in `jump.rs`, memory accesses in `mem.rs`, calls in
//! `call.rs`, precision backtracking in `precise.rs`.

use super::bounds::Scalar;
use super::cfg::Cfg;
use super::error::{fail, Rule, VerifyError};
use super::jump::Outcome;
use super::marks::Demand;
use super::pending::Pending;
use super::points::{AtEntry, AtLists};
use super::precise::{Backedge, Hist, Marks, Scalars};
use super::prune;
use super::state::{Frame, Kind, RegState, Spare, State};
use super::store::{Kept, Saved, Store};
use super::VerifierConfig;
use crate::facts::Access;
use crate::isa::{semantics, AluOp, Op, Reg, Src, Width};
use crate::program::{ProgType, Program};
use alloc::vec;
use alloc::vec::Vec;

/// Bound on pointer offsets (the kernel's `BPF_MAX_VAR_OFF`).
pub const MAX_VAR_OFF: i64 = 1 << 29;

/// Inside a loop, a new state is recorded at most once per this many
/// processed instructions (the kernel's heuristic: recording at every round
/// costs more than it prunes).
const LOOP_STATE_GAP: u64 = 32;

/// Rounds after which a may_goto loop's precise registers that change at
/// every round are widened too.
const DRIFT_ROUNDS: usize = 12;

/// A state recorded at a prune point. How many paths below it are still
/// being explored is kept apart, in [`Checker::branches`].
pub(crate) struct Visited {
    /// What it keeps of its frames (once dropped from the per-slot list,
    /// nothing: their place is given back).
    pub(super) state: Kept,
    pub(super) parent: Option<u32>,
    pub(super) depth: u64,
    /// Longest finished path through this state, in instructions from entry.
    max_exit: Option<u64>,
    /// Some path through this state has no proven bound (may_goto loop).
    unbounded: bool,
    /// Instructions from the parent state to this one.
    pub(super) hist: core::ops::Range<u32>,
    /// Scalars whose value the exploration below relies on.
    pub(super) prec: Marks,
    /// Every scalar is precise (backtracking could not follow).
    pub(super) prec_all: bool,
    /// A loop head (an ancestor) whose completion makes `prec` final.
    pub(super) loop_entry: Option<u32>,
    /// Some back-edge waits for this state to complete.
    pub(super) is_head: bool,
}

/// How a path ended.
enum PathEnd {
    /// Program exit after this many instructions.
    Exit(u64),
    /// Covered by an explored state: the longest continuation, `None` = no bound.
    Pruned(Option<u64>),
    /// Impossible path, or covered by a state with no finished path.
    Dead,
}

/// What one instruction did to the current path.
enum Flow {
    Next,
    End(PathEnd),
}

pub(crate) struct Checker<'a> {
    pub prog: &'a Program,
    pub cfg: &'a Cfg,
    pub config: &'a VerifierConfig,
    pub(super) visited: Vec<Visited>,
    /// Per recorded state, paths below it still being explored (0 =
    /// complete); dense, as every prune point's scan reads it.
    pub(super) branches: Vec<u32>,
    pub(super) backedges: Vec<Backedge>,
    /// Histories of recorded states, one range each (one buffer: no
    /// allocation per state, and the path's buffer keeps its capacity).
    pub(super) hist_arena: Vec<Hist>,
    at: AtLists,
    pending: Pending,
    /// Buffers of states no longer needed, for copies.
    spare: Spare,
    /// The frames of recorded states.
    pub(super) store: Store,
    next_id: u32,
    pub processed: u64,
    pub peak_states: usize,
    pub total_states: usize,
    live_states: usize,
    pub accesses: Vec<Option<Access>>,
    pub max_stack: u32,
    pub worst: u64,
    pub unbounded: bool,
    last_loop_add: u64,
}

impl<'a> Checker<'a> {
    pub fn new(prog: &'a Program, cfg: &'a Cfg, config: &'a VerifierConfig) -> Checker<'a> {
        let n = cfg.ops.len();
        let points = cfg.prune_point.iter().filter(|&&p| p).count();
        let cap = (2 * points + 16).min(config.max_states.saturating_add(1));
        Checker {
            prog,
            cfg,
            config,
            // Sized for the states a loop-free program records (about two
            // per prune point): growing a list of large entries costs more
            // than verifying a short program. (Programs with loops grow
            // them: room made up front for their thousands of states costs
            // more in page faults, per verification, than the copies.)
            visited: Vec::with_capacity(cap),
            branches: Vec::with_capacity(cap),
            backedges: Vec::new(),
            hist_arena: Vec::with_capacity(4 * n),
            at: AtLists::new(n, cap),
            pending: Pending::with_capacity(16),
            spare: Spare::default(),
            store: Store::with_capacity(cap),
            next_id: 1,
            processed: 0,
            peak_states: 0,
            total_states: 0,
            live_states: 0,
            accesses: vec![None; n],
            max_stack: 0,
            worst: 0,
            unbounded: false,
            last_loop_add: 0,
        }
    }

    pub fn fresh_id(&mut self) -> u32 {
        self.next_id = self.next_id.wrapping_add(1).max(1);
        self.next_id
    }

    fn initial(&self) -> State {
        let mut f = Frame::new(0, 0);
        match self.prog.prog_type {
            ProgType::Xdp => f.regs[1] = RegState::ptr(Kind::Ctx, 0),
            ProgType::Raw => {
                f.regs[1] = RegState::ptr(Kind::Packet, 0);
                f.regs[2] = RegState {
                    len: true,
                    ..RegState::scalar(Scalar::low_bits(32))
                };
            }
        }
        State {
            hist: Vec::with_capacity(64),
            ..State::with_frames(vec![f])
        }
    }

    /// Explores every path; `Err` on the first violation.
    pub fn run(&mut self) -> Result<(), VerifyError> {
        let init = self.initial();
        self.pending.push(init);
        while let Some(mut st) = self.pending.pop() {
            loop {
                match self.step(&mut st) {
                    Ok(Flow::Next) => {}
                    Ok(Flow::End(end)) => {
                        self.finish(&st, end);
                        self.spare.put(st);
                        break;
                    }
                    Err(mut e) => {
                        if e.state.is_empty() {
                            e.state = st.describe();
                        }
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    fn finish(&mut self, st: &State, end: PathEnd) {
        let total = match end {
            PathEnd::Exit(d) => Some(Some(d)),
            PathEnd::Pruned(t) => Some(t),
            PathEnd::Dead => None,
        };
        if let Some(t) = total {
            match t {
                Some(d) => self.worst = self.worst.max(d),
                None => self.unbounded = true,
            }
            let mut cur = st.parent;
            while let Some(i) = cur {
                let v = &mut self.visited[i as usize];
                match t {
                    Some(d) if v.max_exit.is_none_or(|m| d > m) => v.max_exit = Some(d),
                    None if !v.unbounded => v.unbounded = true,
                    _ => break,
                }
                cur = v.parent;
            }
        }
        let mut cur = st.parent;
        let mut head_done = false;
        while let Some(i) = cur {
            let b = &mut self.branches[i as usize];
            *b = b.saturating_sub(1);
            if *b > 0 {
                break;
            }
            let v = &self.visited[i as usize];
            head_done |= v.is_head;
            cur = v.parent;
        }
        if head_done {
            self.close_loops();
        }
    }

    /// A copy of `st`, into spare buffers when there are some.
    pub(super) fn copy_state(&mut self, st: &State) -> State {
        self.spare.state(st)
    }

    /// Queues `other` as a second successor of the current path.
    fn fork(&mut self, pc: usize, other: State) -> Result<(), VerifyError> {
        if self.pending.len() >= self.config.max_pending {
            return fail(
                pc,
                Rule::TooComplex,
                format!("more than {} pending branches", self.config.max_pending),
            );
        }
        if let Some(p) = other.parent {
            self.branches[p as usize] += 1;
        }
        self.pending.push(other);
        self.peak_states = self.peak_states.max(self.pending.len() + self.live_states);
        Ok(())
    }

    /// At a prune point: stop when covered, detect loops that cannot end,
    /// record the state.
    fn visit(&mut self, st: &mut State) -> Result<Option<PathEnd>, VerifyError> {
        let pc = st.pc;
        let may_goto = matches!(self.cfg.ops[pc], Op::MayGoto { .. });
        let mut in_loop = false;
        let mut widen_from = None;
        let mut hash = None;
        // Made on first comparison (most visits in a loop compare none).
        let mut ids = None;
        let mut miss = prune::Miss::Unknown;
        let mut probe = None;
        let mut next = self.at.first(pc);
        while let Some(k) = next {
            next = self.at.next(k);
            let e = *self.at.entry(k);
            let i = e.idx;
            if self.branches[i as usize] > 0 {
                in_loop = true;
                if may_goto {
                    let Some(saved) = self.visited[i as usize].state.saved() else {
                        continue;
                    };
                    let ids = ids.get_or_insert_with(prune::IdMap::new);
                    if self.covers(saved, st, None, ids, &mut miss, &mut probe) {
                        // Its marks are not final: a back-edge.
                        self.add_backedge(st, i, i);
                        return Ok(Some(PathEnd::Pruned(None)));
                    }
                    widen_from = Some(i);
                } else if e.goto_depth == st.goto_depth && self.hashes_match(pc, k, st, &mut hash) {
                    // (A may_goto passed on the way bounds the loop.)
                    let Some(saved) = self.visited[i as usize].state.saved() else {
                        continue;
                    };
                    if !prune::subsumes(
                        self.store.get(saved),
                        st,
                        &self.cfg.live,
                        &self.cfg.stack_live,
                        true,
                        None,
                        ids.get_or_insert_with(prune::IdMap::new),
                        &mut prune::Miss::Unknown,
                    ) {
                        continue;
                    }
                    return fail(
                        pc,
                        Rule::InfiniteLoop,
                        "infinite loop: the same state repeats",
                    );
                }
                continue;
            }
            let v = &self.visited[i as usize];
            let Some(saved) = v.state.saved() else {
                continue;
            };
            // Inside a loop still being explored, marks are not final yet:
            // compare every scalar.
            let open = self.open_loop(i);
            let prec = (open.is_none() && !v.prec_all).then_some(&v.prec);
            let ids = ids.get_or_insert_with(prune::IdMap::new);
            if self.covers(saved, st, prec, ids, &mut miss, &mut probe) {
                match open {
                    Some(h) => self.add_backedge(st, i, h),
                    None => self.propagate(st, i),
                }
                let v = &self.visited[i as usize];
                if v.unbounded {
                    return Ok(Some(PathEnd::Pruned(None)));
                }
                return Ok(Some(match v.max_exit {
                    Some(m) => {
                        PathEnd::Pruned(Some(st.depth.saturating_add(m.saturating_sub(v.depth))))
                    }
                    None => PathEnd::Dead,
                }));
            }
        }
        if let Some(i) = widen_from {
            let v = &self.visited[i as usize];
            let mut keep = if v.prec_all { Marks::ALL } else { v.prec };
            self.drifting(pc, st, &mut keep);
            if let Some(saved) = self.visited[i as usize].state.saved() {
                prune::widen(self.store.get(saved), st, Some(&keep));
            }
        }
        if in_loop
            && !may_goto
            && self.processed.saturating_sub(self.last_loop_add) < LOOP_STATE_GAP
        {
            return Ok(None);
        }
        if self.live_states >= self.config.max_states {
            return Ok(None);
        }
        if in_loop {
            self.last_loop_add = self.processed;
        }
        self.trim(pc);
        let idx = self.visited.len() as u32;
        let start = self.hist_arena.len() as u32;
        self.hist_arena.extend_from_slice(&st.hist);
        st.hist.clear();
        let hist = start..self.hist_arena.len() as u32;
        st.known = Marks::default();
        // Without loops, a point is reached again only by a waiting state
        // that starts at or before it; else none compares with this state.
        let again = !self.cfg.acyclic || self.pending.lowest_pc().is_some_and(|p| p <= pc);
        let state = if again {
            Kept::Frames(self.store.save(&st.frames))
        } else {
            Kept::Scalars(Scalars::of(st.frame()))
        };
        self.visited.push(Visited {
            state,
            parent: st.parent,
            depth: st.depth,
            max_exit: None,
            unbounded: false,
            hist,
            prec: Marks::default(),
            prec_all: false,
            loop_entry: None,
            is_head: false,
        });
        self.branches.push(1);
        if again {
            self.at.push(
                pc,
                AtEntry {
                    idx,
                    goto_depth: st.goto_depth,
                    hash: None,
                },
            );
        }
        st.parent = Some(idx);
        self.total_states += 1;
        self.live_states += 1;
        self.peak_states = self.peak_states.max(self.pending.len() + self.live_states);
        Ok(None)
    }

    /// Whether recorded state `saved` covers `st` (see [`prune::subsumes`]),
    /// looking first where the last comparison found a difference (`miss`;
    /// `probe` is prepared for it on first need).
    fn covers<'s>(
        &self,
        saved: Saved,
        st: &'s State,
        prec: Option<&Marks>,
        ids: &mut prune::IdMap,
        miss: &mut prune::Miss,
        probe: &mut Option<prune::Probe<'s>>,
    ) -> bool {
        let old = self.store.get(saved);
        let (live, slive) = (&self.cfg.live, &self.cfg.stack_live);
        if *miss != prune::Miss::Unknown {
            let p = probe.get_or_insert_with(|| prune::Probe::new(st, live, slive, *miss));
            if p.misses(old, prec, ids) {
                return false;
            }
        }
        let last = *miss;
        let covered = prune::subsumes(old, st, live, slive, false, prec, ids, miss);
        if *miss != last {
            *probe = None;
        }
        covered
    }

    /// A may_goto loop that does not settle: precise registers of the frame
    /// that changed at every one of the last [`DRIFT_ROUNDS`] rounds (so not
    /// an enclosing loop's counter, constant within this loop) are taken out
    /// of `keep`, to be widened too.
    fn drifting(&self, pc: usize, st: &State, keep: &mut Marks) {
        // The last rounds in list order, kept in a ring (no allocation).
        let mut ring: [&[Frame]; DRIFT_ROUNDS] = [&[]; DRIFT_ROUNDS];
        let mut count = 0;
        for e in self.at.iter(pc) {
            let v = &self.visited[e.idx as usize];
            if let Some(s) = v
                .state
                .saved()
                .filter(|_| self.branches[e.idx as usize] > 0)
            {
                ring[count % DRIFT_ROUNDS] = self.store.get(s);
                count += 1;
            }
        }
        if count < DRIFT_ROUNDS {
            return;
        }
        let last: [&[Frame]; DRIFT_ROUNDS] =
            core::array::from_fn(|i| ring[(count + i) % DRIFT_ROUNDS]);
        let f = st.frames.len() - 1;
        for r in 0..10 {
            if !keep.has_reg(f, r) {
                continue;
            }
            let val = |s: &[Frame]| s.get(f).map(|fr| fr.regs[r]);
            let mut changed = val(last[DRIFT_ROUNDS - 1]) != val(&st.frames);
            for w in last.windows(2) {
                changed &= val(w[0]) != val(w[1]);
            }
            if changed {
                keep.regs[f] &= !(1 << r);
            }
        }
        for i in 0..64 {
            if keep.slots[f] & (1 << i) == 0 {
                continue;
            }
            let val = |s: &[Frame]| s.get(f).and_then(|fr| fr.stack.get(i)).copied();
            let mut changed = val(last[DRIFT_ROUNDS - 1]) != val(&st.frames);
            for w in last.windows(2) {
                changed &= val(w[0]) != val(w[1]);
            }
            if changed {
                keep.slots[f] &= !(1 << i);
            }
        }
    }

    /// Whether entry `k` of prune point `pc`'s list and `st` have the same
    /// exact hash (both computed once, on first need).
    fn hashes_match(&mut self, pc: usize, k: u32, st: &State, cur: &mut Option<u64>) -> bool {
        let live = &self.cfg.live;
        let h = *cur.get_or_insert_with(|| prune::exact_hash(&st.frames, pc, live));
        let e = self.at.entry_mut(k);
        let old = match (e.hash, self.visited[e.idx as usize].state.saved()) {
            (Some(x), _) => x,
            (None, Some(s)) => {
                let x = prune::exact_hash(self.store.get(s), pc, live);
                e.hash = Some(x);
                x
            }
            (None, None) => return false,
        };
        old == h
    }

    /// Keeps the per-slot list short: forgets the oldest states (complete
    /// ones first). Forgetting only loses pruning (and, for states still being
    /// explored, early detection of a repeating loop, which the instruction
    /// limit then catches).
    fn trim(&mut self, pc: usize) {
        let limit = self.config.max_states_per_insn.max(1);
        while self.at.len(pc) >= limit {
            let branches = &self.branches;
            let Some(e) = self.at.remove(pc, |e| branches[e.idx as usize] == 0) else {
                break;
            };
            let i = e.idx;
            let kept = core::mem::replace(&mut self.visited[i as usize].state, Kept::Nothing);
            if let Some(old) = kept.saved() {
                self.store.forget(old);
            }
            self.live_states -= 1;
        }
    }

    /// Register `r` of the current frame, which must be written. Inlined,
    /// with the error built out of line: a call would pass the register
    /// through a copy of the whole `Result`.
    #[inline]
    pub fn reg(&self, st: &State, pc: usize, r: Reg) -> Result<RegState, VerifyError> {
        let v = st.frame().regs[r.idx()];
        if v.kind == Kind::NotInit {
            return Err(uninit(pc, r));
        }
        Ok(v)
    }

    #[inline]
    pub(super) fn operand(&self, st: &State, pc: usize, src: Src) -> Result<RegState, VerifyError> {
        match src {
            Src::Reg(r) => self.reg(st, pc, r),
            Src::Imm(i) => Ok(RegState::scalar(Scalar::konst(semantics::imm_operand(i)))),
        }
    }

    fn step(&mut self, st: &mut State) -> Result<Flow, VerifyError> {
        self.processed += 1;
        let pc = st.pc;
        if self.processed > self.config.max_processed {
            return fail(
                pc,
                Rule::TooComplex,
                format!(
                    "more than {} instructions processed",
                    self.config.max_processed
                ),
            );
        }
        if self.cfg.prune_point[pc] {
            if let Some(end) = self.visit(st)? {
                return Ok(Flow::End(end));
            }
        }
        st.depth += 1;
        st.hist.push(Hist::at(pc));
        let op = self.cfg.ops[pc];
        let mut next = pc + 1;
        match op {
            Op::Alu {
                width,
                op,
                dst,
                src,
            } => self.alu(st, pc, width, op, dst, src)?,
            Op::Neg { width, dst } => {
                let d = self.scalar_operand(st, pc, dst)?;
                st.frame_mut().regs[dst.idx()] = RegState::scalar(Scalar::neg(width, &d));
            }
            Op::Endian { kind, bits, dst } => {
                let d = self.scalar_operand(st, pc, dst)?;
                st.frame_mut().regs[dst.idx()] = RegState::scalar(Scalar::endian(kind, bits, &d));
            }
            Op::LoadImm64 { dst, value } => {
                st.frame_mut().regs[dst.idx()] = RegState::scalar(Scalar::konst(value));
                next = pc + 2;
            }
            Op::LoadMap { dst, map } => {
                st.frame_mut().regs[dst.idx()] = RegState::ptr(Kind::MapPtr, map);
                next = pc + 2;
            }
            Op::LoadMapValue { dst, map, offset } => {
                st.frame_mut().regs[dst.idx()] = RegState {
                    off: offset as i64,
                    ..RegState::ptr(Kind::MapValue, map)
                };
                next = pc + 2;
            }
            Op::LddwHigh => {
                return fail(
                    pc,
                    Rule::Structure,
                    "execution reached the second half of lddw",
                )
            }
            Op::Load {
                size,
                signed,
                dst,
                base,
                off,
            } => self.load(st, pc, size, signed, dst, base, off)?,
            Op::Store {
                size,
                base,
                off,
                src,
            } => self.store(st, pc, size, base, off, src)?,
            Op::Atomic {
                width,
                op,
                fetch,
                base,
                off,
                src,
            } => self.atomic(st, pc, width, op, fetch, base, off, src)?,
            Op::Ja { .. } => next = target(&op, pc),
            Op::MayGoto { .. } => {
                // Like the kernel: the loop's next round waits while the
                // budget-exhausted exit is explored, so pending states do not
                // pile up one per round.
                let mut again = self.copy_state(st);
                again.pc = pc + 1;
                again.goto_depth = again.goto_depth.wrapping_add(1);
                self.fork(pc, again)?;
                next = target(&op, pc);
            }
            Op::Jmp {
                width,
                op: jop,
                dst,
                src,
                ..
            } => match self.jump(st, pc, width, jop, dst, src)? {
                Outcome::Both(mut t) => {
                    t.pc = target(&op, pc);
                    self.known_after(st);
                    self.known_after(&mut t);
                    self.fork(pc, t)?;
                    st.pc = next;
                    return Ok(Flow::Next);
                }
                Outcome::Taken => next = target(&op, pc),
                Outcome::Fall => {}
                Outcome::Neither => return Ok(Flow::End(PathEnd::Dead)),
            },
            Op::Call { helper } => self.call_helper(st, pc, helper)?,
            Op::CallReg { reg } => {
                let r = self.reg(st, pc, reg)?;
                self.demand_reg(st, reg);
                let id = match (r.kind, r.var.as_const()) {
                    (Kind::Scalar, Some(v))
                        if super::cfg::HELPERS.contains(&(v as i64 as i32))
                            && v as i64 as i32 as i64 == v as i64 =>
                    {
                        v as i32
                    }
                    _ => {
                        return fail(
                            pc,
                            Rule::UnknownHelper,
                            format!("callx needs a known helper id in {reg}, it holds {r}"),
                        )
                    }
                };
                self.call_helper(st, pc, id)?;
            }
            Op::CallLocal { .. } => {
                next = target(&op, pc);
                self.call_local(st, pc)?;
            }
            Op::Exit => match self.exit(st, pc)? {
                Some(ret) => next = ret,
                None => return Ok(Flow::End(PathEnd::Exit(st.depth))),
            },
        }
        self.known_after(st);
        st.pc = next;
        Ok(Flow::Next)
    }

    /// Updates the path's known-precise cache for the instruction just run.
    fn known_after(&self, st: &mut State) {
        if let Some(h) = st.hist.last() {
            let raw = self.prog.prog_type == ProgType::Raw;
            let frame = st.frames.len().saturating_sub(1);
            super::precise::known_after(&self.cfg.ops, raw, h, frame, &mut st.known);
        }
    }

    fn scalar_operand(&self, st: &State, pc: usize, r: Reg) -> Result<Scalar, VerifyError> {
        let v = self.reg(st, pc, r)?;
        if v.kind != Kind::Scalar {
            return fail(
                pc,
                Rule::PointerArith,
                format!("arithmetic on pointer {r}={v} prohibited"),
            );
        }
        Ok(v.var)
    }

    fn alu(
        &mut self,
        st: &mut State,
        pc: usize,
        width: Width,
        op: AluOp,
        dst: Reg,
        src: Src,
    ) -> Result<(), VerifyError> {
        let s = self.operand(st, pc, src)?;
        if matches!(
            op,
            AluOp::Mov | AluOp::Movsx8 | AluOp::Movsx16 | AluOp::Movsx32
        ) {
            if op == AluOp::Mov && width == Width::W64 {
                let mut v = s;
                if let (Src::Reg(r), Kind::Scalar) = (src, s.kind) {
                    if s.id == 0 {
                        v.id = self.fresh_id();
                        st.frame_mut().regs[r.idx()].id = v.id;
                    }
                }
                st.frame_mut().regs[dst.idx()] = v;
                return Ok(());
            }
            if s.kind != Kind::Scalar {
                return fail(
                    pc,
                    Rule::PointerLeak,
                    format!("{op:?} {width:?} of pointer {s} would leak its bits"),
                );
            }
            let zero = Scalar::konst(0);
            st.frame_mut().regs[dst.idx()] =
                RegState::scalar(Scalar::alu(width, op, &zero, &s.var));
            return Ok(());
        }
        let d = self.reg(st, pc, dst)?;
        // A number added to a pointer must be known as it is.
        match (d.kind.is_ptr(), s.kind.is_ptr(), src) {
            (true, false, Src::Reg(r)) => self.demand_reg(st, r),
            (false, true, _) => self.demand_reg(st, dst),
            _ => {}
        }
        let result = match (d.kind.is_ptr(), s.kind.is_ptr()) {
            (false, false) => RegState::scalar(Scalar::alu(width, op, &d.var, &s.var)),
            (true, false) => self.ptr_arith(pc, d, s, op, width)?,
            (false, true) if op == AluOp::Add => self.ptr_arith(pc, s, d, op, width)?,
            (false, true) => {
                return fail(
                    pc,
                    Rule::PointerArith,
                    format!("{op:?} of number and pointer {s} prohibited"),
                );
            }
            (true, true) => self.ptr_diff(pc, d, s, op, width)?,
        };
        st.frame_mut().regs[dst.idx()] = result;
        Ok(())
    }

    fn ptr_arith(
        &mut self,
        pc: usize,
        p: RegState,
        s: RegState,
        op: AluOp,
        width: Width,
    ) -> Result<RegState, VerifyError> {
        if width == Width::W32 {
            return fail(
                pc,
                Rule::PointerArith,
                format!("32-bit arithmetic on pointer {p} prohibited"),
            );
        }
        if !matches!(op, AluOp::Add | AluOp::Sub) {
            return fail(
                pc,
                Rule::PointerArith,
                format!("{op:?} on pointer {p} prohibited"),
            );
        }
        if matches!(
            p.kind,
            Kind::Ctx | Kind::PacketEnd | Kind::MapPtr | Kind::MapValueOrNull
        ) {
            return fail(
                pc,
                Rule::PointerArith,
                format!("arithmetic on {p} prohibited"),
            );
        }
        if self.prog.prog_type == ProgType::Raw
            && op == AluOp::Add
            && s.len
            && p.kind == Kind::Packet
            && p.id == 0
            && p.off == 0
            && p.var.as_const() == Some(0)
        {
            return Ok(RegState::ptr(Kind::PacketEnd, 0));
        }
        let mut r = p;
        if let Some(c) = s.var.as_const() {
            let c = c as i64;
            let off = if op == AluOp::Add {
                p.off.checked_add(c)
            } else {
                p.off.checked_sub(c)
            };
            match off {
                Some(o) if o.abs() < MAX_VAR_OFF => r.off = o,
                _ => {
                    return fail(
                        pc,
                        Rule::PointerArith,
                        format!("pointer offset out of bounds: {p} {op:?} {}", c),
                    )
                }
            }
            return Ok(r);
        }
        let var = Scalar::alu(Width::W64, op, &p.var, &s.var);
        if var.smin <= -MAX_VAR_OFF || var.smax >= MAX_VAR_OFF {
            return fail(
                pc,
                Rule::PointerArith,
                format!("pointer arithmetic with unbounded number {} on {p}", s.var),
            );
        }
        r.var = var;
        if p.kind == Kind::Packet {
            r.id = self.fresh_id();
            r.range = 0;
        }
        Ok(r)
    }

    fn ptr_diff(
        &mut self,
        pc: usize,
        a: RegState,
        b: RegState,
        op: AluOp,
        width: Width,
    ) -> Result<RegState, VerifyError> {
        let pkt = |k| matches!(k, Kind::Packet | Kind::PacketEnd);
        let same = (pkt(a.kind) && pkt(b.kind))
            || (a.kind == Kind::Stack && b.kind == Kind::Stack && a.aux == b.aux);
        if op != AluOp::Sub || width != Width::W64 || !same {
            return fail(
                pc,
                Rule::PointerArith,
                format!("{op:?} between pointers {a} and {b} prohibited"),
            );
        }
        let exact = a.kind == b.kind && (a.kind == Kind::Stack || a.id == b.id);
        match (exact, a.const_off(), b.const_off()) {
            (true, Some(x), Some(y)) => {
                Ok(RegState::scalar(Scalar::konst(x.wrapping_sub(y) as u64)))
            }
            _ => Ok(RegState::scalar(Scalar::UNKNOWN)),
        }
    }
}

#[cold]
fn uninit(pc: usize, r: Reg) -> VerifyError {
    VerifyError::new(
        pc,
        Rule::UninitReg,
        format!("{r} is read before it is written"),
    )
}

pub(super) fn target(op: &Op, pc: usize) -> usize {
    op.target(pc).map_or(pc + 1, |t| t as usize)
}
