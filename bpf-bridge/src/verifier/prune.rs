//! State equivalence: when a state already explored covers the current one,
//! the current path can stop (the kernel's `states_equal`), and the widening
//! that lets may_goto loops converge.

use super::bounds::Scalar;
use super::marks::Demand;
use super::precise::Marks;
use super::state::{Byte, Frame, Kind, RegState, Slot, State};

/// Consistent renaming of ids between the old and the current state; fixed
/// capacity (no allocation), and a full map fails the comparison. One map
/// serves all comparisons at a prune point ([`subsumes`] empties it).
pub struct IdMap {
    pairs: [(u64, u64); 16],
    len: usize,
}

impl IdMap {
    /// An empty map.
    pub fn new() -> IdMap {
        IdMap {
            pairs: [(0, 0); 16],
            len: 0,
        }
    }

    fn check(&mut self, tag: u64, old: u32, cur: u32) -> bool {
        let (o, c) = ((tag << 32) | old as u64, (tag << 32) | cur as u64);
        for &(a, b) in &self.pairs[..self.len] {
            if a == o || b == c {
                return a == o && b == c;
            }
        }
        if self.len == self.pairs.len() {
            return false;
        }
        self.pairs[self.len] = (o, c);
        self.len += 1;
        true
    }
}

/// A fast non-cryptographic hasher (the rustc "Fx" scheme).
struct Fx(u64);

