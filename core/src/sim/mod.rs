//! The simulator: several clients' operations interleaved command by command against
//! one engine.
//!
//! It runs the production state machines, not a model of them: each client is a store
//! (a [`StoreContext`], which builds its operations as it builds any store's) working
//! through a script of [`OpSpec`]s; a *step* lets one client send its next command to
//! the executor and take the reply. A [`Schedule`] fixes the order of steps, so a run is
//! reproducible, and [`explore`] enumerates every order, checking the
//! [invariants] after each. The executor is the in-memory engine by
//! default, or any [`Executor`] (a live server, for one schedule at a time).
//!
//! ```
//! use bson::doc;
//! use streamdoc_core::sim::{explore, ClientScript, Simulation};
//! use streamdoc_core::{ExpectedVersion, NewEvent, OpSpec, StoreConfig};
//!
//! let racer = |name: &str| ClientScript {
//!     name: name.into(),
//!     ops: vec![OpSpec::Append {
//!         stream: "order:1".into(),
//!         events: vec![NewEvent::new("Placed", doc! {})],
//!         expected: ExpectedVersion::NoStream,
//!     }],
//! };
//! let sim = Simulation::new(StoreConfig::new("app"), vec![racer("a"), racer("b")])?;
//! let report = explore(&sim, 10_000);
//! assert!(report.violations.is_empty());
//! // every interleaving: exactly one creation wins, the other gets a typed conflict
//! assert!(report.outcomes.keys().all(|k| k.matches("ConcurrencyConflict").count() == 1));
//! # Ok::<(), streamdoc_core::Error>(())
//! ```
//!
//! [`OpSpec`]: crate::OpSpec
//! [`StoreContext`]: crate::StoreContext
//! [`Executor`]: crate::Executor

mod designs;
mod explain;
mod explore;
mod gallery;
pub mod invariants;
mod simulation;

pub use designs::{Design, DesignInfo};
pub use explain::explain;
pub use explore::{
    explore, explore_with, Counterexample, Coverage, Exploration, ExploreOptions, Explorer, FinalState, InvariantReport,
};
pub use gallery::{races, Race};
pub use invariants::Violation;
pub use simulation::{ClientScript, Outcome, Path, Schedule, SimError, SimOptions, Simulation, Tally, TraceEntry};

use bson::Document;

use crate::engine::Engine;

/// An executor whose stored documents the [invariant checks](invariants) can read.
pub trait StoredDocuments {
    /// Every document of every collection.
    fn stored_documents(&self) -> Vec<Document>;
}

impl StoredDocuments for Engine {
    fn stored_documents(&self) -> Vec<Document> {
        self.namespaces().iter().flat_map(|ns| self.documents(ns)).collect()
    }
}
