//! What a program uses: registers and kinds of op, and where its jumps go.
//! Engines that plan before they run (the JIT's frame) read it instead of
//! walking the ops once more. [`Shape::scan`] reads it off the raw slots with
//! one table look-up and no branch per common slot, so it costs little next to
//! a decoder; [`jump_targets`] likewise, for those that need them.

use super::opcode::*;
use super::{Insn, Op, Src};
use alloc::vec;
use alloc::vec::Vec;

/// What a decoded program uses ([`super::decode_program_shape`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// Registers some op names as an operand, bit `n` for `rn`: destinations,
    /// sources, memory bases and the register of `callx`. (Implicit uses, such
    /// as helper arguments, r0 of `cmpxchg` or r10 of local calls, are not in it.)
    pub regs: u16,
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
    /// A pseudo `lddw` of a map value's address (also counts as [`Shape::MAPS`]).
    pub const MAP_VALUE: u8 = 128;

    /// Whether any of the `kinds` bits occurs.
    pub fn has(&self, kinds: u8) -> bool {
        self.kinds & kinds != 0
    }

    /// The shape of a program read straight off its slots, without decoding
    /// it. For a program that decodes ([`super::decode_program_shape`]) it is
    /// exactly the decoder's shape; for one that does not, it is some shape,
    /// to be thrown away with the decoder's error.
    pub fn scan(insns: &[Insn]) -> Shape {
        let (mut regs, mut acc) = (0u32, 0u64);
        for insn in insns {
            let e = SCAN_PACKED[insn.code as usize];
            // Fields above r10 only occur in programs that do not decode.
            regs |= REG_BITS[insn.regs as usize] & e as u32;
            // All ones when the offset is negative: the backward bits stay.
            let backward = (insn.off >> 15) as i64 as u64;
            acc |= e & (backward | !PACKED_BACK);
        }
        let mut kinds = (acc >> 32) as u8 | (acc >> 40) as u8;
        if acc & PACKED_SPECIAL != 0 {
            for insn in insns.iter().filter(|i| SCAN[i.code as usize].special) {
                let (k, off, _) = special(*insn);
                let backward = (off >> 63) as u8;
                kinds |= k | (Shape::BACK_JUMP & backward & gotol_back(insn));
            }
        }
        Shape {
            regs: regs as u16 | (regs >> 16) as u16,
            kinds,
        }
    }
}

/// [`SCAN`] packed into one word per opcode byte, for [`Shape::scan`]: the
/// register mask in the low half, then the kinds, the backward kinds
/// ([`PACKED_BACK`]) and whether the op is special ([`PACKED_SPECIAL`]).
static SCAN_PACKED: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut c = 0;
    while c < 256 {
        let e = SCAN[c];
        t[c] = e.regs as u64
            | (e.kinds as u64) << 32
            | (e.back as u64) << 40
            | (e.special as u64) << 48;
        c += 1;
    }
    t
};

/// The backward kinds' byte of a [`SCAN_PACKED`] word.
const PACKED_BACK: u64 = 0xff << 40;
/// The special bit of a [`SCAN_PACKED`] word.
const PACKED_SPECIAL: u64 = 1 << 48;

/// Per register byte: bit `dst` in the low half, bit `src` in the high half.
static REG_BITS: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut b = 0;
    while b < 256 {
        t[b] = 1 << (b & 15) | 1 << (16 + (b >> 4));
        b += 1;
    }
    t
};

/// One entry per slot: whether a jump, `may_goto` or local call goes there.
/// Exact for a program that decodes; for one that does not, some marks (as
/// many entries as slots).
pub fn jump_targets(insns: &[Insn]) -> Vec<bool> {
    let n = insns.len();
    // The extra last entry takes the marks of slots that do not jump.
    let mut targets = vec![false; n + 1];
    for (pc, insn) in insns.iter().enumerate() {
        let e = SCAN[insn.code as usize];
        let (_, off, jumps) = if e.special {
            special(*insn)
        } else {
            (e.kinds, insn.off as i64, e.jumps)
        };
        let t = pc as i64 + 1 + off;
        let inside = (t as u64) < n as u64;
        targets[if jumps & inside { t as usize } else { n }] = true;
    }
    targets.truncate(n);
    targets
}