impl core::hash::Hasher for Fx {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(b as u64);
        }
    }
    fn write_u8(&mut self, v: u8) {
        self.write_u64(v as u64);
    }
    fn write_u32(&mut self, v: u32) {
        self.write_u64(v as u64);
    }
    fn write_i32(&mut self, v: i32) {
        self.write_u64(v as u32 as u64);
    }
    fn write_i64(&mut self, v: i64) {
        self.write_u64(v as u64);
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

#[inline]
fn var_ok(old: &Scalar, cur: &Scalar, exact: bool) -> bool {
    if exact {
        old == cur
    } else {
        old.contains(cur)
    }
}

/// `precise`: whether an old scalar's value matters (an imprecise one, other
/// than the memory length of `raw` programs, matches any scalar).
#[inline(always)]
fn regsafe(old: &RegState, cur: &RegState, ids: &mut IdMap, exact: bool, precise: bool) -> bool {
    if old.kind == Kind::NotInit {
        return !exact || cur.kind == Kind::NotInit;
    }
    if old.kind != cur.kind {
        return false;
    }
    match old.kind {
        Kind::NotInit | Kind::Ctx | Kind::PacketEnd => true,
        Kind::Scalar if !exact && !precise && !old.len => true,
        Kind::Scalar => {
            var_ok(&old.var, &cur.var, exact)
                && (!old.len || cur.len)
                && (old.id == 0 && (!exact || cur.id == 0)
                    || cur.id != 0 && ids.check(0, old.id, cur.id))
        }
        Kind::Packet => {
            old.off == cur.off
                && var_ok(&old.var, &cur.var, exact)
                && if exact {
                    old.range == cur.range
                } else {
                    old.range <= cur.range
                }
                && ids.check(1, old.id, cur.id)
        }
        Kind::Stack | Kind::MapValue => {
            old.aux == cur.aux && old.off == cur.off && var_ok(&old.var, &cur.var, exact)
        }
        Kind::MapPtr => old.aux == cur.aux,
        Kind::MapValueOrNull => {
            old.aux == cur.aux
                && old.off == cur.off
                && var_ok(&old.var, &cur.var, exact)
                && ids.check(2, old.id, cur.id)
        }
    }
}

/// One bit per byte of a [`Slot::codes`] word: its [`Byte::Misc`] flag.
const MISC: u64 = 0x0101_0101_0101_0101;

/// `Err(slot)` where old's stack does not cover cur's.
fn stacksafe(
    old: &Frame,
    cur: &Frame,
    ids: &mut IdMap,
    exact: bool,
    prec: u64,
    live: u64,
) -> Result<(), usize> {
    if exact {
        let n = old.stack.len().max(cur.stack.len());
        for i in 0..n {
            let os = old.stack.get(i).unwrap_or(&Slot::EMPTY);
            let cs = cur.stack.get(i).unwrap_or(&Slot::EMPTY);
            if os.bytes != cs.bytes
                || (os.bytes[0] == Byte::Spill && !regsafe(&os.spill, &cs.spill, ids, true, true))
            {
                return Err(i);
            }
        }
        return Ok(());
    }
    // Only the live slots old has written (a frame has at most 64 slots),
    // the precise ones first: spilled loop counters, which most often differ.
    let todo = live & written(old);
    if todo == 0 {
        return Ok(());
    }
    slots_safe(old, cur, ids, prec, todo & prec)?;
    slots_safe(old, cur, ids, prec, todo & !prec)
}

/// The slots of `f`'s stack that exist (at most 64).
fn written(f: &Frame) -> u64 {
    let n = f.stack.len();
    debug_assert!(n <= 64);
    if n >= 64 {
        u64::MAX
    } else {
        (1 << n) - 1
    }
}

/// `Err(slot)` where old's slots in `set` do not cover cur's.
#[inline(always)]
fn slots_safe(
    old: &Frame,
    cur: &Frame,
    ids: &mut IdMap,
    prec: u64,
    mut set: u64,
) -> Result<(), usize> {
    while set != 0 {
        let i = set.trailing_zeros() as usize;
        set &= set - 1;
        if !slotsafe(&old.stack[i], cur_slot(cur, i), ids, prec & (1 << i) != 0) {
            return Err(i);
        }
    }
    Ok(())
}

/// Whether old stack slot `os` covers `cs` (`precise`: its spilled scalar's
/// value matters).
#[inline(always)]
fn slotsafe(os: &Slot, cs: &Slot, ids: &mut IdMap, precise: bool) -> bool {
    if os.bytes[0] == Byte::Spill {
        return if os.spill.kind == Kind::Scalar && !precise && !os.spill.len {
            // Any scalar data will do: a spilled one, or eight data bytes.
            match cs.bytes[0] {
                Byte::Spill => cs.spill.kind == Kind::Scalar,
                _ => cs.bytes == [Byte::Misc; 8],
            }
        } else {
            cs.bytes[0] == Byte::Spill && regsafe(&os.spill, &cs.spill, ids, false, precise)
        };
    }
    // Each data byte of old must be data in cur: a data byte, or a byte of a
    // spilled scalar (the bytes of a slot are spilled all or none).
    let c = cs.codes();
    let data = if cs.bytes[0] == Byte::Spill && cs.spill.kind == Kind::Scalar {
        (c | c >> 1) & MISC
    } else {
        c & MISC
    };
    os.codes() & !data == 0
}

/// Where a comparison found that an old state does not cover the current
/// one: a stack slot or a register of a frame. The next comparison at the
/// same point checks there first ([`Probe`]): states recorded at one point
/// most often differ in the same place (a loop counter).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub enum Miss {
    /// Nowhere known.
    #[default]
    Unknown,
    /// Slot `slot` of frame `frame`.
    Slot { frame: usize, slot: usize },
    /// Register `reg` of frame `frame`.
    Reg { frame: usize, reg: usize },
}

/// What [`subsumes`] compares in frame `i` of `cur`.
struct Compared {
    /// Registers.
    regs: u16,
    /// Stack slots (of those old has).
    slots: u64,
    /// Registers whose scalar value matters.
    pregs: u16,
    /// Slots whose spilled scalar's value matters.
    pslots: u64,
}

