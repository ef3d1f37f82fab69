//! The memory a run may touch: regions of host addresses and the checks
//! against them, plus the owned buffers that back stacks and map values.
//!
//! Every engine runs programs on real host pointers (r10, packet pointers and
//! map value pointers are host addresses), so a check is a range comparison.

mod storage;

pub use storage::Storage;

/// A half-open range `[start, end)` of host addresses a program may access.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Region {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
    /// Whether stores are allowed.
    pub writable: bool,
}

impl Region {
    /// A region that contains nothing.
    pub const EMPTY: Region = Region {
        start: 0,
        end: 0,
        writable: false,
    };

    /// The region of `len` bytes at `ptr`.
    pub fn new(ptr: *const u8, len: usize, writable: bool) -> Region {
        let start = ptr as u64;
        Region {
            start,
            end: start + len as u64,
            writable,
        }
    }

    /// Whether `[addr, addr + len)` lies inside the region (overflow-safe).
    #[inline(always)]
    pub fn contains(&self, addr: u64, len: u64) -> bool {
        addr >= self.start && addr <= self.end && self.end - addr >= len
    }

    /// Whether an access of `len` bytes at `addr` is allowed (stores need a writable region).
    #[inline(always)]
    pub fn allows(&self, addr: u64, len: u64, write: bool) -> bool {
        self.contains(addr, len) && (self.writable || !write)
    }

    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the region is empty.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }
}

/// Where a checked access landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hit {
    /// Plain memory: access it directly.
    Plain,
    /// The context at this byte offset: loads are converted (see [`crate::context`]).
    Ctx(u64),
}

/// The per-run regions other than map values (which [`crate::maps::MapSet::regions`]
/// provides): the context, the stack frames in use and the packet.
///
/// The stack region covers only the frames in use: engines move `stack.start`
/// down by [`STACK_FRAME_SIZE`] on a local call and back up on return.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Memory {
    /// The context object (`struct xdp_md` for XDP; empty for `raw`). Read-only,
    /// and only whole-field loads are allowed.
    pub ctx: Region,
    /// The stack frames in use.
    pub stack: Region,
    /// The packet (or the `raw` memory).
    pub packet: Region,
}

/// Bytes of stack per frame.
pub const STACK_FRAME_SIZE: usize = 512;
/// Frames at most (the main program plus seven nested local calls).
pub const MAX_FRAMES: usize = 8;
/// Bytes of stack reserved for a run.
pub const STACK_SIZE: usize = STACK_FRAME_SIZE * MAX_FRAMES;

impl Memory {
    /// Classifies an access of `len` bytes at `addr`; `None` when it is outside every
    /// region (or a store to a read-only one). Context hits are reported only for
    /// loads: a store to the context is refused.
    #[inline(always)]
    pub fn check(&self, maps: &[Region], addr: u64, len: u64, write: bool) -> Option<Hit> {
        if self.stack.contains(addr, len) || self.packet.contains(addr, len) {
            // Both are always writable.
            return Some(Hit::Plain);
        }
        if maps.iter().any(|r| r.allows(addr, len, write)) {
            return Some(Hit::Plain);
        }
        if !write && self.ctx.contains(addr, len) {
            return Some(Hit::Ctx(addr - self.ctx.start));
        }
        None
    }

    /// Whether `len` bytes at `addr` are plain memory a helper may read (or write):
    /// the stack in use, the packet or a map value. The context is not.
    #[inline(always)]
    pub fn check_plain(&self, maps: &[Region], addr: u64, len: u64, write: bool) -> bool {
        matches!(self.check(maps, addr, len, write), Some(Hit::Plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_bounds_are_half_open_and_overflow_safe() {
        let r = Region {
            start: 100,
            end: 108,
            writable: false,
        };
        assert!(r.contains(100, 8));
        assert!(r.contains(107, 1));
        assert!(!r.contains(107, 2));
        assert!(!r.contains(99, 1));
        assert!(!r.contains(u64::MAX, 2));
        assert!(r.contains(108, 0));
        assert!(!r.allows(100, 1, true));
    }

    #[test]
    fn ctx_is_load_only() {
        let m = Memory {
            ctx: Region {
                start: 1000,
                end: 1024,
                writable: false,
            },
            ..Memory::default()
        };
        assert_eq!(m.check(&[], 1004, 4, false), Some(Hit::Ctx(4)));
        assert_eq!(m.check(&[], 1004, 4, true), None);
        assert!(!m.check_plain(&[], 1004, 4, false));
    }
}
