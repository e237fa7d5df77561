//! A counting global allocator for tests that prove a code path allocates
//! nothing.
//!
//! Counts are per thread, so tests running in parallel do not see each
//! other's allocations. Use it from a test crate:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOC: tern_alloc_count::CountingAlloc = tern_alloc_count::CountingAlloc;
//!
//! let (value, allocs) = tern_alloc_count::count(|| parse(&bytes));
//! assert_eq!(allocs, 0);
//! ```
//!
//! This is the one place in Tern's test support that needs `unsafe`: the
//! `GlobalAlloc` trait is unsafe to implement. Every method forwards to the
//! system allocator unchanged and only bumps a thread-local counter.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    // `const` initialisation: reading it never allocates, so it is usable
    // from inside the allocator.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting allocations and reallocations per thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAlloc;

fn bump() {
    // `try_with` so allocations during thread teardown are not an error.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees carry over; the counter is a
// thread-local `Cell` that never allocates.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded unchanged, see above.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: forwarded unchanged, see above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: forwarded unchanged, see above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged, see above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations (including reallocations) made so far on this thread.
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Runs `f` and returns its result with the number of allocations it made
/// on this thread. Only meaningful when [`CountingAlloc`] is the global
/// allocator of the running binary.
pub fn count<R>(f: impl FnOnce() -> R) -> (R, u64) {
    let before = allocations();
    let r = f();
    (r, allocations() - before)
}
