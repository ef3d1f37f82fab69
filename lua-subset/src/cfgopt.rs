//! Control-flow clean-ups on virtual code, before register allocation:
//! a conditional jump that repeats one that fell through is decided,
//! identical return tails are merged (cross-jumping), and jumps to jumps go
//! straight to the final target; then, once, a packet bounds check every
//! path to it has already made goes. Each keeps the program's meaning exactly:
//! code is only shared or skipped, never reordered across a side effect.
//!
//! Not done on purpose: turning `jcc L1; ja L2; L1:` into `j!cc L2` saves an
//! instruction per site but swaps which side our verifier explores first,
//! and generated program 175 then exceeds its pending-branch limit.

use crate::codegen::vcode::*;
use bpf_bridge::isa::{AluOp, JmpOp};

/// No position: a label not placed.
pub(crate) const NOWHERE: u32 = u32::MAX;

/// Buffers the clean-ups share across rounds (on filters of a hundred
/// instructions, allocation and set-up are a good part of their cost), and
/// what they know of the labels.
pub(crate) struct Scratch {
    /// One past the largest label number placed or named.
    pub nlabels: usize,
    /// Position of each label ([`NOWHERE`] when not placed), as the last
    /// pass that indexed the code found it.
    pub label_at: Vec<u32>,
    /// A flag per label (named by a jump; placed).
    pub named: Vec<bool>,
    /// Another flag per label (reached from below).
    back: Vec<bool>,
    /// A flag per instruction.
    pub keep: Vec<bool>,
    /// Positions to visit, or to drop.
    pub work: Vec<u32>,
    /// Labels met on a walk.
    pub labels: Vec<Label>,
    /// Code being rebuilt.
    out: Vec<VInsn>,
    /// Jumps given a new target.
    retarget: Vec<(u32, Label)>,
    /// `(first, exit)` positions of the straight-line runs ending in `exit`.
    tails: Vec<(usize, usize)>,
    /// [`Scratch::label_at`] and [`Scratch::named`] hold for the code as it
    /// is (threading leaves every label in place).
    pub indexed: bool,
}

impl Scratch {
    /// Buffers for code of `len` instructions and labels below `nlabels`.
    pub fn new(nlabels: usize, len: usize) -> Scratch {
        Scratch {
            nlabels,
            label_at: Vec::with_capacity(nlabels + 4),
            named: Vec::with_capacity(nlabels + 4),
            back: Vec::with_capacity(nlabels + 4),
            keep: Vec::with_capacity(len),
            work: Vec::with_capacity(len / 4 + 4),
            labels: Vec::with_capacity(16),
            out: Vec::new(),
            retarget: Vec::with_capacity(nlabels + 4),
            tails: Vec::with_capacity(16),
            indexed: false,
        }
    }

    /// Fills [`Scratch::label_at`] and [`Scratch::named`]: the labels some
    /// jump names, reachable or not (one pass for both).
    pub fn labels_placed_and_named(&mut self, code: &[VInsn]) {
        self.label_at.clear();
        self.label_at.resize(self.nlabels, NOWHERE);
        self.named.clear();
        self.named.resize(self.nlabels, false);
        for (i, ins) in code.iter().enumerate() {
            match ins.op {
                VOp::Label(l) => self.label_at[l.0 as usize] = i as u32,
                VOp::Jmp { target, .. } | VOp::Ja { target } | VOp::MayGoto { target } => {
                    self.named[target.0 as usize] = true
                }
                _ => {}
            }
        }
    }
}

/// Runs the clean-ups once; whether anything changed.
pub(crate) fn run(code: &mut Vec<VInsn>, s: &mut Scratch) -> bool {
    let mut changed = known_branches(code, s);
    changed |= merge_exit_tails(code, s);
    changed |= thread_jumps(code, s);
    changed
}

