//! Scalar ranges: a [`Tnum`] plus signed and unsigned 64- and 32-bit bounds kept
//! in sync, with the ALU transfer functions and branch refinement on them.
//!
//! Constant operands are folded through [`crate::isa::semantics`] so the
//! verifier computes exactly what the engines compute.

use super::tnum::Tnum;
use crate::isa::{semantics, AluOp, JmpOp, Width};
use core::fmt;

/// What is known about a 64-bit value. Every constructor returns a state where
/// all views agree (see [`Scalar::sync`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scalar {
    /// Known bits.
    pub t: Tnum,
    /// Unsigned 64-bit bounds.
    pub umin: u64,
    /// Unsigned 64-bit upper bound.
    pub umax: u64,
    /// Signed 64-bit bounds.
    pub smin: i64,
    /// Signed 64-bit upper bound.
    pub smax: i64,
    /// Unsigned bounds of the low 32 bits.
    pub u32min: u32,
    /// Unsigned upper bound of the low 32 bits.
    pub u32max: u32,
    /// Signed bounds of the low 32 bits.
    pub s32min: i32,
    /// Signed upper bound of the low 32 bits.
    pub s32max: i32,
}

impl Scalar {
    /// Any value.
    pub const UNKNOWN: Scalar = Scalar {
        t: Tnum::UNKNOWN,
        umin: 0,
        umax: u64::MAX,
        smin: i64::MIN,
        smax: i64::MAX,
        u32min: 0,
        u32max: u32::MAX,
        s32min: i32::MIN,
        s32max: i32::MAX,
    };

    /// Exactly `v`.
    pub const fn konst(v: u64) -> Scalar {
        Scalar {
            t: Tnum::konst(v),
            umin: v,
            umax: v,
            smin: v as i64,
            smax: v as i64,
            u32min: v as u32,
            u32max: v as u32,
            s32min: v as i32,
            s32max: v as i32,
        }
    }

    /// Any value in `min..=max` (unsigned).
    pub fn urange(min: u64, max: u64) -> Scalar {
        Scalar {
            umin: min,
            umax: max,
            ..Scalar::UNKNOWN
        }
        .sync()
        .unwrap_or(Scalar::UNKNOWN)
    }

    /// Any value of `bits` bits (`1..=32`): `urange(0, 2^bits - 1)`, without
    /// the work of [`Scalar::sync`] (loads and context fields make many).
    pub const fn low_bits(bits: u32) -> Scalar {
        let max = (1u64 << bits) - 1;
        let (s32min, s32max) = if bits < 32 {
            (0, max as i32)
        } else {
            (i32::MIN, i32::MAX)
        };
        Scalar {
            t: Tnum {
                value: 0,
                mask: max,
            },
            umin: 0,
            umax: max,
            smin: 0,
            smax: max as i64,
            u32min: 0,
            u32max: max as u32,
            s32min,
            s32max,
        }
    }

    /// Any value in `min..=max` (signed).
    pub fn srange(min: i64, max: i64) -> Scalar {
        Scalar {
            smin: min,
            smax: max,
            ..Scalar::UNKNOWN
        }
        .sync()
        .unwrap_or(Scalar::UNKNOWN)
    }

    /// The value, when known.
    pub fn as_const(&self) -> Option<u64> {
        self.t.is_const().then_some(self.t.value)
    }

    fn consistent(&self) -> bool {
        self.umin <= self.umax
            && self.smin <= self.smax
            && self.u32min <= self.u32max
            && self.s32min <= self.s32max
    }

    /// Tightens every view from the others; `None` when no value is left (the
    /// path is impossible).
    #[inline]
    pub fn sync(self) -> Option<Scalar> {
        self.sync_settled().map(|(s, _)| s)
    }

