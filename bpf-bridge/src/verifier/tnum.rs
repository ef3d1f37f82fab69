//! Tristate numbers: per bit known-0, known-1 or unknown (the kernel's `tnum`).
//! A value `x` belongs to `Tnum { value, mask }` when `x & !mask == value`.

use core::fmt;

/// Known bits (`value`) and unknown bits (`mask`); `value & mask == 0` always.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tnum {
    /// Bits known to be 1.
    pub value: u64,
    /// Bits not known.
    pub mask: u64,
}

impl Tnum {
    /// Every value.
    pub const UNKNOWN: Tnum = Tnum {
        value: 0,
        mask: u64::MAX,
    };

    /// Exactly `v`.
    pub const fn konst(v: u64) -> Tnum {
        Tnum { value: v, mask: 0 }
    }

    /// The smallest tnum holding every value of `min..=max`.
    pub fn range(min: u64, max: u64) -> Tnum {
        let chi = min ^ max;
        let bits = 64 - chi.leading_zeros();
        if bits > 63 {
            return Tnum::UNKNOWN;
        }
        let delta = (1u64 << bits) - 1;
        Tnum {
            value: min & !delta,
            mask: delta,
        }
    }

    /// Whether the value is fully known.
    pub fn is_const(self) -> bool {
        self.mask == 0
    }

    /// Smallest member.
    pub fn min(self) -> u64 {
        self.value
    }

    /// Largest member.
    pub fn max(self) -> u64 {
        self.value | self.mask
    }

    /// Whether every member of `other` is a member of `self`.
    #[inline]
    pub fn contains(self, other: Tnum) -> bool {
        if other.mask & !self.mask != 0 {
            return false;
        }
        other.value & !self.mask == self.value
    }

    /// Values in both, `None` when none.
    pub fn intersect(self, other: Tnum) -> Option<Tnum> {
        let known_both = !(self.mask | other.mask);
        if (self.value ^ other.value) & known_both != 0 {
            return None;
        }
        let mask = self.mask & other.mask;
        Some(Tnum {
            value: (self.value | other.value) & !mask,
            mask,
        })
    }

    /// Smallest tnum holding both.
    pub fn union(self, other: Tnum) -> Tnum {
        let mask = self.mask | other.mask | (self.value ^ other.value);
        Tnum {
            value: self.value & !mask,
            mask,
        }
    }

    /// Sum.
    pub fn wrapping_add(self, o: Tnum) -> Tnum {
        let sm = self.mask.wrapping_add(o.mask);
        let sv = self.value.wrapping_add(o.value);
        let sigma = sm.wrapping_add(sv);
        let chi = sigma ^ sv;
        let mu = chi | self.mask | o.mask;
        Tnum {
            value: sv & !mu,
            mask: mu,
        }
    }

    /// Difference.
    pub fn wrapping_sub(self, o: Tnum) -> Tnum {
        let dv = self.value.wrapping_sub(o.value);
        let alpha = dv.wrapping_add(self.mask);
        let beta = dv.wrapping_sub(o.mask);
        let chi = alpha ^ beta;
        let mu = chi | self.mask | o.mask;
        Tnum {
            value: dv & !mu,
            mask: mu,
        }
    }

    /// Bitwise and.
    pub fn and(self, o: Tnum) -> Tnum {
        let alpha = self.value | self.mask;
        let beta = o.value | o.mask;
        let v = self.value & o.value;
        Tnum {
            value: v,
            mask: alpha & beta & !v,
        }
    }

    /// Bitwise or.
    pub fn or(self, o: Tnum) -> Tnum {
        let v = self.value | o.value;
        let mu = self.mask | o.mask;
        Tnum {
            value: v,
            mask: mu & !v,
        }
    }

    /// Bitwise xor.
    pub fn xor(self, o: Tnum) -> Tnum {
        let v = self.value ^ o.value;
        let mu = self.mask | o.mask;
        Tnum {
            value: v & !mu,
            mask: mu,
        }
    }