/// Whether the slot holds a load (`ldx`): the slots whose memory access
/// reads into a register rather than writing memory.
pub fn is_load(insn: Insn) -> bool {
    insn.code & CLASS_MASK == BPF_LDX
}

/// Whether the slot holds a conditional jump on an immediate (`jeq r, imm`
/// and the others, 64- or 32-bit); looks at the opcode only (a malformed
/// slot is the decoder's business).
pub fn is_cond_jump_imm(insn: Insn) -> bool {
    cond_jump_imm(insn.code)
}

const fn cond_jump_imm(code: u8) -> bool {
    let class = code & CLASS_MASK;
    (class == BPF_JMP || class == BPF_JMP32)
        && code & SRC_MASK == BPF_K
        && !matches!(code & OP_MASK, BPF_JA | BPF_CALL | BPF_EXIT | BPF_JCOND)
}

/// Whether the slot holds an `add` or `sub` of an immediate (64- or
/// 32-bit); looks at the opcode only.
pub fn is_add_sub_imm(insn: Insn) -> bool {
    add_sub_imm(insn.code)
}

const fn add_sub_imm(code: u8) -> bool {
    let class = code & CLASS_MASK;
    (class == BPF_ALU || class == BPF_ALU64)
        && code & SRC_MASK == BPF_K
        && matches!(code & OP_MASK, BPF_ADD | BPF_SUB)
}

/// What a slot's opcode byte alone says it holds, for patterns that look
/// at the slot after the one being lowered: one table look-up where the
/// predicates above take a few tests each. (The fields are the decoder's
/// business: a malformed slot gets some answer.)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peek {
    /// None of the others.
    Other,
    /// A conditional jump on an immediate ([`is_cond_jump_imm`]).
    CondJumpImm,
    /// An `add` or `sub` of an immediate ([`is_add_sub_imm`]).
    AddSubImm,
    /// A byte swap to big-endian or an unconditional one, if its fields
    /// say so ([`super::byte_swap_of`]).
    ByteSwap,
}

/// The [`Peek`] of a slot.
#[inline(always)]
pub fn peek(insn: Insn) -> Peek {
    PEEK[insn.code as usize]
}

/// [`Peek`] of every opcode byte.
static PEEK: [Peek; 256] = {
    let mut t = [Peek::Other; 256];
    let mut c = 0;
    while c < 256 {
        let code = c as u8;
        t[c] = if cond_jump_imm(code) {
            Peek::CondJumpImm
        } else if add_sub_imm(code) {
            Peek::AddSubImm
        } else if code == BPF_ALU | BPF_END | BPF_TO_BE || code == BPF_ALU64 | BPF_END {
            Peek::ByteSwap
        } else {
            Peek::Other
        };
        c += 1;
    }
    t
};

/// What a slot with some opcode byte adds to a [`Shape`].
#[derive(Clone, Copy)]
struct Scan {
    /// Which fields name registers, as a mask of [`REG_BITS`]: the low half
    /// for dst, the high half for src.
    regs: u32,
    kinds: u8,
    /// [`Shape::BACK_JUMP`] when a negative offset makes the op a backward jump.
    back: u8,
    /// Whether the op jumps to `pc + 1 + off`.
    jumps: bool,
    /// Whether the source field or the immediate matter: see [`special`].
    special: bool,
}

const NOTHING: Scan = Scan {
    regs: 0,
    kinds: 0,
    back: 0,
    jumps: false,
    special: false,
};

/// [`Shape::BACK_JUMP`] if the slot is a `gotol` (whose offset is its
/// immediate, so the table cannot tell), else 0.
fn gotol_back(insn: &Insn) -> u8 {
    if insn.code == BPF_JMP32 | BPF_JA {
        Shape::BACK_JUMP
    } else {
        0
    }
}