    /// [`Scalar::sync`], and whether its result is settled: a value the
    /// rounds no longer change, which syncing again would return as it is
    /// (the rounds stop after three, possibly before that).
    fn sync_settled(mut self) -> Option<(Scalar, bool)> {
        const SIGN: u64 = 1 << 63;
        const SIGN32: u64 = 1 << 31;
        if let Some(v) = self.t.is_const().then_some(self.t.value) {
            // A known value: the bounds either hold it or the state is impossible.
            let k = Scalar::konst(v);
            return (self.umin <= v
                && v <= self.umax
                && self.smin <= v as i64
                && v as i64 <= self.smax
                && self.u32min <= v as u32
                && v as u32 <= self.u32max
                && self.s32min <= v as i32
                && v as i32 <= self.s32max)
                .then_some((k, true));
        }
        // Every step only raises lower bounds and lowers upper ones, so bounds
        // that cross stay crossed: one consistency check per round suffices.
        for _ in 0..3 {
            let before = self;
            let t = self.t;
            self.umin = self.umin.max(t.min());
            self.umax = self.umax.min(t.max());
            self.smin = self.smin.max((t.value | (t.mask & SIGN)) as i64);
            self.smax = self.smax.min((t.value | (t.mask & !SIGN)) as i64);
            let lo = t.low32();
            self.u32min = self.u32min.max(lo.value as u32);
            self.u32max = self.u32max.min((lo.value | lo.mask) as u32);
            self.s32min = self
                .s32min
                .max((lo.value | (lo.mask & SIGN32)) as u32 as i32);
            self.s32max = self
                .s32max
                .min((lo.value | (lo.mask & !SIGN32 & 0xffff_ffff)) as u32 as i32);
            // Unsigned and signed views of one width agree when the range does
            // not cross the sign boundary.
            if (self.umin as i64) <= (self.umax as i64) {
                self.smin = self.smin.max(self.umin as i64);
                self.smax = self.smax.min(self.umax as i64);
            }
            if self.smin >= 0 || self.smax < 0 {
                self.umin = self.umin.max(self.smin as u64);
                self.umax = self.umax.min(self.smax as u64);
            }
            if (self.u32min as i32) <= (self.u32max as i32) {
                self.s32min = self.s32min.max(self.u32min as i32);
                self.s32max = self.s32max.min(self.u32max as i32);
            }
            if self.s32min >= 0 || self.s32max < 0 {
                self.u32min = self.u32min.max(self.s32min as u32);
                self.u32max = self.u32max.min(self.s32max as u32);
            }
            // 64-bit bounds whose high halves agree bound the low half.
            if self.umin >> 32 == self.umax >> 32 {
                self.u32min = self.u32min.max(self.umin as u32);
                self.u32max = self.u32max.min(self.umax as u32);
                let hi = self.umin & 0xffff_ffff_0000_0000;
                self.umin = self.umin.max(hi | self.u32min as u64);
                self.umax = self.umax.min(hi | self.u32max as u64);
            }
            if self.smin >> 32 == self.smax >> 32 && (self.smin as i32) <= (self.smax as i32) {
                self.s32min = self.s32min.max(self.smin as i32);
                self.s32max = self.s32max.min(self.smax as i32);
            }
            if !self.consistent() {
                return None;
            }
            let t = self.t.intersect(Tnum::range(self.umin, self.umax))?;
            let low = t
                .low32()
                .intersect(Tnum::range(self.u32min as u64, self.u32max as u64))?;
            self.t = t.with_low32(low);
            if self == before {
                return Some((self, true));
            }
        }
        self.consistent().then_some((self, false))
    }

    /// Whether every value of `other` is a value of `self`.
    #[inline]
    pub fn contains(&self, o: &Scalar) -> bool {
        self.t.contains(o.t)
            && self.umin <= o.umin
            && o.umax <= self.umax
            && self.smin <= o.smin
            && o.smax <= self.smax
            && self.u32min <= o.u32min
            && o.u32max <= self.u32max
            && self.s32min <= o.s32min
            && o.s32max <= self.s32max
    }

    /// The smallest scalar holding the values of both.
    pub fn union(&self, o: &Scalar) -> Scalar {
        Scalar {
            t: self.t.union(o.t),
            umin: self.umin.min(o.umin),
            umax: self.umax.max(o.umax),
            smin: self.smin.min(o.smin),
            smax: self.smax.max(o.smax),
            u32min: self.u32min.min(o.u32min),
            u32max: self.u32max.max(o.u32max),
            s32min: self.s32min.min(o.s32min),
            s32max: self.s32max.max(o.s32max),
        }
    }

