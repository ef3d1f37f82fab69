//! RISC-V 64 registers and where each eBPF register lives (LP64 ABI).
//!
//! r1–r5 are a0–a4 so helper calls need no shuffling; r0 is a5 (a0 is r1)
//! and moves to a0 on return. r6–r9, the frame pointer and the context are
//! callee-saved (s1–s6).

/// An integer register `x0`..`x31`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Xr(pub u8);

impl Xr {
    pub const ZERO: Xr = Xr(0);
    pub const RA: Xr = Xr(1);
    pub const SP: Xr = Xr(2);
    pub const A0: Xr = Xr(10);

    /// Whether callee-saved (s0–s11).
    pub fn callee_saved(self) -> bool {
        matches!(self.0, 8 | 9 | 18..=27)
    }
}

/// Native register of each virtual register (r0..r10, context, T0, T1).
pub const MAP: [Xr; 14] = [
    Xr(15), // a5
    Xr(10), // a0..a4
    Xr(11),
    Xr(12),
    Xr(13),
    Xr(14),
    Xr(9), // s1..s6
    Xr(18),
    Xr(19),
    Xr(20),
    Xr(21),
    Xr(22),
    Xr(5), // t0, t1
    Xr(6),
];

/// The limit of a counted packet loop (`crate::guard_loop`), set on entry
/// and kept through the loop: a6, which no other code uses.
pub const LIMIT: Xr = Xr(16);

/// Backend-private scratch registers t2–t6.
pub const S0: Xr = Xr(7);
pub const S1: Xr = Xr(28);
pub const S2: Xr = Xr(29);
pub const S3: Xr = Xr(30);
pub const S4: Xr = Xr(31);

/// [`MAP`] padded for look-ups masked to four bits ([`crate::masm::pad_map`]).
pub(crate) const MAP16: [Xr; 16] = crate::masm::pad_map(MAP);
