//! State equivalence: when a state already explored covers the current one,
//! the current path can stop (the kernel's `states_equal`), and the widening
//! that lets may_goto loops converge.

use super::bounds::Scalar;
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

fn stacksafe(old: &Frame, cur: &Frame, ids: &mut IdMap, exact: bool, prec: u64, live: u64) -> bool {
    if exact {
        let n = old.stack.len().max(cur.stack.len());
        for i in 0..n {
            let os = old.stack.get(i).unwrap_or(&Slot::EMPTY);
            let cs = cur.stack.get(i).unwrap_or(&Slot::EMPTY);
            if os.bytes != cs.bytes
                || (os.bytes[0] == Byte::Spill && !regsafe(&os.spill, &cs.spill, ids, true, true))
            {
                return false;
            }
        }
        return true;
    }
    // Only the live slots old has written (a frame has at most 64 slots),
    // the precise ones first: spilled loop counters, which most often differ.
    let n = old.stack.len();
    debug_assert!(n <= 64);
    let todo = live & if n >= 64 { u64::MAX } else { (1 << n) - 1 };
    todo == 0
        || slots_safe(old, cur, ids, prec, todo & prec)
            && slots_safe(old, cur, ids, prec, todo & !prec)
}

/// Whether old's slots in `set` cover cur's.
#[inline(always)]
fn slots_safe(old: &Frame, cur: &Frame, ids: &mut IdMap, prec: u64, mut set: u64) -> bool {
    while set != 0 {
        let i = set.trailing_zeros() as usize;
        set &= set - 1;
        let cs = cur.stack.get(i).unwrap_or(&Slot::EMPTY);
        if !slotsafe(&old.stack[i], cs, ids, prec & (1 << i) != 0) {
            return false;
        }
    }
    true
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

/// Whether every concrete state `cur` stands for is one `old` stands for, on
/// the registers live at `cur.pc` (`live` is per slot) and the scalars `prec`
/// marks precise (`None`: all) — or, with `exact`, whether the two are the same.
///
/// `stack_live` is per slot too: stack slots of the current frame that may
/// still be read (the others are skipped unless `exact`).
pub fn subsumes(
    old: &[Frame],
    cur: &State,
    live: &[u16],
    stack_live: &[u64],
    exact: bool,
    prec: Option<&Marks>,
    ids: &mut IdMap,
) -> bool {
    if old.len() != cur.frames.len() {
        return false;
    }
    ids.len = 0;
    let top = cur.frames.len() - 1;
    for (i, (of, cf)) in old.iter().zip(&cur.frames).enumerate() {
        if of.callsite != cf.callsite {
            return false;
        }
        let mask = if i == top {
            live.get(cur.pc).copied().unwrap_or(u16::MAX)
        } else {
            // Back in this frame, r0 comes from the callee and r1–r5 are clobbered.
            let ret = cur.frames[i + 1].callsite + 1;
            live.get(ret).copied().unwrap_or(u16::MAX) & !0x3f
        };
        let (pregs, pslots) = match prec {
            Some(m) => (
                m.regs.get(i).copied().unwrap_or(u16::MAX),
                m.slots.get(i).copied().unwrap_or(u64::MAX),
            ),
            None => (u16::MAX, u64::MAX),
        };
        // The stack first: where states differ it is most often there, and
        // the verdict does not depend on the order (the id map only has to
        // stay consistent over all pairs).
        let slive = if i == top {
            stack_live.get(cur.pc).copied().unwrap_or(u64::MAX)
        } else {
            u64::MAX
        };
        if !stacksafe(of, cf, ids, exact, pslots, slive) {
            return false;
        }
        // Then the precise registers: in a loop they (the counters) are what
        // most often differs, and they are quick to compare. Each register is
        // compared once.
        let mut first = mask & pregs & 0x7ff;
        let rest = mask & !first;
        while first != 0 {
            let r = first.trailing_zeros() as usize;
            first &= first - 1;
            if !regsafe(&of.regs[r], &cf.regs[r], ids, exact, true) {
                return false;
            }
        }
        for r in 0..11 {
            if rest & (1 << r) != 0
                && !regsafe(&of.regs[r], &cf.regs[r], ids, exact, pregs & (1 << r) != 0)
            {
                return false;
            }
        }
    }
    true
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