    /// The low 32 bits as a value of `0..2^32`.
    pub fn low32(&self) -> Scalar {
        Scalar {
            t: self.t.low32(),
            umin: self.u32min as u64,
            umax: self.u32max as u64,
            smin: self.u32min as i64,
            smax: self.u32max as i64,
            u32min: self.u32min,
            u32max: self.u32max,
            s32min: self.s32min,
            s32max: self.s32max,
        }
        .sync()
        .unwrap_or(Scalar::low_bits(32))
    }

    /// The low 32 bits sign-extended.
    pub fn sext32(&self) -> Scalar {
        Scalar {
            t: self.t.sext32(),
            umin: 0,
            umax: u64::MAX,
            smin: self.s32min as i64,
            smax: self.s32max as i64,
            u32min: self.u32min,
            u32max: self.u32max,
            s32min: self.s32min,
            s32max: self.s32max,
        }
        .sync()
        // (Built only when needed: it syncs.)
        .unwrap_or_else(|| Scalar::srange(i32::MIN as i64, i32::MAX as i64))
    }

    /// Narrows the low-32-bit views of `self` to those of `view` (a value
    /// standing for the low half, as [`Scalar::low32`] or [`Scalar::sext32`] make).
    fn meet_low32(&self, view: &Scalar) -> Option<Scalar> {
        let mut s = *self;
        s.u32min = s.u32min.max(view.u32min);
        s.u32max = s.u32max.min(view.u32max);
        s.s32min = s.s32min.max(view.s32min);
        s.s32max = s.s32max.min(view.s32max);
        let low = s.t.low32().intersect(view.t.low32())?;
        s.t = s.t.with_low32(low);
        s.sync()
    }

    /// `dst op src` at `width`.
    pub fn alu(width: Width, op: AluOp, dst: &Scalar, src: &Scalar) -> Scalar {
        if let (Some(a), Some(b)) = (dst.as_const(), src.as_const()) {
            return Scalar::konst(semantics::alu(width, op, a, b));
        }
        match width {
            Width::W64 => alu64(op, dst, src, 63),
            Width::W32 => {
                let a = if op == AluOp::Arsh {
                    dst.sext32()
                } else {
                    dst.low32()
                };
                alu64(op, &a, &src.low32(), 31).low32()
            }
        }
    }

    /// `-dst` at `width`.
    pub fn neg(width: Width, dst: &Scalar) -> Scalar {
        if let Some(v) = dst.as_const() {
            return Scalar::konst(semantics::neg(width, v));
        }
        Scalar::alu(width, AluOp::Sub, &Scalar::konst(0), dst)
    }

    /// Byte-order conversion of the low `bits`.
    pub fn endian(kind: crate::isa::Endian, bits: u8, dst: &Scalar) -> Scalar {
        if let Some(v) = dst.as_const() {
            return Scalar::konst(semantics::endian(kind, bits, v));
        }
        if bits >= 64 {
            return if semantics::endian(kind, 64, 0x0102) == 0x0102 {
                *dst
            } else {
                Scalar::UNKNOWN
            };
        }
        let mask = (1u64 << bits) - 1;
        if semantics::endian(kind, bits, 0x0102) == 0x0102 {
            Scalar::alu(Width::W64, AluOp::And, dst, &Scalar::konst(mask))
        } else if bits <= 32 {
            Scalar::low_bits(bits as u32)
        } else {
            Scalar::urange(0, mask)
        }
    }

    /// Refines `a op b` (at `width`) assuming the jump is `taken` or not;
    /// `None` when that outcome is impossible.
    pub fn refine(
        width: Width,
        op: JmpOp,
        a: &Scalar,
        b: &Scalar,
        taken: bool,
    ) -> Option<(Scalar, Scalar)> {
        match width {
            Width::W64 => refine64(op, *a, *b, taken),
            Width::W32 => {
                let signed = matches!(op, JmpOp::Sgt | JmpOp::Sge | JmpOp::Slt | JmpOp::Sle);
                let (va, vb) = if signed {
                    (a.sext32(), b.sext32())
                } else {
                    (a.low32(), b.low32())
                };
                let (ra, rb) = refine64(op, va, vb, taken)?;
                Some((a.meet_low32(&ra)?, b.meet_low32(&rb)?))
            }
        }
    }
}

