//! Which slots jumps go to, as lowering needs to know it: an op is lowered
//! together with the next one only when nothing else reaches that one.
//!
//! Lowering goes in slot order and asks about a slot only once every jump
//! before it has been lowered or looked at ([`Targets::mark`]ed): one past
//! the op it is at, or two when it has just marked the next slot's jump (a
//! load folded into the compare after it, `lower/combine.rs`). A program whose
//! jumps all go forward ([`Shape`]: no backward jump, `may_goto` or local
//! call) therefore has every jump to such a slot behind it: marking the
//! targets of the jumps seen so far answers, for one store per jump. Otherwise the whole table ([`jump_targets`], one pass
//! over the slots) is made when first asked.

use alloc::vec;
use alloc::vec::Vec;
use bpf_bridge::isa::{jump_targets, Insn, Shape};

/// Jump targets of a program being lowered.
pub(crate) struct Targets<'a> {
    insns: &'a [Insn],
    /// One entry per slot: the targets of the jumps [`Targets::mark`]ed so
    /// far, or every target once `whole`.
    marks: Vec<bool>,
    /// Whether `marks` is [`jump_targets`] (marking then changes nothing).
    whole: bool,
    /// Whether some jump may go to its own or an earlier slot.
    backward: bool,
}

impl<'a> Targets<'a> {
    /// For the slots `insns` of [`Shape`] `shape`.
    pub fn new(insns: &'a [Insn], shape: &Shape) -> Targets<'a> {
        let backward = shape.has(Shape::BACK_JUMP | Shape::MAY_GOTO | Shape::LOCAL_CALL);
        Targets {
            insns,
            marks: vec![false; insns.len()],
            whole: false,
            backward,
        }
    }

    /// Records a jump (or local call) to slot `t`, inside the program.
    #[inline(always)]
    pub fn mark(&mut self, t: usize) {
        self.marks[t] = true;
    }

    /// Whether a jump goes to slot `k`. Every jump before `k` must have been
    /// [`Targets::mark`]ed.
    #[inline]
    pub fn is_target(&mut self, k: usize) -> bool {
        if self.backward && !self.whole {
            self.marks = jump_targets(self.insns);
            self.whole = true;
        }
        self.marks.get(k).copied().unwrap_or(false)
    }
}
