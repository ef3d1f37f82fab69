//! The run context: a block of 64-bit fields the generated code reaches through
//! the context register (`VReg::CTX`). The host fills it before a run and reads
//! the fault fields after. Offsets are shared by every architecture.

/// Initial r1.
pub const R1: i32 = 0;
/// Initial r2.
pub const R2: i32 = 8;
/// Initial r10: top of the eBPF stack of the first frame.
pub const FP: i32 = 16;
/// Native stack pointer at the call of the program body (for unwinding on a fault).
pub const SAVED_SP: i32 = 24;
/// Non-zero after a fault: a [`crate::FaultKind`] code.
pub const FAULT_KIND: i32 = 32;
/// Slot index of the faulting instruction.
pub const FAULT_PC: i32 = 40;
/// may_goto budget left.
pub const BUDGET: i32 = 48;
/// Backward-jump budget left (checked mode).
pub const LOOPS: i32 = 56;
/// Lowest r10 a called frame may get (call depth limit).
pub const STACK_LIMIT: i32 = 64;
/// Helper id of the pending helper call.
pub const HELPER_ID: i32 = 72;
/// `extern "C" fn(r1, r2, r3, r4, r5, ctx) -> u64`: runs helper `HELPER_ID`.
pub const HOST_HELPER: i32 = 80;
/// `extern "C" fn(ctx, addr, packed) -> u64`: 0 when the access is allowed;
/// otherwise it has set the fault fields. `packed = pc << 8 | write << 4 | bytes`.
pub const HOST_CHECK: i32 = 88;
/// Pointer to one u64 per map: the value a pseudo `lddw` src 1 loads.
pub const MAPS: i32 = 96;
/// Pointer to one u64 per map: the address of an array map's first value.
pub const MAP_VALUES: i32 = 104;
/// Opaque host state for the host functions.
pub const ENV: i32 = 112;
/// The six `xdp_md` fields as full 64-bit values (verified mode's converted loads).
pub const XDP_FIELDS: i32 = 120;
/// Size of the block.
pub const SIZE: usize = 168;

/// Packs the argument of a bounds check.
pub const fn pack_check(pc: usize, write: bool, bytes: usize) -> u64 {
    (pc as u64) << 8 | (write as u64) << 4 | bytes as u64
}