fn unbounded_from(t: Tnum) -> Scalar {
    Scalar {
        t,
        ..Scalar::UNKNOWN
    }
    .sync()
    .unwrap_or(Scalar::UNKNOWN)
}

/// 64-bit transfer function; `shmask` masks known shift amounts (63, or 31 for
/// the 32-bit ops, whose operands arrive as zero- or sign-extended low halves).
fn alu64(op: AluOp, a: &Scalar, b: &Scalar, shmask: u64) -> Scalar {
    let mut r = Scalar::UNKNOWN;
    match op {
        AluOp::Mov => return *b,
        AluOp::Add => {
            r.t = a.t.wrapping_add(b.t);
            if let (Some(lo), Some(hi)) = (a.umin.checked_add(b.umin), a.umax.checked_add(b.umax)) {
                (r.umin, r.umax) = (lo, hi);
            }
            if let (Some(lo), Some(hi)) = (a.smin.checked_add(b.smin), a.smax.checked_add(b.smax)) {
                (r.smin, r.smax) = (lo, hi);
            }
        }
        AluOp::Sub => {
            r.t = a.t.wrapping_sub(b.t);
            if a.umin >= b.umax {
                (r.umin, r.umax) = (a.umin - b.umax, a.umax - b.umin);
            }
            if let (Some(lo), Some(hi)) = (a.smin.checked_sub(b.smax), a.smax.checked_sub(b.smin)) {
                (r.smin, r.smax) = (lo, hi);
            }
        }
        AluOp::Mul => {
            r.t = a.t.wrapping_mul(b.t);
            if a.umax <= u32::MAX as u64 && b.umax <= u32::MAX as u64 {
                (r.umin, r.umax) = (a.umin * b.umin, a.umax * b.umax);
            }
        }
        AluOp::And => {
            r.t = a.t.and(b.t);
            r.umax = a.umax.min(b.umax);
        }
        AluOp::Or => {
            r.t = a.t.or(b.t);
            r.umin = a.umin.max(b.umin);
        }
        AluOp::Xor => r.t = a.t.xor(b.t),
        AluOp::Lsh | AluOp::Rsh | AluOp::Arsh => {
            let Some(k) = b.as_const() else {
                return Scalar::UNKNOWN;
            };
            let k = (k & shmask) as u32;
            match op {
                AluOp::Lsh => {
                    r.t = a.t.lshift(k);
                    if a.umax.leading_zeros() >= k {
                        (r.umin, r.umax) = (a.umin << k, a.umax << k);
                    }
                }
                AluOp::Rsh => {
                    r.t = a.t.rshift(k);
                    (r.umin, r.umax) = (a.umin >> k, a.umax >> k);
                }
                _ => {
                    r.t = a.t.arshift(k);
                    (r.smin, r.smax) = (a.smin >> k, a.smax >> k);
                }
            }
        }
        AluOp::Div => match b.as_const() {
            Some(0) => return Scalar::konst(0),
            Some(c) => (r.umin, r.umax) = (a.umin / c, a.umax / c),
            None => r.umax = a.umax,
        },
        AluOp::Mod => match b.as_const() {
            Some(0) => return *a,
            Some(c) if a.umax < c => return *a,
            _ => {
                r.umax = if b.umin >= 1 {
                    a.umax.min(b.umax - 1)
                } else {
                    a.umax.max(b.umax)
                };
            }
        },
        AluOp::Sdiv | AluOp::Smod => {}
        AluOp::Movsx8 => return Scalar::srange(i8::MIN as i64, i8::MAX as i64),
        AluOp::Movsx16 => return Scalar::srange(i16::MIN as i64, i16::MAX as i64),
        AluOp::Movsx32 => return b.sext32(),
    }
    r.sync().unwrap_or_else(|| unbounded_from(r.t))
}

