//! Growing the WebAssembly memory in large steps.
//!
//! Allocators grow the memory by as few 64 KiB pages as an allocation needs, and V8
//! makes each `memory.grow` cost about a millisecond once the memory holds tens of
//! megabytes: a store with 10,000 streams spent most of its time growing its heap. So
//! whenever the memory has grown since the last call, this allocates (and frees) one
//! block as large as the memory already is, capped at 64 MiB: the allocator grows once,
//! keeps the block as free space, and the memory grows geometrically, not page by page.

#[cfg(target_arch = "wasm32")]
use std::cell::Cell;

/// The largest single step.
#[cfg(target_arch = "wasm32")]
const MAX_STEP: usize = 64 << 20;
#[cfg(target_arch = "wasm32")]
const PAGE: usize = 64 << 10;

#[cfg(target_arch = "wasm32")]
thread_local! {
    /// The memory size (in pages) after the last reservation.
    static RESERVED: Cell<usize> = const { Cell::new(0) };
}

/// Reserves free heap ahead when the memory has grown since the last call.
pub(crate) fn reserve_ahead() {
    #[cfg(target_arch = "wasm32")]
    RESERVED.with(|reserved| {
        let pages = core::arch::wasm32::memory_size(0);
        if pages > reserved.get() {
            let step = (pages * PAGE).min(MAX_STEP);
            drop(std::hint::black_box(Vec::<u8>::with_capacity(step)));
            reserved.set(core::arch::wasm32::memory_size(0));
        }
    });
}