/// Straight-line runs ending in `exit` that share a suffix of at least two
/// instructions with a later such run: the earlier copy's suffix becomes a
/// `ja` forward to the later one. Virtual registers name one location program-wide,
/// so identical instructions compute the same thing wherever they stand.
///
/// Runs on the code [`known_branches`] indexed; keeps the index.
fn merge_exit_tails(code: &mut Vec<VInsn>, s: &mut Scratch) -> bool {
    let tails = &s.tails;
    if tails.len() < 2 {
        return false;
    }
    // Kept runs; for each merged run: (its suffix start, kept insn index).
    let mut kept: Vec<(usize, usize)> = Vec::with_capacity(tails.len());
    let mut merges: Vec<(usize, usize, usize)> = Vec::with_capacity(tails.len());
    for &(s, e) in tails.iter().rev() {
        let best = kept
            .iter()
            .map(|&(ks, ke)| {
                let mut k = 0;
                while k <= e - s && k <= ke - ks && code[e - k].op == code[ke - k].op {
                    k += 1;
                }
                (k, ke)
            })
            .max_by_key(|&(k, _)| k);
        match best {
            Some((k, ke)) if k >= 2 => merges.push((e + 1 - k, e, ke + 1 - k)),
            _ => kept.push((s, e)),
        }
    }
    if merges.is_empty() {
        return false;
    }
    // A label before each shared suffix start, then the copies become jumps.
    let mut at: Vec<(usize, Label)> = Vec::with_capacity(merges.len());
    // Merged runs come last first: reversed, by increasing position.
    let mut jump_from: Vec<(usize, usize, Label)> = Vec::with_capacity(merges.len());
    for &(ms, me, target) in merges.iter().rev() {
        let l = match at.iter().find(|(p, _)| *p == target) {
            Some(&(_, l)) => l,
            None => {
                let l = Label(s.nlabels as u32);
                s.nlabels += 1;
                at.push((target, l));
                l
            }
        };
        jump_from.push((ms, me, l));
    }
    at.sort_unstable_by_key(|&(p, _)| p);
    // The labels already placed move by the labels inserted at or before
    // them, less the instructions the merged copies drop before them (no
    // label stands inside a run, so none is dropped).
    for p in s.label_at.iter_mut().filter(|p| **p != NOWHERE) {
        let old = *p as usize;
        let added = at.iter().take_while(|&&(q, _)| q <= old).count();
        let dropped: usize = jump_from
            .iter()
            .take_while(|&&(ms, _, _)| ms < old)
            .map(|&(ms, me, _)| me - ms)
            .sum();
        *p = (old + added - dropped) as u32;
    }
    s.label_at.resize(s.nlabels, NOWHERE);
    // The runs between insertions and merged copies move whole.
    let out = &mut s.out;
    out.clear();
    out.reserve(code.len());
    let (mut next_at, mut next_jump) = (at.iter().peekable(), jump_from.iter().peekable());
    let mut i = 0;
    loop {
        let event = next_at
            .peek()
            .map_or(code.len(), |&&(p, _)| p)
            .min(next_jump.peek().map_or(code.len(), |&&(ms, _, _)| ms));
        out.extend_from_slice(&code[i..event]);
        i = event;
        if i == code.len() {
            break;
        }
        if let Some(&(_, l)) = next_at.next_if(|(p, _)| *p == i) {
            s.label_at[l.0 as usize] = out.len() as u32;
            out.push(VInsn {
                op: VOp::Label(l),
                span: code[i].span,
            });
        }
        if let Some(&(_, me, l)) = next_jump.next_if(|(ms, _, _)| *ms == i) {
            out.push(VInsn {
                op: VOp::Ja { target: l },
                span: code[i].span,
            });
            i = me + 1;
        }
    }
    std::mem::swap(code, out);
    true
}

