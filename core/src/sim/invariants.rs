//! What must hold after any interleaving.
//!
//! 1. One document per stream name.
//! 2. In every stream, event positions run 1, 2, ... n without gaps, and the
//!    document's `metadata.streamPosition` is n.
//! 3. No event id appears twice in a stream.
//! 4. Every acknowledged append's events are in the stream, at the positions the
//!    append reported (nothing acknowledged is lost).
//! 5. No event of a failed append is in the stream (a failure changes nothing); an
//!    append whose outcome is unknown (its reply was lost) may or may not be.
//! 6. Every event a read returned is in the stream at the position the read saw.
//! 7. Every failure is a typed, expected outcome ([`crate::Error::is_expected_outcome`]).
//! 8. Every read model of the configuration's inline projections is the fold of its
//!    stream's events from scratch, at the projection's schema version.
//! 9. An archived stream is complete in the archive: its tombstone's position is the
//!    position of exactly one full copy (while an archive runs, the live sealed document
//!    and its archive copy are the same document).
//! 10. The segments of a segmented stream tile its positions: numbered 0, 1, ..., each
//!     starting where the one before ends.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::layout::StoreConfig;
use crate::layout::STREAM_NAME;
use crate::ops::{OpOutput, OpSpec, ReadResult};
use crate::sim::{Outcome, Simulation, StoredDocuments};

/// A broken invariant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Violation {
    /// More than one document holds the stream.
    #[error("{count} documents hold stream {stream}")]
    DuplicateDocuments { stream: String, count: usize },
    /// A stream document could not be decoded.
    #[error("the document of {stream} is malformed: {reason}")]
    Malformed { stream: String, reason: String },
    /// Positions skip or repeat, or disagree with the document's position.
    #[error("positions of {stream} are not 1..={position}: found {found:?}")]
    PositionsNotContiguous { stream: String, position: u64, found: Vec<u64> },
    /// An event id appears twice.
    #[error("event {event_id} appears twice in {stream}")]
    DuplicatedEvent { stream: String, event_id: String },
    /// An acknowledged event is missing or elsewhere.
    #[error("acknowledged event {event_id} is not at position {position} of {stream}")]
    LostEvent { stream: String, event_id: String, position: u64 },
    /// A failed append's event is in the stream.
    #[error("event {event_id} of a failed append is in {stream}")]
    FailedAppendVisible { stream: String, event_id: String },
    /// A read returned an event that is not in the stream at that position.
    #[error("a read of {stream} returned event {event_id} at position {position}, which the stream does not hold")]
    PhantomRead { stream: String, event_id: String, position: u64 },
    /// A failure that a correct store never reports.
    #[error("client {client} op {op_index} failed with an untyped or unexpected error: {error}")]
    UnexpectedFailure { client: usize, op_index: usize, error: String },
    /// A read model disagrees with the events of its stream.
    #[error("the read model {projection} of {stream} is not the fold of its events: {reason}")]
    ReadModelDiverged { stream: String, projection: String, reason: String },
    /// An archived stream's tombstone has no complete copy at its position.
    #[error("{stream} is archived at position {position}, but {copies} complete copies hold it")]
    ArchiveIncomplete { stream: String, position: u64, copies: usize },
    /// A segmented stream's segments leave a gap, overlap, or skip a number.
    #[error("the {segments} segments of {stream} do not tile its positions")]
    SegmentsDoNotTile { stream: String, segments: usize },
}

impl Violation {
    /// Every kind, in the order of the invariants above.
    pub const KINDS: [&'static str; 11] = [
        "duplicateDocuments",
        "malformed",
        "positionsNotContiguous",
        "duplicatedEvent",
        "lostEvent",
        "failedAppendVisible",
        "phantomRead",
        "unexpectedFailure",
        "readModelDiverged",
        "archiveIncomplete",
        "segmentsDoNotTile",
    ];

    /// The kind, as in its serde form (`duplicateDocuments`, ...).
    pub fn kind(&self) -> &'static str {
        match self {
            Violation::DuplicateDocuments { .. } => "duplicateDocuments",
            Violation::Malformed { .. } => "malformed",
            Violation::PositionsNotContiguous { .. } => "positionsNotContiguous",
            Violation::DuplicatedEvent { .. } => "duplicatedEvent",
            Violation::LostEvent { .. } => "lostEvent",
            Violation::FailedAppendVisible { .. } => "failedAppendVisible",
            Violation::PhantomRead { .. } => "phantomRead",
            Violation::UnexpectedFailure { .. } => "unexpectedFailure",
            Violation::ReadModelDiverged { .. } => "readModelDiverged",
            Violation::ArchiveIncomplete { .. } => "archiveIncomplete",
            Violation::SegmentsDoNotTile { .. } => "segmentsDoNotTile",
        }
    }

    /// The invariant a kind of violation breaks, in words.
    pub fn invariant(kind: &str) -> &'static str {
        match kind {
            "duplicateDocuments" => "one document per stream",
            "malformed" => "every stream document is well-formed",
            "positionsNotContiguous" => "positions run 1, 2, … n without gaps or repeats",
            "duplicatedEvent" => "no event is stored twice",
            "lostEvent" => "every acknowledged event is at the position it was acknowledged at",
            "failedAppendVisible" => "a failed append changes nothing",
            "phantomRead" => "every event read is in the stream where it was read",
            "unexpectedFailure" => "every failure is a typed, expected outcome",
            "readModelDiverged" => "every read model is the fold of its stream's events",
            "archiveIncomplete" => "an archived stream is complete in the archive",
            "segmentsDoNotTile" => "the segments of a stream tile its positions",
            _ => "unknown invariant",
        }
    }
}

