//! `cargo xtask bench`: streamdoc measured where a user runs it — on a live server,
//! against the bare `mongodb` driver sending the identical commands, against Emmett,
//! and as one stream document grows.
//!
//! Every comparison runs its contenders side by side in one run, alternating round by
//! round after a warm-up round, and reports medians with their range; the ratios
//! against the bare driver on the same server are the result (absolute times on the
//! test servers mean little). Each benchmark writes a section of the report
//! ([`report::Fragments`]); `streamdoc-bench report` assembles `docs/benchmarks.md`.
//!
//! ```
//! use streamdoc_bench::stats::{Round, Summary};
//! use std::time::Duration;
//!
//! let round = Round { ops: 100, elapsed: Duration::from_millis(50), latencies: vec![Duration::from_micros(500); 100] };
//! assert_eq!(Summary::of(&[round]).per_second.median.round(), 2000.0);
//! ```

use std::path::Path;

pub mod derived;
pub mod live;
pub mod plot;
pub mod report;
pub mod stats;
pub mod wall;

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A file of the report could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What failed.
        source: std::io::Error,
    },
    /// The report could not be assembled.
    #[error("report: {0}")]
    Report(String),
    /// The server refused or failed a command the benchmark needs.
    #[error("on the server: {0}")]
    Server(#[from] streamdoc_host::mongodb::error::Error),
    /// streamdoc refused an operation the benchmark expected to succeed.
    #[error("streamdoc: {0}")]
    Store(#[from] streamdoc_core::Error),
    /// The store could not connect.
    #[error("connecting: {0}")]
    Connect(#[from] streamdoc_host::ConnectError),
    /// A plot could not be drawn.
    #[error("plot {0}")]
    Plot(String),
}

impl BenchError {
    fn io(path: &Path, source: std::io::Error) -> BenchError {
        BenchError::Io { path: path.display().to_string(), source }
    }
}