/// A conditional jump that repeats one that fell through earlier in the same
/// straight-line run, with its registers unchanged since, is decided: the
/// same condition is false again (the jump goes), its inverse is true (the
/// jump becomes `ja`). A map lookup's null check repeated after the first one
/// is the common case.
///
/// The same pass indexes the code as it leaves it, for the clean-ups that
/// follow: [`Scratch::label_at`] and [`Scratch::tails`].
fn known_branches(code: &mut Vec<VInsn>, s: &mut Scratch) -> bool {
    // Conditions known false here: (op, a, b), at most eight.
    let mut facts: Vec<(JmpOp, V, VSrc)> = Vec::with_capacity(8);
    // A bit for each register number (modulo 64) the facts name.
    let mut fact_regs: u64 = 0;
    let regs_bits = |(_, a, b): (JmpOp, V, VSrc)| {
        let bit = |v: V| 1u64 << (v.0 % 64);
        bit(a) | if let VSrc::Reg(r) = b { bit(r) } else { 0 }
    };
    let drop = &mut s.work;
    drop.clear();
    s.label_at.clear();
    s.label_at.resize(s.nlabels, NOWHERE);
    s.tails.clear();
    // Where the current straight-line run starts, in the code as left.
    let mut start = 0;
    let mut changed = false;
    for (i, ins) in code.iter_mut().enumerate() {
        // The position once the dropped jumps are gone.
        let at = i - drop.len();
        match ins.op {
            VOp::Label(l) => {
                facts.clear();
                fact_regs = 0;
                s.label_at[l.0 as usize] = at as u32;
                start = at + 1;
            }
            VOp::Jmp { op, a, b, target } => {
                // No fact names `a`'s bit: none can match.
                let known = fact_regs & 1 << (a.0 % 64) != 0;
                let repeat = known && facts.contains(&(op, a, b));
                let inverse = known && op.inverse().is_some_and(|inv| facts.contains(&(inv, a, b)));
                if repeat {
                    drop.push(i as u32);
                    changed = true;
                    continue;
                } else if inverse {
                    ins.op = VOp::Ja { target };
                    changed = true;
                    facts.clear();
                    fact_regs = 0;
                } else if facts.len() < 8 {
                    facts.push((op, a, b));
                    fact_regs |= regs_bits((op, a, b));
                }
                start = at + 1;
            }
            op if op.target().is_some() || !op.falls_through() => {
                facts.clear();
                fact_regs = 0;
                if op == VOp::Exit {
                    s.tails.push((start, at));
                }
                start = at + 1;
            }
            _ if facts.is_empty() => {}
            op => {
                let w = written(op);
                // Most instructions touch no fact: a bit per register number
                // modulo 64 rules them out before the facts are read.
                if !w.clone().any(|r| fact_regs & 1 << (r % 64) != 0) {
                    continue;
                }
                let stale = |(_, a, b): &(JmpOp, V, VSrc)| {
                    w.contains(&a.0) || matches!(b, VSrc::Reg(r) if w.contains(&r.0))
                };
                if facts.iter().any(stale) {
                    facts.retain(|f| !stale(f));
                    fact_regs = facts.iter().fold(0, |m, &f| m | regs_bits(f));
                }
            }
        }
    }
    if !drop.is_empty() {
        remove_at(code, drop);
    }
    changed
}

/// A packet bounds check as the code generator emits it at `i`:
/// `t = data; t += k; if t > data_end goto err`, `t` used nowhere else
/// (`mentions` counts the instructions naming each virtual register).
/// Returns `(data, data_end, k)`.
fn packet_check(code: &[VInsn], i: usize, mentions: &[u32]) -> Option<(V, V, i32)> {
    let (t, data, end, k) = check_shape(code, i)?;
    (!t.is_phys() && mentions.get(t.0 as usize) == Some(&3)).then_some((data, end, k))
}

