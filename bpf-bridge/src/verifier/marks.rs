//! Sets of registers and stack slots, per frame: what precision tracking
//! demands and records. [`Marks`] covers every frame a call chain may have;
//! [`Demand`] lets the backtracking walk run on [`OneFrame`] instead in
//! programs without local calls, where eight frames' words would be carried
//! (and tested, masked, merged) at every instruction walked back for one used.

use super::cfg::MAX_FRAMES;
use crate::isa::Reg;

/// Stack slots per frame (512 bytes / 8).
pub const SLOTS: usize = 64;

/// Registers and stack slots, per frame.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Marks {
    /// Bit r = register r.
    pub regs: [u16; MAX_FRAMES],
    /// Bit i = slot i (bytes `[-8(i+1), -8i)`).
    pub slots: [u64; MAX_FRAMES],
}

impl Marks {
    /// Everything.
    pub const ALL: Marks = Marks {
        regs: [u16::MAX; MAX_FRAMES],
        slots: [u64::MAX; MAX_FRAMES],
    };

    /// One register of one frame.
    pub fn reg(frame: usize, r: Reg) -> Marks {
        let mut m = Marks::default();
        m.set_reg(frame, r.idx());
        m
    }

    /// The marks of `self` not in `o`. Each array in one expression, so the
    /// compiler can combine the words (backtracking does this per state).
    #[inline]
    pub fn minus(&self, o: &Marks) -> Marks {
        Marks {
            regs: core::array::from_fn(|f| self.regs[f] & !o.regs[f]),
            slots: core::array::from_fn(|f| self.slots[f] & !o.slots[f]),
        }
    }

    /// Adds the marks of `o`.
    #[inline]
    pub fn add(&mut self, o: &Marks) {
        self.regs = core::array::from_fn(|f| self.regs[f] | o.regs[f]);
        self.slots = core::array::from_fn(|f| self.slots[f] | o.slots[f]);
    }
}

/// The registers and slots of frame 0 only: a [`Marks`] for programs whose
/// paths never have a second frame.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct OneFrame {
    regs: u16,
    slots: u64,
}

/// What backtracking needs of a set of marks. Frames beyond [`Demand::FRAMES`]
/// read as empty and ignore writes.
pub trait Demand: Copy + Default {
    /// Frames held.
    const FRAMES: usize;
    /// The marks of `m` this set can hold.
    fn from_marks(m: &Marks) -> Self;
    /// The registers of `frame`.
    fn regs(&self, frame: usize) -> u16;
    /// The slots of `frame`.
    fn slots(&self, frame: usize) -> u64;
    /// Sets the registers of `frame`.
    fn set_regs(&mut self, frame: usize, v: u16);
    /// Sets the slots of `frame`.
    fn set_slots(&mut self, frame: usize, v: u64);
    /// No mark at all.
    fn is_empty(&self) -> bool;
    /// The marks of `self` not in `o`.
    fn minus(&self, o: &Marks) -> Self;
    /// Adds the marks of `self` to `o`.
    fn add_to(&self, o: &mut Marks);

    /// Whether register `r` of `frame` is marked.
    #[inline(always)]
    fn has_reg(&self, frame: usize, r: usize) -> bool {
        self.regs(frame) & (1 << r) != 0
    }

    /// Marks register `r` of `frame`.
    #[inline(always)]
    fn set_reg(&mut self, frame: usize, r: usize) {
        self.set_regs(frame, self.regs(frame) | 1 << r);
    }

    /// Unmarks register `r` of `frame`.
    #[inline(always)]
    fn clear_reg(&mut self, frame: usize, r: usize) {
        self.set_regs(frame, self.regs(frame) & !(1 << r));
    }

    /// Whether slot `i` of `frame` is marked.
    #[inline(always)]
    fn has_slot(&self, frame: usize, i: usize) -> bool {
        i < SLOTS && self.slots(frame) & (1 << i) != 0
    }

    /// Marks slot `i` of `frame`.
    #[inline(always)]
    fn set_slot(&mut self, frame: usize, i: usize) {
        if i < SLOTS {
            self.set_slots(frame, self.slots(frame) | 1 << i);
        }
    }

    /// Unmarks slot `i` of `frame`.
    #[inline(always)]
    fn clear_slot(&mut self, frame: usize, i: usize) {
        if i < SLOTS {
            self.set_slots(frame, self.slots(frame) & !(1 << i));
        }
    }
}

impl Demand for Marks {
    const FRAMES: usize = MAX_FRAMES;

    #[inline(always)]
    fn from_marks(m: &Marks) -> Marks {
        *m
    }

    #[inline(always)]
    fn regs(&self, frame: usize) -> u16 {
        self.regs.get(frame).copied().unwrap_or(0)
    }

    #[inline(always)]
    fn slots(&self, frame: usize) -> u64 {
        self.slots.get(frame).copied().unwrap_or(0)
    }

    #[inline(always)]
    fn set_regs(&mut self, frame: usize, v: u16) {
        if let Some(m) = self.regs.get_mut(frame) {
            *m = v;
        }
    }

    #[inline(always)]
    fn set_slots(&mut self, frame: usize, v: u64) {
        if let Some(m) = self.slots.get_mut(frame) {
            *m = v;
        }
    }

    /// Folded without early exit, so the compiler can test the words together.
    #[inline]
    fn is_empty(&self) -> bool {
        let regs = self.regs.iter().fold(0, |a, &r| a | r);
        let slots = self.slots.iter().fold(0, |a, &s| a | s);
        regs == 0 && slots == 0
    }

    #[inline]
    fn minus(&self, o: &Marks) -> Marks {
        Marks::minus(self, o)
    }

    #[inline]
    fn add_to(&self, o: &mut Marks) {
        o.add(self);
    }
}

impl Demand for OneFrame {
    const FRAMES: usize = 1;

    #[inline(always)]
    fn from_marks(m: &Marks) -> OneFrame {
        OneFrame {
            regs: m.regs[0],
            slots: m.slots[0],
        }
    }

    #[inline(always)]
    fn regs(&self, frame: usize) -> u16 {
        if frame == 0 {
            self.regs
        } else {
            0
        }
    }

    #[inline(always)]
    fn slots(&self, frame: usize) -> u64 {
        if frame == 0 {
            self.slots
        } else {
            0
        }
    }

    #[inline(always)]
    fn set_regs(&mut self, frame: usize, v: u16) {
        if frame == 0 {
            self.regs = v;
        }
    }

    #[inline(always)]
    fn set_slots(&mut self, frame: usize, v: u64) {
        if frame == 0 {
            self.slots = v;
        }
    }

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.regs == 0 && self.slots == 0
    }

    #[inline(always)]
    fn minus(&self, o: &Marks) -> OneFrame {
        OneFrame {
            regs: self.regs & !o.regs[0],
            slots: self.slots & !o.slots[0],
        }
    }

    #[inline(always)]
    fn add_to(&self, o: &mut Marks) {
        o.regs[0] |= self.regs;
        o.slots[0] |= self.slots;
    }
}
