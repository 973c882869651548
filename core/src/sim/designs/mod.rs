//! Deliberately broken designs of the append, for the simulator only.
//!
//! Each [`Design`] other than [`Design::Streamdoc`] removes or weakens one mechanism of
//! the real append, so that exploring a race shows which invariant the mechanism
//! protects. They are built here, from the production operation, and run only inside a
//! [`Simulation`](crate::sim::Simulation): no [`EventStore`](crate::EventStore) or
//! [`StoreContext`](crate::StoreContext) can reach them.
//!
//! ```
//! use bson::doc;
//! use streamdoc_core::sim::{explore, ClientScript, Design, SimOptions, Simulation};
//! use streamdoc_core::{Engine, ExpectedVersion, NewEvent, OpSpec, StoreConfig};
//!
//! let racer = |name: &str| ClientScript {
//!     name: name.into(),
//!     ops: vec![OpSpec::Append {
//!         stream: "order:1".into(),
//!         events: vec![NewEvent::new("Placed", doc! {})],
//!         expected: ExpectedVersion::NoStream,
//!     }],
//! };
//! let options = SimOptions { design: Design::NoUniqueIndex, ..SimOptions::default() };
//! let sim = Simulation::configured(Engine::new(0), StoreConfig::new("app"), vec![racer("a"), racer("b")], options)?;
//! let report = explore(&sim, 10_000);
//! // without the unique index both creations insert a document
//! assert!(report.invariants["duplicateDocuments"].violated_in > 0);
//! # Ok::<(), streamdoc_core::Error>(())
//! ```

mod flawed;
mod per_event;

use bson::Document;
use serde::{Deserialize, Serialize};

use crate::command::{Command, Reply};
use crate::context::StoreContext;
use crate::error::Error;
use crate::expected::ExpectedVersion;
use crate::ids::{Clock, IdGenerator};
use crate::layout::StoreConfig;
use crate::ops::{AnyOp, OpOutput, OpSpec, Operation, Step, StoreCache};

use flawed::{Flaw, Flawed};
use per_event::PerEvent;

/// How the simulated clients append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Design {
    /// streamdoc's append: a unique index on `streamName`, the expected position in the
    /// update's filter, success read from `matchedCount`/`upsertedId`, and a retry that
    /// recognises its own event ids.
    #[default]
    Streamdoc,
    /// Broken: the unique index on `streamName` is never created.
    NoUniqueIndex,
    /// Broken: the update's filter names the stream but not its expected position.
    NoPositionInFilter,
    /// Broken: success is `upsertedCount === 0` being false, so an append that updated
    /// an existing stream is reported as a conflict.
    UpsertedCountCheck,
    /// Broken: a retry after a lost reply appends again at whatever position it reads,
    /// without looking for its own events.
    BlindRetry,
    /// Broken: one document per event, its position chosen by reading the stream first,
    /// with no transaction and no unique index on the position.
    DocumentPerEvent,
}

/// What the page and the reports say about a design.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DesignInfo {
    /// The design.
    pub id: Design,
    /// A short title.
    pub title: &'static str,
    /// What the design does differently, in a sentence.
    pub summary: &'static str,
    /// The invariant (a [`Violation`](crate::sim::Violation) kind) it breaks, if it is
    /// broken.
    pub breaks: Option<&'static str>,
    /// Why, in the words an explanation of a counterexample ends with.
    pub because: &'static str,
    /// The race that shows the flaw: the gallery scenario to explore it on.
    pub scenario: &'static str,
    /// True when the flaw shows only when a reply is lost (explore with faults).
    pub needs_faults: bool,
}

impl Design {
    /// Every design, the real one first.
    pub const ALL: [Design; 6] = [
        Design::Streamdoc,
        Design::NoUniqueIndex,
        Design::NoPositionInFilter,
        Design::UpsertedCountCheck,
        Design::BlindRetry,
        Design::DocumentPerEvent,
    ];

    /// The design's description.
    pub fn info(self) -> DesignInfo {
        let info = |title, summary, breaks, because, scenario, needs_faults| DesignInfo {
            id: self,
            title,
            summary,
            breaks,
            because,
            scenario,
            needs_faults,
        };
        match self {
            Design::Streamdoc => info(
                "streamdoc",
                "One updateOne filtered on the stream and its expected position, upserting only a new stream, \
                 behind a unique index on streamName; a retry recognises its own event ids.",
                None,
                "every write names the position it expects and the unique index refuses a second document",
                "racing-first-append",
                false,
            ),
            Design::NoUniqueIndex => info(
                "no unique index on streamName",
                "The same updateOne with upsert, but the unique index on streamName is never created.",
                Some("duplicateDocuments"),
                "there is no unique index on streamName, so a second upsert that matches nothing inserts a \
                 second document instead of failing with E11000",
                "racing-first-append",
                false,
            ),
            Design::NoPositionInFilter => info(
                "no position in the update filter",
                "The updateOne's filter names the stream only, not the position the writer expects.",
                Some("positionsNotContiguous"),
                "the update's filter does not name the expected position, so a writer whose view is stale still \
                 matches the document and pushes its events at positions already taken",
                "stale-writer",
                false,
            ),
            Design::UpsertedCountCheck => info(
                "success read from upsertedCount",
                "The write is the real one, but success is taken to be upsertedCount === 1, as in the seed \
                 article's sketch.",
                Some("failedAppendVisible"),
                "an append to an existing stream updates the document and never upserts, so upsertedCount is 0 \
                 and the store calls a successful append a conflict",
                "stale-writer",
                false,
            ),
            Design::BlindRetry => info(
                "blind retry after a lost reply",
                "After an unknown outcome the append is retried with no concurrency check, at whatever position \
                 it reads, without looking for its own events.",
                Some("duplicatedEvent"),
                "the first attempt had been applied before its reply was lost, and the retry appended the same \
                 events again instead of finding them at the positions it expected",
                "lost-reply",
                true,
            ),
            Design::DocumentPerEvent => info(
                "one document per event, no transaction",
                "Each event is its own document; a writer reads the stream to pick the next position, then \
                 inserts, with no transaction between the read and the insert.",
                Some("positionsNotContiguous"),
                "both writers read the stream before either inserted, so both chose the same next position and \
                 nothing refused the second insert",
                "racing-first-append",
                false,
            ),
        }
    }