/// The one document that holds `stream`'s events, from every document naming it: its
/// segments joined, the archive copy of an archived stream, or its only document.
fn the_stream(stream: &str, layout: crate::Layout, mut docs: Vec<bson::Document>) -> Result<bson::Document, Violation> {
    use crate::layout::{document_position, Seal, SEGMENT};
    if docs.iter().any(|d| d.contains_key(SEGMENT)) {
        let segments = docs.len();
        return crate::ops::join_segments(layout, docs)
            .ok_or(Violation::SegmentsDoNotTile { stream: stream.to_owned(), segments });
    }
    let (tombstones, mut full): (Vec<_>, Vec<_>) = docs.drain(..).partition(|d| Seal::of(d).archived);
    full.dedup();
    match (tombstones.as_slice(), full.len()) {
        ([], 1) => Ok(full.remove(0)),
        ([tombstone], 1) if document_position(tombstone) == document_position(&full[0]) => Ok(full.remove(0)),
        ([tombstone], copies) => Err(Violation::ArchiveIncomplete {
            stream: stream.to_owned(),
            position: document_position(tombstone).unwrap_or(0),
            copies,
        }),
        (t, n) => Err(Violation::DuplicateDocuments { stream: stream.to_owned(), count: t.len() + n }),
    }
}

/// Checks every invariant against the simulation's engine and outcomes (the stored
/// documents as the simulation's [design](crate::sim::Design) keeps streams).
pub fn check<E: StoredDocuments>(sim: &Simulation<E>) -> Vec<Violation> {
    let documents = sim.options().design.stream_documents(sim.config(), sim.executor().stored_documents());
    check_state(sim.config(), documents, sim.outcomes())
}

/// Checks every invariant of `outcomes` against `documents`, every document a store
/// holds (e.g. [`StoredDocuments::stored_documents`], or a server's collections).
pub fn check_state(config: &StoreConfig, documents: Vec<bson::Document>, outcomes: &[Outcome]) -> Vec<Violation> {
    let layout = config.layout;
    let mut violations = Vec::new();
    let mut streams: BTreeMap<String, Vec<bson::Document>> = BTreeMap::new();
    for doc in documents {
        if let Ok(name) = doc.get_str(STREAM_NAME) {
            streams.entry(name.to_owned()).or_default().push(doc);
        }
    }
    // stream -> position -> event id
    let mut stored: BTreeMap<String, BTreeMap<u64, String>> = BTreeMap::new();
    for (stream, docs) in streams {
        let stream = &stream;
        let first = docs.first().cloned();
        let docs = match the_stream(stream, layout, docs) {
            Ok(doc) => vec![doc],
            Err(violation @ Violation::DuplicateDocuments { .. }) => {
                violations.push(violation);
                first.into_iter().collect()
            }
            Err(violation) => {
                violations.push(violation);
                continue;
            }
        };
        if let Some(doc) = docs.first() {
            for (projection, reason) in crate::projection::fold::diverged(config, stream, doc) {
                violations.push(Violation::ReadModelDiverged { stream: stream.clone(), projection, reason });
            }
        }
        let read = match ReadResult::from_document(stream, layout, docs.into_iter().next()) {
            Ok(r) => r,
            Err(e) => {
                violations.push(Violation::Malformed { stream: stream.clone(), reason: e.to_string() });
                continue;
            }
        };
        let positions: Vec<u64> = read.events.iter().map(|e| e.metadata.stream_position).collect();
        let expected: Vec<u64> = (1..=read.current_stream_version).collect();
        if positions != expected {
            violations.push(Violation::PositionsNotContiguous {
                stream: stream.clone(),
                position: read.current_stream_version,
                found: positions,
            });
        }
        let by_position = stored.entry(stream.clone()).or_default();
        let mut seen = std::collections::BTreeSet::new();
        for e in &read.events {
            if !seen.insert(e.metadata.event_id.clone()) {
                violations
                    .push(Violation::DuplicatedEvent { stream: stream.clone(), event_id: e.metadata.event_id.clone() });
            }
            by_position.insert(e.metadata.stream_position, e.metadata.event_id.clone());
        }
    }
    let empty = BTreeMap::new();
    for o in outcomes {
        let stream = o.spec.stream();
        let held = stored.get(stream).unwrap_or(&empty);
        match (&o.spec, &o.result) {
            (OpSpec::Append { .. }, Ok(OpOutput::Append(r))) => {
                let first = r.next_expected_stream_version + 1 - o.event_ids.len() as u64;
                for (i, id) in o.event_ids.iter().enumerate() {
                    let position = first + i as u64;
                    if held.get(&position) != Some(id) {
                        violations.push(Violation::LostEvent {
                            stream: stream.to_owned(),
                            event_id: id.clone(),
                            position,
                        });
                    }
                }
            }
            (OpSpec::Append { .. }, Err(e)) if !e.outcome_unknown() => {
                for id in &o.event_ids {
                    if held.values().any(|h| h == id) {
                        violations
                            .push(Violation::FailedAppendVisible { stream: stream.to_owned(), event_id: id.clone() });
                    }
                }
            }
            (_, Ok(OpOutput::Read(r))) => {
                for e in &r.events {
                    if held.get(&e.metadata.stream_position) != Some(&e.metadata.event_id) {
                        violations.push(Violation::PhantomRead {
                            stream: stream.to_owned(),
                            event_id: e.metadata.event_id.clone(),
                            position: e.metadata.stream_position,
                        });
                    }
                }
            }
            _ => {}
        }
        if let Err(e) = &o.result {
            if !e.is_expected_outcome() {
                violations.push(Violation::UnexpectedFailure {
                    client: o.client,
                    op_index: o.op_index,
                    error: e.to_string(),
                });
            }
        }
    }
    violations
}