/// Kinds, target offset and whether it jumps for the opcodes whose [`Scan`]
/// says `special`: `call` (src 1: local, to `pc + 1 + imm`), `gotol` (to
/// `pc + 1 + imm`) and `lddw` (src 1, 2: maps).
#[inline(never)]
fn special(insn: Insn) -> (u8, i64, bool) {
    let imm = insn.imm as i64;
    match (insn.code, insn.src()) {
        (CALL, BPF_PSEUDO_CALL) => (Shape::LOCAL_CALL, imm, true),
        (CALL, _) => (Shape::HELPER_CALL, 0, false),
        (LDDW, BPF_PSEUDO_MAP_FD) => (Shape::LDDW | Shape::MAPS, 0, false),
        (LDDW, BPF_PSEUDO_MAP_VALUE) => (Shape::LDDW | Shape::MAPS | Shape::MAP_VALUE, 0, false),
        (LDDW, _) => (Shape::LDDW, 0, false),
        // gotol
        _ => (0, imm, true),
    }
}

/// The [`Scan`] of an opcode byte, for every opcode a well-formed program
/// can hold (others: whatever is simplest).
const fn scan_of(code: u8) -> Scan {
    let class = code & CLASS_MASK;
    let by_reg = code & SRC_MASK == BPF_X;
    // Masks of REG_BITS: dst, src, both.
    let dst = 0xffff;
    let both = 0xffff_ffff;
    let dst_src = if by_reg { both } else { dst };
    let memory = Scan {
        regs: both,
        kinds: Shape::MEMORY,
        ..NOTHING
    };
    match class {
        BPF_ALU | BPF_ALU64 => match code & OP_MASK {
            // `be` has the source bit set but no source register.
            BPF_END | BPF_NEG => Scan {
                regs: dst,
                ..NOTHING
            },
            _ => Scan {
                regs: dst_src,
                ..NOTHING
            },
        },
        BPF_JMP | BPF_JMP32 => match (code & OP_MASK, class == BPF_JMP, by_reg) {
            (BPF_JA, true, false) => Scan {
                jumps: true,
                back: Shape::BACK_JUMP,
                ..NOTHING
            },
            // gotol: backward by its immediate ([`gotol_back`]).
            (BPF_JA, false, false) => Scan {
                special: true,
                ..NOTHING
            },
            (BPF_CALL, true, false) => Scan {
                special: true,
                ..NOTHING
            },
            (BPF_CALL, true, true) => Scan {
                regs: dst,
                kinds: Shape::HELPER_CALL,
                ..NOTHING
            },
            (BPF_JCOND, true, false) => Scan {
                jumps: true,
                kinds: Shape::MAY_GOTO,
                ..NOTHING
            },
            (BPF_JA | BPF_CALL | BPF_EXIT | BPF_JCOND, _, _) => NOTHING,
            _ => Scan {
                regs: dst_src,
                jumps: true,
                back: Shape::BACK_JUMP,
                special: false,
                kinds: 0,
            },
        },
        BPF_LD if code == LDDW => Scan {
            regs: dst,
            special: true,
            ..NOTHING
        },
        BPF_LD => NOTHING,
        BPF_ST => Scan {
            regs: dst,
            ..memory
        },
        _ /* BPF_LDX, BPF_STX */ => memory,
    }
}

/// [`scan_of`] of every opcode byte.
static SCAN: [Scan; 256] = {
    let mut t = [NOTHING; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = scan_of(c as u8);
        c += 1;
    }
    t
};

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
            Op::LoadMap { dst, .. } => OpShape::new(r(dst), Shape::LDDW | Shape::MAPS),
            Op::LoadMapValue { dst, .. } => {
                OpShape::new(r(dst), Shape::LDDW | Shape::MAPS | Shape::MAP_VALUE)
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