    /// The operation a client of this design runs for `spec`.
    pub(crate) fn prepare(
        self,
        ctx: &StoreContext,
        spec: &OpSpec,
        clock: &dyn Clock,
        ids: &dyn IdGenerator,
    ) -> Result<SimOp, Error> {
        let op = ctx.prepare_with(spec, clock, ids)?;
        let flawed = |flaw| SimOp::Flawed(Box::new(Flawed::new(op.clone(), flaw, spec)));
        Ok(match self {
            Design::Streamdoc | Design::BlindRetry => SimOp::Real(op),
            Design::NoUniqueIndex => flawed(Flaw::NoUniqueIndex),
            Design::NoPositionInFilter => flawed(Flaw::NoPositionInFilter),
            Design::UpsertedCountCheck => flawed(Flaw::UpsertedCountCheck),
            Design::DocumentPerEvent => SimOp::PerEvent(Box::new(PerEvent::new(ctx.config(), spec, &op))),
        })
    }

    /// The operation spec a retry after a lost reply runs: the same events with the
    /// ids the first attempt gave them; under [`Design::BlindRetry`], with no
    /// concurrency check.
    pub(crate) fn retry_spec(self, spec: &OpSpec, event_ids: &[String]) -> OpSpec {
        match spec {
            OpSpec::Append { stream, events, expected } => OpSpec::Append {
                stream: stream.clone(),
                events: events.iter().zip(event_ids).map(|(e, id)| e.clone().with_id(id.clone())).collect(),
                expected: if self == Design::BlindRetry { ExpectedVersion::Any } else { *expected },
            },
            other => other.clone(),
        }
    }

    /// The stored documents as stream documents, for the invariant checks: the
    /// documents themselves, or under [`Design::DocumentPerEvent`] one stream document
    /// gathered from each stream's event documents.
    pub(crate) fn stream_documents(self, config: &StoreConfig, documents: Vec<Document>) -> Vec<Document> {
        match self {
            Design::DocumentPerEvent => per_event::gather(config.layout, documents),
            _ => documents,
        }
    }
}

/// A simulated client's operation under some design.
// The production operation is the common case and stays unboxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub(crate) enum SimOp {
    /// The production operation.
    Real(AnyOp),
    /// The production operation with one mechanism removed.
    Flawed(Box<Flawed>),
    /// The document-per-event design's own operation.
    PerEvent(Box<PerEvent>),
}

impl SimOp {
    /// What an append learned (it adopts into its client's store when it finishes).
    pub(crate) fn cache(&self) -> Option<&StoreCache> {
        match self {
            SimOp::Real(AnyOp::Append(a)) => Some(a.cache()),
            SimOp::Flawed(f) => f.cache(),
            _ => None,
        }
    }

    /// For appends, the ids of the events.
    pub(crate) fn event_ids(&self) -> Vec<String> {
        match self {
            SimOp::Real(AnyOp::Append(a)) => a.event_ids(),
            SimOp::Flawed(f) => f.event_ids(),
            SimOp::PerEvent(p) => p.event_ids(),
            SimOp::Real(_) => Vec::new(),
        }
    }
}

impl Operation for SimOp {
    type Output = OpOutput;

    fn next(&mut self) -> Step<Result<OpOutput, Error>> {
        match self {
            SimOp::Real(op) => op.next(),
            SimOp::Flawed(op) => op.next(),
            SimOp::PerEvent(op) => op.next(),
        }
    }

    fn feed(&mut self, reply: Reply) {
        match self {
            SimOp::Real(op) => op.feed(reply),
            SimOp::Flawed(op) => op.feed(reply),
            SimOp::PerEvent(op) => op.feed(reply),
        }
    }

    fn describe_step(&self) -> &'static str {
        match self {
            SimOp::Real(op) => op.describe_step(),
            SimOp::Flawed(op) => op.describe_step(),
            SimOp::PerEvent(op) => op.describe_step(),
        }
    }
}

/// True for the commands whose replies the explorer may lose: the writes (losing a
/// read's reply only fails the read).
pub(crate) fn is_write(command: &Command) -> bool {
    matches!(command, Command::UpdateOne { .. } | Command::InsertOne { .. } | Command::DeleteOne { .. })
}