/// [`packet_check`]'s instructions at `i`, however often `t` is named:
/// `(t, data, data_end, k)`.
fn check_shape(code: &[VInsn], i: usize) -> Option<(V, V, V, i32)> {
    // The first instruction rules out nearly every position: test it alone.
    let VOp::Alu {
        op: AluOp::Mov,
        dst: t,
        src: VSrc::Reg(data),
    } = code[i].op
    else {
        return None;
    };
    match (code.get(i + 1)?.op, code.get(i + 2)?.op) {
        (
            VOp::Alu {
                op: AluOp::Add,
                dst: t2,
                src: VSrc::Imm(k),
            },
            VOp::Jmp {
                op: JmpOp::Gt,
                a: t3,
                b: VSrc::Reg(end),
                ..
            },
        ) if t == t2 && t == t3 => Some((t, data, end, k)),
        _ => None,
    }
}

/// Counts `op`'s virtual registers in `mentions` (each distinct one once:
/// `t += t` mentions `t` once; physical registers are not counted).
fn count_mentions(op: VOp, mentions: &mut [u32]) {
    let mut count = |v: V| {
        if !v.is_phys() {
            if let Some(m) = mentions.get_mut(v.0 as usize) {
                *m += 1;
            }
        }
    };
    let mut pair = |a: V, b: VSrc| {
        count(a);
        if let VSrc::Reg(r) = b {
            if r != a {
                count(r);
            }
        }
    };
    match op {
        VOp::Alu { dst, src, .. } => pair(dst, src),
        VOp::Load { dst, base, .. } => pair(dst, VSrc::Reg(base)),
        VOp::Store { base, src, .. } => pair(base, src),
        VOp::Jmp { a, b, .. } => pair(a, b),
        VOp::Neg { dst } | VOp::Be { dst, .. } => pair(dst, VSrc::Imm(0)),
        VOp::LoadImm { dst, .. } | VOp::LoadMap { dst, .. } => pair(dst, VSrc::Imm(0)),
        // Calls and exits name physical registers only.
        VOp::Call { .. } | VOp::Exit | VOp::Ja { .. } | VOp::MayGoto { .. } | VOp::Label(_) => {}
    }
}

