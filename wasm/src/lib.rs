//! WebAssembly bindings of `streamdoc-core`, published to npm as `streamdoc`.
//!
//! The bindings are a thin translation layer: every decision lives in
//! `streamdoc-core`. This crate is filled in by the wasm issue; for now it only
//! proves that the core compiles for `wasm32-unknown-unknown`.

pub use streamdoc_core as core_logic;