fn refine64(op: JmpOp, mut a: Scalar, mut b: Scalar, taken: bool) -> Option<(Scalar, Scalar)> {
    use JmpOp::*;
    let op = if taken { Some(op) } else { op.inverse() };
    match op {
        Some(Eq) => {
            let mut m = a;
            m.t = a.t.intersect(b.t)?;
            m.umin = a.umin.max(b.umin);
            m.umax = a.umax.min(b.umax);
            m.smin = a.smin.max(b.smin);
            m.smax = a.smax.min(b.smax);
            m.u32min = a.u32min.max(b.u32min);
            m.u32max = a.u32max.min(b.u32max);
            m.s32min = a.s32min.max(b.s32min);
            m.s32max = a.s32max.min(b.s32max);
            let m = m.sync()?;
            return Some((m, m));
        }
        Some(Ne) => {
            // `exclude` syncs: a side it settled needs no second sync.
            let (mut a_done, mut b_done) = (false, false);
            if let Some(c) = b.as_const() {
                (a, a_done) = exclude(a, c)?;
            }
            if let Some(c) = a.as_const() {
                (b, b_done) = exclude(b, c)?;
            }
            let a = if a_done { a } else { a.sync()? };
            let b = if b_done { b } else { b.sync()? };
            return Some((a, b));
        }
        Some(Lt) => {
            a.umax = a.umax.min(b.umax.checked_sub(1)?);
            b.umin = b.umin.max(a.umin.checked_add(1)?);
        }
        Some(Le) => {
            a.umax = a.umax.min(b.umax);
            b.umin = b.umin.max(a.umin);
        }
        Some(Gt) => return refine64(Lt, b, a, true).map(|(x, y)| (y, x)),
        Some(Ge) => return refine64(Le, b, a, true).map(|(x, y)| (y, x)),
        Some(Slt) => {
            a.smax = a.smax.min(b.smax.checked_sub(1)?);
            b.smin = b.smin.max(a.smin.checked_add(1)?);
        }
        Some(Sle) => {
            a.smax = a.smax.min(b.smax);
            b.smin = b.smin.max(a.smin);
        }
        Some(Sgt) => return refine64(Slt, b, a, true).map(|(x, y)| (y, x)),
        Some(Sge) => return refine64(Sle, b, a, true).map(|(x, y)| (y, x)),
        Some(Set) => {
            // a & b != 0
            if a.t.max() & b.t.max() == 0 {
                return None;
            }
            if let Some(c) = b.as_const() {
                if c.is_power_of_two() {
                    a.t = a.t.intersect(Tnum { value: c, mask: !c })?;
                }
            }
        }
        None => {
            // a & b == 0
            if a.t.value & b.t.value != 0 {
                return None;
            }
            if let Some(c) = b.as_const() {
                a.t = a.t.intersect(Tnum { value: 0, mask: !c })?;
            }
            if let Some(c) = a.as_const() {
                b.t = b.t.intersect(Tnum { value: 0, mask: !c })?;
            }
        }
    }
    Some((a.sync()?, b.sync()?))
}

/// `s` without the value `c` (only the ends of ranges can move), synced, and
/// whether it is settled (see [`Scalar::sync_settled`]).
fn exclude(mut s: Scalar, c: u64) -> Option<(Scalar, bool)> {
    if s.as_const() == Some(c) {
        return None;
    }
    if s.umin == c {
        s.umin += 1;
    } else if s.umax == c {
        s.umax -= 1;
    }
    if s.smin == c as i64 {
        s.smin += 1;
    } else if s.smax == c as i64 {
        s.smax -= 1;
    }
    s.sync_settled()
}