fn compared(
    cur: &State,
    i: usize,
    live: &[u16],
    stack_live: &[u64],
    prec: Option<&Marks>,
) -> Compared {
    let top = cur.frames.len() - 1;
    let (regs, slots) = if i == top {
        (
            live.get(cur.pc).copied().unwrap_or(u16::MAX),
            stack_live.get(cur.pc).copied().unwrap_or(u64::MAX),
        )
    } else {
        // Back in this frame, r0 comes from the callee and r1–r5 are clobbered.
        let ret = cur.frames[i + 1].callsite + 1;
        (live.get(ret).copied().unwrap_or(u16::MAX) & !0x3f, u64::MAX)
    };
    let (pregs, pslots) = match prec {
        Some(m) => (
            m.regs.get(i).copied().unwrap_or(u16::MAX),
            m.slots.get(i).copied().unwrap_or(u64::MAX),
        ),
        None => (u16::MAX, u64::MAX),
    };
    Compared {
        regs,
        slots,
        pregs,
        pslots,
    }
}

/// Whether every concrete state `cur` stands for is one `old` stands for, on
/// the registers live at `cur.pc` (`live` is per slot) and the scalars `prec`
/// marks precise (`None`: all) — or, with `exact`, whether the two are the same.
///
/// `stack_live` is per slot too: stack slots of the current frame that may
/// still be read (the others are skipped unless `exact`). When old does not
/// cover cur because of one slot or register, `miss` is set to it.
#[allow(clippy::too_many_arguments)]
pub fn subsumes(
    old: &[Frame],
    cur: &State,
    live: &[u16],
    stack_live: &[u64],
    exact: bool,
    prec: Option<&Marks>,
    ids: &mut IdMap,
    miss: &mut Miss,
) -> bool {
    if old.len() != cur.frames.len() {
        return false;
    }
    ids.len = 0;
    for (i, (of, cf)) in old.iter().zip(&cur.frames).enumerate() {
        if of.callsite != cf.callsite {
            return false;
        }
        let c = compared(cur, i, live, stack_live, prec);
        // The stack first: where states differ it is most often there, and
        // the verdict does not depend on the order (the id map only has to
        // stay consistent over all pairs).
        if let Err(slot) = stacksafe(of, cf, ids, exact, c.pslots, c.slots) {
            *miss = Miss::Slot { frame: i, slot };
            return false;
        }
        // Then the precise registers: in a loop they (the counters) are what
        // most often differs, and they are quick to compare. Each register is
        // compared once.
        let mut first = c.regs & c.pregs & 0x7ff;
        let mut rest = c.regs & !first & 0x7ff;
        while first != 0 {
            let r = first.trailing_zeros() as usize;
            first &= first - 1;
            if !regsafe(&of.regs[r], &cf.regs[r], ids, exact, true) {
                *miss = Miss::Reg { frame: i, reg: r };
                return false;
            }
        }
        while rest != 0 {
            let r = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            if !regsafe(&of.regs[r], &cf.regs[r], ids, exact, false) {
                *miss = Miss::Reg { frame: i, reg: r };
                return false;
            }
        }
    }
    true
}

/// The current state's side of the place a comparison last failed at,
/// looked up once per prune point visit: the old states compared there
/// vary, the current one does not.
pub struct Probe<'a> {
    frames: usize,
    place: Place<'a>,
}

enum Place<'a> {
    None,
    Slot {
        frame: usize,
        slot: usize,
        cur: &'a Slot,
    },
    Reg {
        frame: usize,
        reg: usize,
        cur: &'a RegState,
    },
}