/// Packet bounds checks that every path reaching them has already made (for
/// as many bytes or more) are removed. A forward pass in code order: the bytes
/// proven at a label are the least over the jumps to it and the fall-through;
/// a label reached from below (a loop head) proves nothing. Only helpers that
/// cannot touch the packet (map lookup, update, delete) keep the facts.
/// Run once, after the other clean-ups (it creates no work for them).
pub(crate) fn proven_packet_checks(code: &mut Vec<VInsn>, s: &mut Scratch, nregs: u32) -> bool {
    // One pass counts every virtual register's mentions (which the first
    // check's temporary needs), notes the positions shaped like a check, the
    // last write of each register, and the labels some jump reaches from
    // below (or from itself).
    let n = nregs as usize;
    let mut mentions = vec![0u32; n];
    let mut last_write = vec![NOWHERE; n.max(FIRST_VIRT as usize)];
    let shaped = &mut s.work;
    shaped.clear();
    let seen = &mut s.named;
    seen.clear();
    seen.resize(s.nlabels, false);
    let from_below = &mut s.back;
    from_below.clear();
    from_below.resize(s.nlabels, false);
    for i in 0..code.len() {
        let op = code[i].op;
        match op {
            VOp::Label(l) => seen[l.0 as usize] = true,
            _ => {
                if let Some(t) = op.target() {
                    if seen[t.0 as usize] {
                        from_below[t.0 as usize] = true;
                    }
                }
            }
        }
        count_mentions(op, &mut mentions);
        if matches!(
            op,
            VOp::Alu {
                op: AluOp::Mov,
                src: VSrc::Reg(_),
                ..
            }
        ) && check_shape(code, i).is_some()
        {
            shaped.push(i as u32);
        }
        for r in written(op) {
            if let Some(w) = last_write.get_mut(r as usize) {
                *w = i as u32;
            }
        }
    }
    // The (data, data_end) pair of the first check; both must never change
    // after their definitions at entry, which precede the first check.
    let Some((first, data, end)) = shaped.iter().find_map(|&i| {
        packet_check(code, i as usize, &mentions).map(|(d, e, _)| (i as usize, d, e))
    }) else {
        return false;
    };
    let written_after = |v: V| {
        last_write
            .get(v.0 as usize)
            .is_some_and(|&w| w != NOWHERE && w as usize >= first)
    };
    if written_after(data) || written_after(end) {
        return false;
    }
    let meet = |a: Option<i64>, b: Option<i64>| match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, None) | (None, x) => x,
    };
    // Bytes proven on the jumps seen so far to each label (None: no jump yet).
    let mut incoming: Vec<Option<i64>> = vec![None; s.nlabels];
    // Bytes proven here; None when unreachable from above.
    let mut state: Option<i64> = Some(0);
    let drop = &mut s.work;
    drop.clear();
    let mut i = 0;
    while i < code.len() {
        if i >= first {
            if let Some((d, e, k)) = packet_check(code, i, &mentions) {
                if d == data && e == end {
                    match state {
                        Some(p) if i64::from(k) <= p => {
                            drop.extend([i as u32, i as u32 + 1, i as u32 + 2])
                        }
                        Some(p) => {
                            if let VOp::Jmp { target, .. } = code[i + 2].op {
                                if let Some(slot) = incoming.get_mut(target.0 as usize) {
                                    *slot = meet(*slot, Some(p));
                                }
                            }
                            state = Some(p.max(i64::from(k)));
                        }
                        None => {}
                    }
                    i += 3;
                    continue;
                }
            }
        }
        let op = code[i].op;
        match op {
            VOp::Label(l) => {
                let l = l.0 as usize;
                state = if from_below[l] {
                    Some(0)
                } else {
                    meet(state, incoming[l])
                };
            }
            VOp::Call { helper, .. } if !matches!(helper, 1..=3) => {
                state = state.map(|_| 0);
            }
            _ => {}
        }
        if let Some(slot) = op.target().and_then(|t| incoming.get_mut(t.0 as usize)) {
            *slot = meet(*slot, state);
        }
        if !op.falls_through() {
            state = None;
        }
        i += 1;
    }
    if drop.is_empty() {
        return false;
    }
    remove_at(code, drop);
    true
}

/// The register numbers `op` (not a jump) writes (as [`VOp::defs`] says),
/// as a range (a call
/// writes r0–r5): matched once however many registers are asked about.
fn written(op: VOp) -> std::ops::RangeInclusive<u32> {
    match op {
        VOp::Alu { dst, .. }
        | VOp::Neg { dst }
        | VOp::Be { dst, .. }
        | VOp::LoadImm { dst, .. }
        | VOp::LoadMap { dst, .. }
        | VOp::Load { dst, .. } => dst.0..=dst.0,
        VOp::Call { .. } => 0..=5,
        #[allow(clippy::reversed_empty_ranges)]
        _ => 1..=0,
    }
}

/// Removes the instructions at the (increasing) indices `at`: the runs
/// between them move down whole.
fn remove_at(code: &mut Vec<VInsn>, at: &[u32]) {
    let Some(&first) = at.first() else {
        return;
    };
    let mut w = first as usize;
    for (k, &d) in at.iter().enumerate() {
        let next = at.get(k + 1).map_or(code.len(), |&n| n as usize);
        code.copy_within(d as usize + 1..next, w);
        w += next - d as usize - 1;
    }
    code.truncate(w);
}

