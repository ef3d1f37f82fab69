//! AArch64 registers and where each eBPF register lives (AAPCS64).
//!
//! r1–r5 are the argument registers x0–x4 so helper calls need no shuffling;
//! r0 sits in x7 (x0 is r1) and is moved to x0 on return. r6–r9, the frame
//! pointer and the context are callee-saved (x19–x22, x25, x26).

/// A general-purpose register number (31 is xzr or sp, by instruction).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct XReg(pub u8);

impl XReg {
    /// Zero register (or sp, in the forms that take it).
    pub const ZR: XReg = XReg(31);
    /// Stack pointer (forms that take sp as register 31).
    pub const SP: XReg = XReg(31);
    /// Frame pointer and link register.
    pub const FP: XReg = XReg(29);
    pub const LR: XReg = XReg(30);
    /// Intra-procedure-call scratch (calls through a pointer).
    pub const IP0: XReg = XReg(16);

    /// Whether callee-saved under AAPCS64.
    pub fn callee_saved(self) -> bool {
        (19..=28).contains(&self.0)
    }
}

/// Native register of each virtual register (r0..r10, context, T0, T1).
pub const MAP: [XReg; 14] = [
    XReg(7),
    XReg(0),
    XReg(1),
    XReg(2),
    XReg(3),
    XReg(4),
    XReg(19),
    XReg(20),
    XReg(21),
    XReg(22),
    XReg(25),
    XReg(26),
    XReg(9),
    XReg(10),
];

/// The limit of a counted packet loop (`crate::guard_loop`), set on entry
/// and kept through the loop: no other code uses it.
pub const LIMIT: XReg = XReg(15);

/// Backend-private scratch registers (caller-saved).
pub const S0: XReg = XReg(11);
pub const S1: XReg = XReg(12);
pub const S2: XReg = XReg(13);
pub const S3: XReg = XReg(14);

/// [`MAP`] padded for look-ups masked to four bits ([`crate::masm::pad_map`]).
pub(crate) const MAP16: [XReg; 16] = crate::masm::pad_map(MAP);
