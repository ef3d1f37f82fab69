//! The global allocator of the `luabpf` binary (and of the benchmarks that
//! measure what it does): mimalloc, called the way the system allocator is.
//!
//! The compiler allocates many small nodes, full_moon's tokens above all.
//! `mimalloc::MiMalloc` hands every request to `mi_malloc_aligned`, whose
//! fast path misses for blocks over 1 KiB (then it over-allocates and aligns
//! by hand) and costs more than `mi_malloc`'s even when it hits. Rust's own
//! layouts rarely need more than `mi_malloc` guarantees, so those go there.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;
use libmimalloc_sys::{mi_free, mi_malloc, mi_malloc_aligned, mi_realloc, mi_realloc_aligned};
use libmimalloc_sys::{mi_zalloc, mi_zalloc_aligned};

/// The alignment every `mi_malloc` block of at least that size has
/// (`MI_MAX_ALIGN_SIZE`; smaller blocks are aligned to their size class, a
/// multiple of 8).
const MALLOC_ALIGN: usize = 16;

/// mimalloc as a Rust global allocator; see the module documentation.
pub struct MiMalloc;

/// Whether plain `mi_malloc` of `size` bytes is aligned enough: a Rust layout's
/// size is a multiple of its alignment, so `align <= size` with `align <= 16`
/// is the same rule the standard library applies to the system `malloc`.
#[inline]
fn plain(align: usize, size: usize) -> bool {
    align <= MALLOC_ALIGN && align <= size
}

// SAFETY: every pointer returned comes from mimalloc with at least the
// layout's size and alignment (see `plain`), and `mi_free`/`mi_realloc*`
// accept any pointer mimalloc returned, aligned or not.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: mimalloc accepts any size; the alignment is a power of two.
        unsafe {
            if plain(layout.align(), layout.size()) {
                mi_malloc(layout.size()).cast()
            } else {
                mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe {
            if plain(layout.align(), layout.size()) {
                mi_zalloc(layout.size()).cast()
            } else {
                mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from this allocator, that is from mimalloc.
        unsafe { mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from mimalloc; the new block keeps the layout's
        // alignment (`plain` judged against the new size).
        unsafe {
            if plain(layout.align(), new_size) {
                mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every kind of request comes back aligned as asked, and holds its bytes
    /// through a reallocation.
    #[test]
    fn blocks_are_aligned_as_asked() {
        let a = MiMalloc;
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            for size in [align, 3 * align, 1000, 1024, 1040, 5000, 70_000] {
                let size = size.next_multiple_of(align);
                let layout = Layout::from_size_align(size, align).unwrap();
                // SAFETY: non-zero sizes; every block is freed with its layout.
                unsafe {
                    let p = a.alloc(layout);
                    assert!(
                        !p.is_null() && (p as usize).is_multiple_of(align),
                        "{size} {align}"
                    );
                    p.write_bytes(0xab, size);
                    let grown = size * 2 + align;
                    let q = a.realloc(p, layout, grown);
                    assert!(
                        !q.is_null() && (q as usize).is_multiple_of(align),
                        "{grown} {align}"
                    );
                    assert_eq!(*q.add(size - 1), 0xab);
                    a.dealloc(q, Layout::from_size_align(grown, align).unwrap());
                    let z = a.alloc_zeroed(layout);
                    assert!((z as usize).is_multiple_of(align) && *z.add(size - 1) == 0);
                    a.dealloc(z, layout);
                }
            }
        }
    }
}