impl<'a> Probe<'a> {
    /// The probe of place `at` of `cur` (nothing when the comparison does
    /// not look there).
    pub fn new(cur: &'a State, live: &[u16], stack_live: &[u64], at: Miss) -> Probe<'a> {
        let frames = cur.frames.len();
        let place = match at {
            Miss::Slot { frame, slot } if frame < frames && slot < 64 => {
                let c = compared(cur, frame, live, stack_live, None);
                let cf = &cur.frames[frame];
                if c.slots & (1 << slot) != 0 {
                    Place::Slot {
                        frame,
                        slot,
                        cur: cur_slot(cf, slot),
                    }
                } else {
                    Place::None
                }
            }
            Miss::Reg { frame, reg } if frame < frames && reg < 11 => {
                let c = compared(cur, frame, live, stack_live, None);
                if c.regs & (1 << reg) != 0 {
                    Place::Reg {
                        frame,
                        reg,
                        cur: &cur.frames[frame].regs[reg],
                    }
                } else {
                    Place::None
                }
            }
            _ => Place::None,
        };
        Probe { frames, place }
    }

    /// Whether the place alone shows that `old` does not cover the current
    /// state ([`subsumes`] without `exact`, with `prec`, would say no): a quick
    /// test before the whole comparison. Ids start unpaired, so a mismatch
    /// here is one in any larger comparison.
    pub fn misses(&self, old: &[Frame], prec: Option<&Marks>, ids: &mut IdMap) -> bool {
        if old.len() != self.frames {
            return true;
        }
        ids.len = 0;
        match self.place {
            Place::None => false,
            Place::Slot { frame, slot, cur } => {
                let Some(os) = old[frame].stack.get(slot) else {
                    return false;
                };
                let precise =
                    prec.is_none_or(|m| m.has_slot(frame, slot) || frame >= m.slots.len());
                !slotsafe(os, cur, ids, precise)
            }
            Place::Reg { frame, reg, cur } => {
                let precise = prec.is_none_or(|m| m.has_reg(frame, reg) || frame >= m.regs.len());
                !regsafe(&old[frame].regs[reg], cur, ids, false, precise)
            }
        }
    }
}

fn cur_slot(f: &Frame, i: usize) -> &Slot {
    f.stack.get(i).unwrap_or(&Slot::EMPTY)
}

/// Forgets what `cur` knows about scalars that `old` does not cover, so that a
/// loop guarded by may_goto reaches a state covered by an earlier one. Only
/// scalars `prec` leaves imprecise are forgotten (`None`: all): the others
/// matter, and forgetting them would fail the program instead (the kernel's
/// `widen_imprecise_scalars`).
pub fn widen(old: &[Frame], cur: &mut State, prec: Option<&Marks>) {
    let forget = |o: &RegState, c: &mut RegState, precise: bool| {
        if !precise
            && o.kind == Kind::Scalar
            && c.kind == Kind::Scalar
            && !o.len
            && !o.var.contains(&c.var)
        {
            // The id stays: scalars linked by it are still equal, and a bound
            // later learnt on one of them (a spill and its fills) holds for all.
            *c = RegState {
                id: c.id,
                ..RegState::scalar(Scalar::UNKNOWN)
            };
        }
    };
    for (f, (of, cf)) in old.iter().zip(cur.frames.iter_mut()).enumerate() {
        let (pregs, pslots) = match prec {
            Some(m) => (
                m.regs.get(f).copied().unwrap_or(0),
                m.slots.get(f).copied().unwrap_or(0),
            ),
            None => (0, 0),
        };
        for (r, (o, c)) in of.regs.iter().zip(cf.regs.iter_mut()).enumerate() {
            forget(o, c, pregs & (1 << r) != 0);
        }
        for (i, (os, cs)) in of.stack.iter().zip(cf.stack.iter_mut()).enumerate() {
            if os.bytes[0] == Byte::Spill && cs.bytes[0] == Byte::Spill {
                forget(&os.spill, &mut cs.spill, i < 64 && pslots & (1 << i) != 0);
            }
        }
    }
}

/// A hash that agrees with exact equality ([`subsumes`] with `exact`) of
/// states at `pc`: equal states hash alike (ids, which may be renamed, are
/// left out).
pub fn exact_hash(frames: &[Frame], pc: usize, live: &[u16]) -> u64 {
    use core::hash::{Hash, Hasher};
    let mut h = Fx(0);
    // A few fields suffice: equal states still hash alike.
    let reg = |r: &RegState, h: &mut Fx| {
        h.write_u64(r.kind as u64);
        match r.kind {
            Kind::NotInit | Kind::Ctx | Kind::PacketEnd => {}
            Kind::MapPtr => h.write_u64(r.aux as u64),
            _ => {
                h.write_u64(
                    r.var.t.value ^ r.var.umin.rotate_left(17) ^ r.var.umax.rotate_left(41),
                );
                h.write_u64((r.off as u64) ^ ((r.range as u64) << 32));
            }
        }
    };
    let top = frames.len() - 1;
    frames.len().hash(&mut h);
    for (i, f) in frames.iter().enumerate() {
        f.callsite.hash(&mut h);
        let mask = if i == top {
            live.get(pc).copied().unwrap_or(u16::MAX)
        } else {
            live.get(frames[i + 1].callsite + 1)
                .copied()
                .unwrap_or(u16::MAX)
                & !0x3f
        };
        for (n, r) in f.regs.iter().enumerate() {
            if mask & (1 << n) != 0 {
                reg(r, &mut h);
            }
        }
        let used = f
            .stack
            .iter()
            .rposition(|s| *s != Slot::EMPTY)
            .map_or(0, |i| i + 1);
        for s in &f.stack[..used] {
            h.write_u64(s.bytes.iter().fold(0u64, |a, b| a << 2 | *b as u64));
            if s.bytes[0] == Byte::Spill {
                reg(&s.spill, &mut h);
            }
        }
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::super::bounds::Scalar;
    use super::super::state::{Byte, Frame, RegState, Slot, State};
    use super::*;
    use alloc::vec;

    /// The quick test at a remembered place only ever says no where the whole
    /// comparison does: over pairs of states differing in spilled and register
    /// scalars (precise or not, linked by ids or not), every place it rejects at
    /// is one the whole comparison rejects too.
    #[test]
    fn quick_miss_agrees_with_subsumes() {
        let state = |vals: [u64; 3], id: u32| {
            let mut f = Frame::new(0, 0);
            let s = |hi: u64| RegState {
                id,
                ..RegState::scalar(Scalar::urange(0, hi))
            };
            f.regs[3] = s(vals[0]);
            f.regs[4] = s(vals[1]);
            *f.slot_mut(-16) = Slot {
                bytes: [Byte::Spill; 8],
                spill: s(vals[2]),
            };
            State::with_frames(vec![f])
        };
        let (live, slive) = ([u16::MAX], [u64::MAX]);
        let mut some = Marks::default();
        some.regs[0] = 1 << 3;
        some.slots[0] = 1 << 1;
        let places = [
            Miss::Unknown,
            Miss::Reg { frame: 0, reg: 3 },
            Miss::Reg { frame: 0, reg: 4 },
            Miss::Reg { frame: 0, reg: 11 },
            Miss::Slot { frame: 0, slot: 0 },
            Miss::Slot { frame: 0, slot: 1 },
            Miss::Slot { frame: 1, slot: 1 },
            Miss::Slot { frame: 0, slot: 64 },
        ];
        let (mut ids, mut miss) = (IdMap::new(), Miss::Unknown);
        let mut rejected = 0;
        for a in [[1, 2, 3], [3, 3, 3], [9, 1, 4]] {
            for b in [[1, 2, 3], [1, 1, 1], [4, 3, 2], [9, 9, 9]] {
                for (ia, ib) in [(0, 0), (5, 6), (5, 0)] {
                    let (old, cur) = (state(a, ia), state(b, ib));
                    for prec in [None, Some(&some), Some(&Marks::default())] {
                        let all = subsumes(
                            &old.frames,
                            &cur,
                            &live,
                            &slive,
                            false,
                            prec,
                            &mut ids,
                            &mut miss,
                        );
                        for at in places {
                            let probe = Probe::new(&cur, &live, &slive, at);
                            let no = probe.misses(&old.frames, prec, &mut ids);
                            assert!(!(no && all), "{a:?} {b:?} {ia} {ib} {at:?}");
                            rejected += no as u32;
                        }
                    }
                }
            }
        }
        assert!(rejected > 0);
    }
}