impl fmt::Debug for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Scalar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(v) = self.as_const() {
            return write!(f, "{}", v as i64);
        }
        let mut parts = alloc::vec::Vec::new();
        if self.umin != 0 || self.umax != u64::MAX {
            parts.push(alloc::format!("umin={},umax={}", self.umin, self.umax));
        }
        if (self.smin != i64::MIN || self.smax != i64::MAX)
            && (self.smin as u64, self.smax as u64) != (self.umin, self.umax)
        {
            parts.push(alloc::format!("smin={},smax={}", self.smin, self.smax));
        }
        if self.t.mask != u64::MAX && (self.t != Tnum::range(self.umin, self.umax)) {
            parts.push(alloc::format!("var_off={:?}", self.t));
        }
        if parts.is_empty() {
            write!(f, "scalar")
        } else {
            write!(f, "scalar({})", parts.join(","))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROBE: [u64; 14] = [
        0,
        1,
        2,
        7,
        8,
        255,
        256,
        0x7fff_ffff,
        0x8000_0000,
        0xffff_ffff,
        0x1_0000_0000,
        0x7fff_ffff_ffff_ffff,
        0x8000_0000_0000_0000,
        u64::MAX,
    ];

    fn member(s: &Scalar, x: u64) -> bool {
        x & !s.t.mask == s.t.value
            && (s.umin..=s.umax).contains(&x)
            && (s.smin..=s.smax).contains(&(x as i64))
            && (s.u32min..=s.u32max).contains(&(x as u32))
            && (s.s32min..=s.s32max).contains(&(x as i32))
    }

    fn samples() -> Vec<Scalar> {
        let mut v = vec![
            Scalar::UNKNOWN,
            Scalar::urange(0, 255),
            Scalar::urange(7, 0x8000_0000),
        ];
        v.push(Scalar::srange(-8, 8));
        v.push(Scalar::urange(0x7fff_ffff, 0x1_0000_0000));
        v.extend(PROBE.iter().map(|&c| Scalar::konst(c)));
        v
    }

    #[test]
    fn alu_is_sound() {
        use AluOp::*;
        let ops = [
            Add, Sub, Mul, Div, Sdiv, Mod, Smod, Or, And, Lsh, Rsh, Arsh, Xor, Mov, Movsx8, Movsx16,
        ];
        for a in samples() {
            for b in samples() {
                for &op in &ops {
                    for w in [Width::W64, Width::W32] {
                        let r = Scalar::alu(w, op, &a, &b);
                        for &x in PROBE.iter().filter(|&&x| member(&a, x)) {
                            for &y in PROBE.iter().filter(|&&y| member(&b, y)) {
                                let v = semantics::alu(w, op, x, y);
                                assert!(
                                    member(&r, v),
                                    "{op:?} {w:?} {x:#x} {y:#x} = {v:#x} not in {r:?}"
                                );
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn refine_is_sound() {
        use JmpOp::*;
        let ops = [Eq, Gt, Ge, Set, Ne, Sgt, Sge, Lt, Le, Slt, Sle];
        for a in samples() {
            for b in samples() {
                for &op in &ops {
                    for w in [Width::W64, Width::W32] {
                        for taken in [true, false] {
                            let r = Scalar::refine(w, op, &a, &b, taken);
                            for &x in PROBE.iter().filter(|&&x| member(&a, x)) {
                                for &y in PROBE.iter().filter(|&&y| member(&b, y)) {
                                    if semantics::jmp_taken(w, op, x, y) != taken {
                                        continue;
                                    }
                                    let (ra, rb) = r.unwrap_or_else(|| {
                                        panic!("{op:?} {w:?} {x:#x} {y:#x} {taken} lost")
                                    });
                                    assert!(
                                        member(&ra, x) && member(&rb, y),
                                        "{op:?} {w:?} {x:#x} {y:#x} {taken}"
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn low_bits_is_urange() {
        for bits in 1..=32 {
            assert_eq!(
                Scalar::low_bits(bits),
                Scalar::urange(0, (1u64 << bits) - 1),
                "{bits}"
            );
        }
    }

    #[test]
    fn refine_decides_constants() {
        let five = Scalar::konst(5);
        let r = Scalar::refine(Width::W64, JmpOp::Gt, &five, &Scalar::konst(3), false);
        assert!(r.is_none());
        let x = Scalar::urange(0, 100);
        let (lo, _) = Scalar::refine(Width::W64, JmpOp::Lt, &x, &Scalar::konst(10), true).unwrap();
        assert_eq!((lo.umin, lo.umax), (0, 9));
    }
}