/// The first instruction at or after `i` that is not a label.
fn first_real(code: &[VInsn], mut i: usize) -> Option<usize> {
    while i < code.len() {
        if !matches!(code[i].op, VOp::Label(_)) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Jumps whose target is a `ja` go to that `ja`'s target (chains followed a
/// bounded number of steps, so cycles of jumps end).
///
/// Runs on the code [`known_branches`] indexed ([`Scratch::label_at`]).
fn thread_jumps(code: &mut [VInsn], s: &mut Scratch) -> bool {
    let at = &s.label_at;
    let final_target = |mut l: Label| -> Label {
        for _ in 0..8 {
            let p = at[l.0 as usize];
            if p == NOWHERE {
                break;
            }
            match first_real(code, p as usize).map(|j| code[j].op) {
                Some(VOp::Ja { target }) if target != l => l = target,
                _ => break,
            }
        }
        l
    };
    // Decided on the code as it is, then applied; the labels named
    // afterwards are noted for the dead-code removal that follows.
    let new = &mut s.retarget;
    new.clear();
    let named = &mut s.named;
    named.clear();
    named.resize(s.nlabels, false);
    for (i, ins) in code.iter().enumerate() {
        if let Some(target) = ins.op.target() {
            let t = final_target(target);
            named[t.0 as usize] = true;
            if t != target {
                new.push((i as u32, t));
            }
        }
    }
    s.indexed = true;
    for &(i, t) in new.iter() {
        if let VOp::Jmp { target, .. } | VOp::Ja { target } | VOp::MayGoto { target } =
            &mut code[i as usize].op
        {
            *target = t;
        }
    }
    !new.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;
    use bpf_bridge::isa::AluOp;

    fn ins(op: VOp) -> VInsn {
        VInsn {
            op,
            span: Span::default(),
        }
    }

    fn ret(k: i32) -> [VInsn; 2] {
        [
            ins(VOp::Alu {
                op: AluOp::Mov,
                dst: V(0),
                src: VSrc::Imm(k),
            }),
            ins(VOp::Exit),
        ]
    }

    fn jeq(a: u32, k: i32, l: u32) -> VInsn {
        ins(VOp::Jmp {
            op: JmpOp::Eq,
            a: V(a),
            b: VSrc::Imm(k),
            target: Label(l),
        })
    }

    /// Runs `pass` over `code`; the ops after it must be `want`.
    #[track_caller]
    fn check(pass: fn(&mut Vec<VInsn>, &mut Scratch) -> bool, code: Vec<VInsn>, want: Vec<VOp>) {
        let mut code = code;
        // Labels numbered as the code generator would: after those used.
        let nlabels = code
            .iter()
            .filter_map(|i| match i.op {
                VOp::Label(l) => Some(l.0 as usize + 1),
                op => op.target().map(|l| l.0 as usize + 1),
            })
            .max()
            .unwrap_or(0);
        let mut s = Scratch::new(nlabels, code.len());
        // Indexed as `run` does before the other clean-ups (no test case has
        // a repeated condition outside `a_repeated_test_is_decided`).
        known_branches(&mut code, &mut s);
        pass(&mut code, &mut s);
        let got: Vec<VOp> = code.iter().map(|i| i.op).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn identical_returns_share_one_copy() {
        let mut code = vec![jeq(16, 1, 0)];
        code.extend(ret(2));
        code.push(ins(VOp::Label(Label(0))));
        code.extend(ret(2));
        let want = vec![
            jeq(16, 1, 0).op,
            VOp::Ja { target: Label(1) },
            VOp::Label(Label(0)),
            VOp::Label(Label(1)),
            ret(2)[0].op,
            VOp::Exit,
        ];
        check(merge_exit_tails, code, want);
    }

    #[test]
    fn different_returns_stay() {
        let mut code = vec![jeq(16, 1, 0)];
        code.extend(ret(1));
        code.push(ins(VOp::Label(Label(0))));
        code.extend(ret(2));
        let want: Vec<VOp> = code.iter().map(|i| i.op).collect();
        check(merge_exit_tails, code, want);
    }

    #[test]
    fn a_repeated_test_is_decided() {
        let mov = ins(VOp::Alu {
            op: AluOp::Mov,
            dst: V(17),
            src: VSrc::Imm(3),
        });
        let ne = |l| {
            ins(VOp::Jmp {
                op: JmpOp::Ne,
                a: V(16),
                b: VSrc::Imm(0),
                target: Label(l),
            })
        };
        // The same test again never jumps; its inverse always does.
        check(
            known_branches,
            vec![jeq(16, 0, 0), mov, jeq(16, 0, 1), ne(2)],
            vec![jeq(16, 0, 0).op, mov.op, VOp::Ja { target: Label(2) }],
        );
        // A redefinition or a label forgets what was known.
        let redef = ins(VOp::Alu {
            op: AluOp::Add,
            dst: V(16),
            src: VSrc::Imm(1),
        });
        let code = vec![jeq(16, 0, 0), redef, jeq(16, 0, 1)];
        let want: Vec<VOp> = code.iter().map(|i| i.op).collect();
        check(known_branches, code, want);
        let code = vec![jeq(16, 0, 0), ins(VOp::Label(Label(5))), jeq(16, 0, 1)];
        let want: Vec<VOp> = code.iter().map(|i| i.op).collect();
        check(known_branches, code, want);
    }

    #[test]
    fn jumps_to_jumps_go_straight_through() {
        let code = vec![
            jeq(16, 0, 0),
            ins(VOp::Exit),
            ins(VOp::Label(Label(0))),
            ins(VOp::Ja { target: Label(1) }),
            ins(VOp::Label(Label(1))),
            ins(VOp::Exit),
        ];
        let mut want: Vec<VOp> = code.iter().map(|i| i.op).collect();
        want[0] = jeq(16, 0, 1).op;
        check(|c, s| thread_jumps(c, s), code, want);
    }

    /// `t = v20; t += k; if t > v21 goto L9` with a fresh `t`.
    fn pkt_check(t: u32, k: i32) -> [VInsn; 3] {
        [
            ins(VOp::Alu {
                op: AluOp::Mov,
                dst: V(t),
                src: VSrc::Reg(V(20)),
            }),
            ins(VOp::Alu {
                op: AluOp::Add,
                dst: V(t),
                src: VSrc::Imm(k),
            }),
            ins(VOp::Jmp {
                op: JmpOp::Gt,
                a: V(t),
                b: VSrc::Reg(V(21)),
                target: Label(9),
            }),
        ]
    }

    #[test]
    fn a_check_every_path_made_goes() {
        // Both arms of a branch check 24 bytes or more; the 14-byte check
        // after the join is proven, the 30-byte one is not.
        let mut code = vec![jeq(16, 1, 0)];
        code.extend(pkt_check(30, 24));
        code.push(ins(VOp::Ja { target: Label(1) }));
        code.push(ins(VOp::Label(Label(0))));
        code.extend(pkt_check(31, 40));
        code.push(ins(VOp::Label(Label(1))));
        code.extend(pkt_check(32, 14));
        code.extend(pkt_check(33, 30));
        code.extend(ret(2));
        code.push(ins(VOp::Label(Label(9))));
        code.extend(ret(0));
        let mut want = code.clone();
        want.drain(10..13);
        let want = want.iter().map(|i| i.op).collect();
        check(|c, s| proven_packet_checks(c, s, 64), code, want);
    }

    #[test]
    fn a_check_after_a_loop_head_or_a_short_path_stays() {
        // Label 0 is reached from below: nothing is proven there. Label 1
        // is reached by a path that proved only 10 bytes.
        let mut code = pkt_check(30, 24).to_vec();
        code.push(ins(VOp::Label(Label(0))));
        code.extend(pkt_check(31, 10));
        code.push(jeq(16, 1, 1));
        code.extend(pkt_check(32, 30));
        code.push(ins(VOp::Label(Label(1))));
        code.extend(pkt_check(33, 14));
        code.push(jeq(17, 1, 0));
        code.extend(ret(2));
        code.push(ins(VOp::Label(Label(9))));
        code.extend(ret(0));
        let want = code.iter().map(|i| i.op).collect();
        check(|c, s| proven_packet_checks(c, s, 64), code, want);
    }
}
