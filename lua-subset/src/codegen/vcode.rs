//! Virtual-register eBPF: what the code generator emits and the register
//! allocator consumes. Registers below [`FIRST_VIRT`] are the physical ones.

use crate::diag::Span;
use bpf_bridge::isa::{AluOp, JmpOp, Size};

/// A register: `V(0)`..=`V(10)` are r0..r10, higher numbers are virtual.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct V(pub u32);

/// First virtual register number.
pub const FIRST_VIRT: u32 = 16;

impl V {
    /// Physical register `n`.
    pub const fn phys(n: u32) -> V {
        V(n)
    }

    /// Whether this is a physical register.
    pub fn is_phys(self) -> bool {
        self.0 < FIRST_VIRT
    }
}

/// The frame pointer.
pub const FP: V = V(10);

/// Second operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VSrc {
    Reg(V),
    Imm(i32),
}

/// A jump target, placed by [`VOp::Label`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Label(pub u32);

/// One virtual instruction (64-bit ALU throughout).
// An explicit tag byte: every pass matches on the kind of each instruction,
// and a plain tag decodes in one compare where a niche-packed one needs a
// subtract and a conditional move first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum VOp {
    Alu {
        op: AluOp,
        dst: V,
        src: VSrc,
    },
    Neg {
        dst: V,
    },
    /// To big endian (a swap on little-endian hosts), 16 or 32 bits, zero-extending.
    Be {
        bits: u8,
        dst: V,
    },
    LoadImm {
        dst: V,
        value: u64,
    },
    LoadMap {
        dst: V,
        map: u32,
    },
    Load {
        size: Size,
        dst: V,
        base: V,
        off: i16,
    },
    Store {
        size: Size,
        base: V,
        off: i16,
        src: VSrc,
    },
    Jmp {
        op: JmpOp,
        a: V,
        b: VSrc,
        target: Label,
    },
    Ja {
        target: Label,
    },
    MayGoto {
        target: Label,
    },
    /// Helper call with arguments in r1..=r`nargs`; defines r0, clobbers r1–r5.
    Call {
        helper: i32,
        nargs: u8,
    },
    /// Returns r0.
    Exit,
    Label(Label),
}

/// The registers one instruction reads or writes: at most six (a helper
/// call's r0–r5), kept inline because the passes ask for every instruction.
#[derive(Clone, Copy, Debug)]
pub struct Regs {
    len: u8,
    regs: [V; 6],
}

impl Regs {
    const EMPTY: Regs = Regs {
        len: 0,
        regs: [V(0); 6],
    };

    fn push(&mut self, v: V) {
        self.regs[self.len as usize] = v;
        self.len += 1;
    }
}

impl std::ops::Deref for Regs {
    type Target = [V];
    fn deref(&self) -> &[V] {
        &self.regs[..self.len as usize]
    }
}

/// An instruction with the Lua source it came from.
#[derive(Clone, Copy, Debug)]
pub struct VInsn {
    pub op: VOp,
    pub span: Span,
}

impl VOp {
    /// Registers read.
    pub fn uses(&self) -> Regs {
        let mut out = Regs::EMPTY;
        self.each_use(|v| out.push(v));
        out
    }

    /// Calls `f` on each register read, in [`VOp::uses`] order (for passes
    /// over every instruction, which need no list).
    #[inline]
    pub fn each_use(&self, mut f: impl FnMut(V)) {
        match *self {
            VOp::Alu { op, dst, src } => {
                if op != AluOp::Mov {
                    f(dst);
                }
                if let VSrc::Reg(r) = src {
                    f(r);
                }
            }
            VOp::Neg { dst } | VOp::Be { dst, .. } => f(dst),
            VOp::Load { base, .. } => f(base),
            VOp::Store { base, src, .. } => {
                f(base);
                if let VSrc::Reg(r) = src {
                    f(r);
                }
            }
            VOp::Jmp { a, b, .. } => {
                f(a);
                if let VSrc::Reg(r) = b {
                    f(r);
                }
            }
            VOp::Call { nargs, .. } => {
                for i in 1..=nargs.min(5) as u32 {
                    f(V(i));
                }
            }
            VOp::Exit => f(V(0)),
            VOp::LoadImm { .. }
            | VOp::LoadMap { .. }
            | VOp::Ja { .. }
            | VOp::MayGoto { .. }
            | VOp::Label(_) => {}
        }
    }

    /// Registers written (a call writes r0 and clobbers r1–r5).
    pub fn defs(&self) -> Regs {
        let mut out = Regs::EMPTY;
        self.each_def(|v| out.push(v));
        out
    }

    /// Calls `f` on each register written, in [`VOp::defs`] order.
    #[inline]
    pub fn each_def(&self, mut f: impl FnMut(V)) {
        match *self {
            VOp::Alu { dst, .. }
            | VOp::Neg { dst }
            | VOp::Be { dst, .. }
            | VOp::LoadImm { dst, .. }
            | VOp::LoadMap { dst, .. }
            | VOp::Load { dst, .. } => f(dst),
            VOp::Call { .. } => {
                for i in 0..=5 {
                    f(V(i));
                }
            }
            _ => {}
        }
    }

    /// Whether the instruction reads or writes `v`.
    pub fn mentions(&self, v: V) -> bool {
        self.uses().contains(&v) || self.defs().contains(&v)
    }

    /// Jump target, if any.
    pub fn target(&self) -> Option<Label> {
        match *self {
            VOp::Jmp { target, .. } | VOp::Ja { target } | VOp::MayGoto { target } => Some(target),
            _ => None,
        }
    }

    /// Whether control may reach the next instruction.
    pub fn falls_through(&self) -> bool {
        !matches!(self, VOp::Ja { .. } | VOp::Exit)
    }
}
