//! The typed form of an instruction: what every engine, the verifier and the
//! assembler work on. [`super::decode`] builds it from raw slots, and
//! [`Op::encode`] turns it back into them.

use core::fmt;

/// A register `r0`..=`r10`; built only through [`Reg::new`], so always valid.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reg(u8);

impl Reg {
    /// Return value and exit code.
    pub const R0: Reg = Reg(0);
    /// First argument; the context at entry.
    pub const R1: Reg = Reg(1);
    /// Second argument; the memory length for `raw` programs.
    pub const R2: Reg = Reg(2);
    /// Third argument.
    pub const R3: Reg = Reg(3);
    /// Fourth argument.
    pub const R4: Reg = Reg(4);
    /// Fifth argument.
    pub const R5: Reg = Reg(5);
    /// Callee-saved.
    pub const R6: Reg = Reg(6);
    /// Callee-saved.
    pub const R7: Reg = Reg(7);
    /// Callee-saved.
    pub const R8: Reg = Reg(8);
    /// Callee-saved.
    pub const R9: Reg = Reg(9);
    /// Read-only frame pointer.
    pub const R10: Reg = Reg(10);
    /// Number of registers.
    pub const COUNT: usize = 11;

    /// `Some` for 0..=10.
    pub const fn new(n: u8) -> Option<Reg> {
        if n <= 10 {
            Some(Reg(n))
        } else {
            None
        }
    }

    /// The register number.
    pub const fn num(self) -> u8 {
        self.0
    }

    /// The register number as an index into a register file.
    pub const fn idx(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Debug for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

impl fmt::Display for Reg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

/// Operand width of ALU and conditional jump operations (ALU/JMP32 vs ALU64/JMP).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// 32-bit: operands truncated, results zero-extended.
    W32,
    /// 64-bit.
    W64,
}

/// The second operand: a register or the sign-extended immediate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Src {
    /// A register.
    Reg(Reg),
    /// The 32-bit immediate (sign-extended to 64 bits where used as 64).
    Imm(i32),
}

/// Binary ALU operations (`neg` and byte swaps are separate ops).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AluOp {
    Add,
    Sub,
    Mul,
    /// Unsigned division; by zero gives 0.
    Div,
    /// Signed division (offset 1); by zero gives 0.
    Sdiv,
    Or,
    And,
    Lsh,
    Rsh,
    /// Unsigned modulo; by zero leaves dst.
    Mod,
    /// Signed modulo (offset 1); by zero leaves dst.
    Smod,
    Xor,
    Mov,
    /// Move with sign extension from 8 bits (offset 8).
    Movsx8,
    /// Move with sign extension from 16 bits (offset 16).
    Movsx16,
    /// Move with sign extension from 32 bits (offset 32, ALU64 only).
    Movsx32,
    Arsh,
}

/// Byte-order conversions (`BPF_END`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Endian {
    /// To little endian (a truncation on every host we support).
    Le,
    /// To big endian.
    Be,
    /// Unconditional byte swap (ALU64 `BPF_END`).
    Swap,
}

/// Memory access size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Size {
    B,
    H,
    W,
    DW,
}

impl Size {
    /// Size in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
            Size::DW => 8,
        }
    }
}

/// Conditions of conditional jumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum JmpOp {
    Eq,
    Gt,
    Ge,
    Set,
    Ne,
    Sgt,
    Sge,
    Lt,
    Le,
    Slt,
    Sle,
}

impl JmpOp {
    /// The condition that holds exactly when this one does not (`jset` has
    /// none): a branch's fall-through edge.
    pub fn inverse(self) -> Option<JmpOp> {
        use JmpOp::*;
        Some(match self {
            Eq => Ne,
            Ne => Eq,
            Gt => Le,
            Le => Gt,
            Ge => Lt,
            Lt => Ge,
            Sgt => Sle,
            Sle => Sgt,
            Sge => Slt,
            Slt => Sge,
            Set => return None,
        })
    }
}

/// Atomic read-modify-write operations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AtomicOp {
    Add,
    Or,
    And,
    Xor,
    /// Exchange; always fetches.
    Xchg,
    /// Compare with r0 and exchange; always fetches into r0.
    Cmpxchg,
}

/// One instruction slot, typed. `lddw` and its pseudo forms occupy two slots: the
/// first decodes to the load, the second to [`Op::LddwHigh`], so slot indices
/// (and jump offsets) stay those of the bytecode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `dst = dst op src`.
    Alu {
        width: Width,
        op: AluOp,
        dst: Reg,
        src: Src,
    },
    /// `dst = -dst`.
    Neg { width: Width, dst: Reg },
    /// Byte-order conversion of the low `bits` (16, 32 or 64) of `dst`.
    Endian { kind: Endian, bits: u8, dst: Reg },
    /// `dst = imm64`.
    LoadImm64 { dst: Reg, value: u64 },
    /// `dst = map` (pseudo `lddw`, src 1): `map` is an index into the program's maps.
    LoadMap { dst: Reg, map: u32 },
    /// `dst = &map.value[0] + offset` (pseudo `lddw`, src 2) for array maps.
    LoadMapValue { dst: Reg, map: u32, offset: u32 },
    /// Second slot of a two-slot load; never executed.
    LddwHigh,
    /// `dst = *(size *)(base + off)`, sign-extended when `signed`.
    Load {
        size: Size,
        signed: bool,
        dst: Reg,
        base: Reg,
        off: i16,
    },
    /// `*(size *)(base + off) = src`.
    Store {
        size: Size,
        base: Reg,
        off: i16,
        src: Src,
    },
    /// Atomic operation on `*(width *)(base + off)` with `src`.
    Atomic {
        width: Width,
        op: AtomicOp,
        fetch: bool,
        base: Reg,
        off: i16,
        src: Reg,
    },
    /// Unconditional jump to `pc + 1 + off` (`ja`, or `gotol` when `off` needs 32 bits).
    Ja { off: i32 },
    /// Conditional jump to `pc + 1 + off`.
    Jmp {
        width: Width,
        op: JmpOp,
        dst: Reg,
        src: Src,
        off: i16,
    },
    /// `may_goto`: jump to `pc + 1 + off` once the loop budget is spent, else fall through.
    MayGoto { off: i16 },
    /// Call helper `id`.
    Call { helper: i32 },
    /// Call the local function at `pc + 1 + off`.
    CallLocal { off: i32 },
    /// Call the helper whose id `reg` holds (`callx`).
    CallReg { reg: Reg },
    /// Return from a function, or end the program with r0.
    Exit,
}

impl Op {
    /// Slot index of a jump's (or local call's) target, given the op's own index.
    pub fn target(&self, pc: usize) -> Option<i64> {
        let off = match *self {
            Op::Ja { off } | Op::CallLocal { off } => off as i64,
            Op::Jmp { off, .. } | Op::MayGoto { off } => off as i64,
            _ => return None,
        };
        Some(pc as i64 + 1 + off)
    }

    /// Number of slots the op occupies in bytecode.
    pub fn slots(&self) -> usize {
        match self {
            Op::LoadImm64 { .. } | Op::LoadMap { .. } | Op::LoadMapValue { .. } => 2,
            Op::LddwHigh => 0,
            _ => 1,
        }
    }

    /// Whether execution may continue at the next slot.
    pub fn falls_through(&self) -> bool {
        !matches!(self, Op::Ja { .. } | Op::Exit)
    }
}
