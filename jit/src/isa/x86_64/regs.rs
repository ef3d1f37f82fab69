//! x86_64 registers and where each eBPF register lives.
//!
//! The map follows the System V ABI so helper calls need no shuffling:
//! r1–r5 are the argument registers, r0 the return register, r6–r9 and the
//! frame pointer r10 callee-saved.

/// A general-purpose register, numbered as in the ModRM/REX encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Gpr(pub(crate) u8);

impl Gpr {
    pub const RAX: Gpr = Gpr(0);
    pub const RCX: Gpr = Gpr(1);
    pub const RDX: Gpr = Gpr(2);
    pub const RBX: Gpr = Gpr(3);
    pub const RSP: Gpr = Gpr(4);
    pub const RBP: Gpr = Gpr(5);
    pub const RSI: Gpr = Gpr(6);
    pub const RDI: Gpr = Gpr(7);
    pub const R8: Gpr = Gpr(8);
    pub const R9: Gpr = Gpr(9);
    pub const R10: Gpr = Gpr(10);
    pub const R11: Gpr = Gpr(11);
    pub const R12: Gpr = Gpr(12);
    pub const R13: Gpr = Gpr(13);
    pub const R14: Gpr = Gpr(14);
    pub const R15: Gpr = Gpr(15);

    /// Low three bits (ModRM field).
    #[inline]
    pub(crate) fn low(self) -> u8 {
        self.0 & 7
    }

    /// Whether callee-saved in System V.
    pub fn callee_saved(self) -> bool {
        matches!(self.0, 3 | 5 | 12..=15)
    }
}

/// Native register of each virtual register ([`crate::masm::VReg`] index):
/// r0..r10, then the run context and the scratch registers.
pub const MAP: [Gpr; 14] = [
    Gpr::RAX, // r0: return value
    Gpr::RDI, // r1..r5: System V argument registers, in order
    Gpr::RSI,
    Gpr::RDX,
    Gpr::RCX,
    Gpr::R8,
    Gpr::RBX, // r6..r9: callee-saved; r12 skipped because as a base it needs a SIB byte
    Gpr::R13,
    Gpr::R14,
    Gpr::R15,
    Gpr::RBP, // r10: frame pointer (callee-saved)
    Gpr::R12, // run context: callee-saved, so it survives helper calls
    Gpr::R11, // scratch T0
    Gpr::R10, // scratch T1
];

/// Third scratch register, used only inside this backend (division).
pub const T2: Gpr = Gpr::R9;

/// [`MAP`] padded for look-ups masked to four bits ([`crate::masm::pad_map`]).
pub(crate) const MAP16: [Gpr; 16] = crate::masm::pad_map(MAP);
