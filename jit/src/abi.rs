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
/// `extern "C" fn(ctx, addr, packed) -> CheckRet`: status 0 when the access
/// is allowed (value = addr), 1 when it is a converted context load (value =
/// the loaded value), 2 when it faults (the host has recorded why).
/// `packed` is built by [`pack_check`].
pub const HOST_CHECK: i32 = 88;
/// Pointer to one u64 per map: the value a pseudo `lddw` src 1 loads.
pub const MAPS: i32 = 96;
/// Pointer to one u64 per map: the address of an array map's first value.
pub const MAP_VALUES: i32 = 104;
/// Opaque host state for the host functions.
pub const ENV: i32 = 112;
/// The six `xdp_md` fields as full 64-bit values (verified mode's converted loads).
pub const XDP_FIELDS: i32 = 120;
/// The current r10, stored before host calls (the host's stack region is the frames in use).
pub const CUR_FP: i32 = 168;
/// `extern "C" fn(r1, r2, r3, r4, r5, ctx) -> u64`: `callx` of the value in `HELPER_ID`.
pub const HOST_CALLX: i32 = 176;
/// Helpers with a slot of their own: `extern "C" fn(r1, r2, r3, r4, r5, ctx) -> u64`
/// for ids 1 to [`HELPER_SLOTS`] (id `i` at `HELPERS + 8 * (i - 1)`), called
/// directly by generated code (no `HELPER_ID` store, no dispatch on the id).
pub const HELPERS: i32 = 184;
/// Number of helper slots.
pub const HELPER_SLOTS: usize = 8;
/// Region blocks for the inline fast path of checked accesses, five words
/// each: the region's start, then [`region_limit`]s for accesses of 1, 2, 4
/// and 8 bytes. An access of `n` bytes at `addr` lies in the region when
/// `addr - start < limit(n)` (unsigned). Zero limits (the default) send every
/// access to the host check.
pub const REGION_WORDS: i32 = 5;
/// The packet's region block.
pub const PKT_REGION: i32 = 248;
/// Region blocks of the first [`MAP_REGIONS_MAX`] maps' values, in map order.
pub const MAP_REGIONS: i32 = PKT_REGION + 8 * REGION_WORDS;
/// Maps with a region block.
pub const MAP_REGIONS_MAX: usize = 4;
/// Size of the block.
pub const SIZE: usize = MAP_REGIONS as usize + MAP_REGIONS_MAX * 8 * REGION_WORDS as usize;

/// The limit for accesses of `bytes` bytes to a `len`-byte region:
/// `len - bytes + 1`, or 0 when none fits.
pub const fn region_limit(len: u64, bytes: u64) -> u64 {
    if len >= bytes {
        len - bytes + 1
    } else {
        0
    }
}

/// The words of a region block for `len` bytes at `start`.
pub const fn region_block(start: u64, len: u64) -> [u64; 5] {
    [
        start,
        region_limit(len, 1),
        region_limit(len, 2),
        region_limit(len, 4),
        region_limit(len, 8),
    ]
}

/// The offset of the limit for accesses of `bytes` (1, 2, 4, 8) bytes in the block at `block`.
pub const fn region_limit_slot(block: i32, bytes: usize) -> i32 {
    block + 8 + 8 * bytes.trailing_zeros() as i32
}

/// The context offset of helper `id`'s own slot, if it has one.
pub const fn helper_slot(id: i32) -> Option<i32> {
    if id >= 1 && id <= HELPER_SLOTS as i32 {
        Some(HELPERS + 8 * (id - 1))
    } else {
        None
    }
}

/// Check status: plain memory, access it.
pub const CHECK_PLAIN: u64 = 0;
/// Check status: a converted context load; the value is the result.
pub const CHECK_VALUE: u64 = 1;
/// Check status: fault.
pub const CHECK_FAULT: u64 = 2;

/// Kinds of access, for [`pack_check`].
pub const ACCESS_WRITE: u64 = 1 << 4;
/// A sign-extending load.
pub const ACCESS_SIGNED: u64 = 1 << 5;
/// An atomic read-modify-write.
pub const ACCESS_ATOMIC: u64 = 1 << 6;

/// Packs the argument of a bounds check: `pc << 8 | kind bits | bytes`.
pub const fn pack_check(pc: usize, kind: u64, bytes: usize) -> u64 {
    (pc as u64) << 8 | kind | bytes as u64
}

/// What the host check returns (in the two return registers).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckRet {
    /// [`CHECK_PLAIN`], [`CHECK_VALUE`] or [`CHECK_FAULT`].
    pub status: u64,
    /// The address (plain) or the converted value.
    pub value: u64,
}
