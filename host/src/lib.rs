//! streamdoc on a live MongoDB through the official driver, the HTTP API and the CLI.
//!
//! The MongoDB executor and the HTTP API arrive with the host and serve issues; the
//! crate already re-exports the core so that dependants compile against one path.

pub use streamdoc_core as core_logic;
