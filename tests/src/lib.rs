//! The scenario corpus every layer must agree on, and the machinery to replay it.
//!
//! A scenario (`tests/scenarios/*.json`, format in `tests/scenarios/README.md`) is a
//! list of operations with their expected results and the expected stored documents.
//! [`runner::run`] replays one against any [`runner::Target`] — core's engine here, the
//! wasm package and a live server in the other suites — and produces a
//! [`runner::RunOutput`] in canonical Extended JSON, which [`compare`] checks against
//! the scenario's expectations and against other layers' outputs.

pub mod canonical;
pub mod compare;
pub mod deviations;
pub mod live;
pub mod runner;
pub mod scenario;

pub use runner::{run, EngineTarget, Replay, RunOutput, Target};
pub use scenario::{load_corpus, Scenario};

/// The repository README's examples, compiled and run as doctests.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