    /// Product (the kernel's shift-and-add formulation).
    pub fn wrapping_mul(self, o: Tnum) -> Tnum {
        let mut a = self;
        let mut b = o;
        let acc_v = a.value.wrapping_mul(b.value);
        let mut acc_m = Tnum::konst(0);
        while a.value != 0 || a.mask != 0 {
            if a.value & 1 != 0 {
                acc_m = acc_m.wrapping_add(Tnum {
                    value: 0,
                    mask: b.mask,
                });
            } else if a.mask & 1 != 0 {
                acc_m = acc_m.wrapping_add(Tnum {
                    value: 0,
                    mask: b.value | b.mask,
                });
            }
            a = a.rshift(1);
            b = b.lshift(1);
        }
        Tnum::konst(acc_v).wrapping_add(acc_m)
    }

    /// Left shift by a known amount (below 64).
    pub fn lshift(self, k: u32) -> Tnum {
        Tnum {
            value: self.value << (k & 63),
            mask: self.mask << (k & 63),
        }
    }

    /// Logical right shift by a known amount (below 64).
    pub fn rshift(self, k: u32) -> Tnum {
        Tnum {
            value: self.value >> (k & 63),
            mask: self.mask >> (k & 63),
        }
    }

    /// Arithmetic right shift of the 64-bit value by a known amount (below 64).
    pub fn arshift(self, k: u32) -> Tnum {
        let k = k & 63;
        Tnum {
            value: ((self.value as i64) >> k) as u64,
            mask: ((self.mask as i64) >> k) as u64,
        }
    }

    /// The low 32 bits, zero-extended.
    pub fn low32(self) -> Tnum {
        Tnum {
            value: self.value & 0xffff_ffff,
            mask: self.mask & 0xffff_ffff,
        }
    }

    /// The low 32 bits, sign-extended.
    pub fn sext32(self) -> Tnum {
        Tnum {
            value: self.value as u32 as i32 as i64 as u64,
            mask: self.mask as u32 as i32 as i64 as u64,
        }
    }

    /// Keeps the high 32 bits of `self` and takes the low 32 from `low`.
    pub fn with_low32(self, low: Tnum) -> Tnum {
        let hi = 0xffff_ffff_0000_0000;
        Tnum {
            value: (self.value & hi) | (low.value & !hi),
            mask: (self.mask & hi) | (low.mask & !hi),
        }
    }
}

impl fmt::Debug for Tnum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({:#x}; {:#x})", self.value, self.mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(t: Tnum, probe: &[u64]) -> impl Iterator<Item = u64> + '_ {
        probe
            .iter()
            .copied()
            .filter(move |x| x & !t.mask == t.value)
    }

    #[test]
    fn ops_are_sound_on_small_sets() {
        let tn = [
            Tnum::konst(5),
            Tnum::range(0, 7),
            Tnum { value: 8, mask: 3 },
            Tnum {
                value: 1 << 63,
                mask: 0xf0,
            },
            Tnum::konst(u64::MAX),
        ];
        let probe: Vec<u64> = (0..16u64)
            .chain([
                u64::MAX,
                u64::MAX - 1,
                1 << 63,
                (1 << 63) | 0x30,
                0xf8,
                0x8b,
            ])
            .collect();
        for &a in &tn {
            for &b in &tn {
                for x in members(a, &probe) {
                    for y in members(b, &probe) {
                        assert!(a.wrapping_add(b).contains(Tnum::konst(x.wrapping_add(y))));
                        assert!(a.wrapping_sub(b).contains(Tnum::konst(x.wrapping_sub(y))));
                        assert!(a.wrapping_mul(b).contains(Tnum::konst(x.wrapping_mul(y))));
                        assert!(a.and(b).contains(Tnum::konst(x & y)));
                        assert!(a.or(b).contains(Tnum::konst(x | y)));
                        assert!(a.xor(b).contains(Tnum::konst(x ^ y)));
                    }
                }
            }
        }
        assert_eq!(Tnum::range(4, 7), Tnum { value: 4, mask: 3 });
        assert!(Tnum::konst(1).intersect(Tnum::konst(2)).is_none());
    }
}
