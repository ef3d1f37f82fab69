//! What a program uses, gathered while decoding it: registers, jump targets and
//! kinds of op. Engines that plan before they run (the JIT's frame and labels)
//! read it instead of walking the ops once more.

use super::{Op, Src};
use alloc::vec::Vec;

/// What a decoded program uses ([`super::decode_program_shape`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Registers some op names as an operand, bit `n` for `rn`: destinations,
    /// sources, memory bases and the register of `callx`. (Implicit uses, such
    /// as helper arguments, r0 of `cmpxchg` or r10 of local calls, are not in it.)
    pub regs: u16,
    /// One entry per slot: whether a jump, `may_goto` or local call goes there.
    pub targets: Vec<bool>,
    /// The kinds of op that occur: bits [`Shape::MEMORY`] and the others.
    pub kinds: u8,
}

impl Shape {
    /// A load, store or atomic operation.
    pub const MEMORY: u8 = 1;
    /// A helper call, by id or by register (`callx`).
    pub const HELPER_CALL: u8 = 2;
    /// A call of a local function.
    pub const LOCAL_CALL: u8 = 4;
    /// A pseudo `lddw` of a map or a map value's address.
    pub const MAPS: u8 = 8;
    /// `may_goto`.
    pub const MAY_GOTO: u8 = 16;
    /// `ja` or a conditional jump to itself or an earlier slot.
    pub const BACK_JUMP: u8 = 32;
    /// A two-slot `lddw` of any kind.
    pub const LDDW: u8 = 64;

    /// Whether any of the `kinds` bits occurs.
    pub fn has(&self, kinds: u8) -> bool {
        self.kinds & kinds != 0
    }
}

/// One op's part of a [`Shape`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct OpShape {
    pub regs: u16,
    pub kinds: u8,
    /// Whether the op jumps (or calls) to `pc + 1 + off`.
    pub jumps: bool,
    pub off: i32,
}

impl OpShape {
    #[inline(always)]
    pub fn new(regs: u16, kinds: u8) -> OpShape {
        OpShape {
            regs,
            kinds,
            jumps: false,
            off: 0,
        }
    }

    #[inline(always)]
    pub fn jump(regs: u16, kinds: u8, off: i32) -> OpShape {
        OpShape {
            regs,
            kinds,
            jumps: true,
            off,
        }
    }

    /// The shape of `op`; the decoder's fast path builds the same per form.
    pub fn of(op: &Op) -> OpShape {
        let r = |r: super::Reg| 1u16 << r.num();
        let s = |s: Src| match s {
            Src::Reg(x) => r(x),
            Src::Imm(_) => 0,
        };
        match *op {
            Op::Alu { dst, src, .. } => OpShape::new(r(dst) | s(src), 0),
            Op::Jmp { dst, src, off, .. } => {
                let back = if off < 0 { Shape::BACK_JUMP } else { 0 };
                OpShape::jump(r(dst) | s(src), back, off as i32)
            }
            Op::Neg { dst, .. } | Op::Endian { dst, .. } => OpShape::new(r(dst), 0),
            Op::LoadImm64 { dst, .. } => OpShape::new(r(dst), Shape::LDDW),
            Op::LoadMap { dst, .. } | Op::LoadMapValue { dst, .. } => {
                OpShape::new(r(dst), Shape::LDDW | Shape::MAPS)
            }
            Op::LddwHigh | Op::Exit => OpShape::new(0, 0),
            Op::Load { dst, base, .. } => OpShape::new(r(dst) | r(base), Shape::MEMORY),
            Op::Store { base, src, .. } => OpShape::new(r(base) | s(src), Shape::MEMORY),
            Op::Atomic { base, src, .. } => OpShape::new(r(base) | r(src), Shape::MEMORY),
            Op::Ja { off } => {
                let back = if off < 0 { Shape::BACK_JUMP } else { 0 };
                OpShape::jump(0, back, off)
            }
            Op::MayGoto { off } => OpShape::jump(0, Shape::MAY_GOTO, off as i32),
            Op::Call { .. } => OpShape::new(0, Shape::HELPER_CALL),
            Op::CallReg { reg } => OpShape::new(r(reg), Shape::HELPER_CALL),
            Op::CallLocal { off } => OpShape::jump(0, Shape::LOCAL_CALL, off),
        }
    }
}
