//! Owned, 8-byte aligned, zeroed buffers that programs access through raw
//! pointers: stacks and map values. They never move or grow, so pointers handed
//! to a program stay valid for the buffer's lifetime.

use core::ptr::NonNull;

/// A fixed-size buffer reached only through raw pointers, so that pointers a
/// program holds are never invalidated by a Rust reference to the same bytes.
pub struct Storage {
    ptr: NonNull<u64>,
    words: usize,
    len: usize,
}

// SAFETY: a `Storage` uniquely owns its allocation, like a `Box<[u64]>`.
unsafe impl Send for Storage {}
// SAFETY: shared access only reads (through `bytes`), as with `&Box<[u64]>`.
unsafe impl Sync for Storage {}

impl Storage {
    /// A zeroed buffer of `len` bytes (rounded up to whole 8-byte words).
    pub fn zeroed(len: usize) -> Storage {
        let words = len.div_ceil(8).max(1);
        let boxed = vec![0u64; words].into_boxed_slice();
        let raw = Box::into_raw(boxed) as *mut u64;
        Storage {
            // SAFETY: `Box::into_raw` never returns null.
            ptr: unsafe { NonNull::new_unchecked(raw) },
            words,
            len,
        }
    }

    /// Base address.
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr.as_ptr() as *mut u8
    }

    /// Length in bytes as requested.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the buffer is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes `[off, off + len)`, or `None` if out of range. Only call while no
    /// program runs on this buffer (the borrow checker enforces it for engines,
    /// which take the owner mutably for a run).
    pub fn bytes(&self, off: usize, len: usize) -> Option<&[u8]> {
        let end = off.checked_add(len)?;
        if end > self.len {
            return None;
        }
        // SAFETY: in bounds of the live allocation; no writer exists while `&self` is held.
        Some(unsafe { core::slice::from_raw_parts(self.as_ptr().add(off), len) })
    }

    /// Copies `src` to `off` (which must be in range) through the raw pointer.
    pub fn write(&mut self, off: usize, src: &[u8]) -> bool {
        match off.checked_add(src.len()) {
            Some(end) if end <= self.len => {
                // SAFETY: in bounds; `src` cannot alias (we hold `&mut self`).
                unsafe {
                    core::ptr::copy_nonoverlapping(src.as_ptr(), self.as_ptr().add(off), src.len())
                };
                true
            }
            _ => false,
        }
    }

    /// Zeroes `[off, off + len)` (ignored if out of range).
    pub fn zero(&mut self, off: usize, len: usize) {
        if off.checked_add(len).is_some_and(|e| e <= self.len) {
            // SAFETY: in bounds of the live allocation.
            unsafe { core::ptr::write_bytes(self.as_ptr().add(off), 0, len) };
        }
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        let slice = core::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.words);
        // SAFETY: the pointer came from `Box::into_raw` of a boxed slice of `words` words.
        drop(unsafe { Box::from_raw(slice) });
    }
}

impl core::fmt::Debug for Storage {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Storage({} bytes at {:p})", self.len, self.ptr)
    }
}
