//! A counterexample told in events and positions.

use std::collections::BTreeMap;

use crate::layout::STREAM_NAME;
use crate::ops::{OpOutput, ReadResult};
use crate::sim::{Design, Simulation, StoredDocuments, Violation};

/// Explains `violation` in a sentence or two, from `sim` after the run that produced it
/// (e.g. a counterexample's [`Path`](crate::sim::Path) replayed with
/// [`Simulation::run_path`]): who wrote what where, and why the design let it happen.
///
/// ```
/// use bson::doc;
/// use streamdoc_core::sim::{explain, explore, ClientScript, Design, SimOptions, Simulation};
/// use streamdoc_core::{Engine, ExpectedVersion, NewEvent, OpSpec, StoreConfig};
///
/// let racer = |name: &str| ClientScript {
///     name: name.into(),
///     ops: vec![OpSpec::Append {
///         stream: "order:1".into(),
///         events: vec![NewEvent::new("Placed", doc! {})],
///         expected: ExpectedVersion::NoStream,
///     }],
/// };
/// let options = SimOptions { design: Design::NoUniqueIndex, ..SimOptions::default() };
/// let sim = Simulation::configured(Engine::new(0), StoreConfig::new("app"), vec![racer("a"), racer("b")], options)?;
/// let found = explore(&sim, 100).invariants["duplicateDocuments"].shortest.clone().unwrap();
/// let mut replay = sim.clone();
/// replay.run_path(&found.path).unwrap();
/// let sentence = explain(&replay, &found.violation);
/// assert!(sentence.starts_with("2 documents hold order:1"), "{sentence}");
/// assert!(sentence.contains("no unique index"), "{sentence}");
/// # Ok::<(), streamdoc_core::Error>(())
/// ```
pub fn explain<E: StoredDocuments>(sim: &Simulation<E>, violation: &Violation) -> String {
    let names = sim.client_names();
    let name = |client: usize| names.get(client).cloned().unwrap_or_else(|| format!("client {client}"));
    let author = |id: &str| -> String {
        sim.outcomes()
            .iter()
            .find(|o| o.event_ids.iter().any(|e| e == id))
            .map_or_else(|| format!("event {id}"), |o| format!("{}'s event {id}", name(o.client)))
    };
    let held = held_events(sim);
    let positions_of = |stream: &str, id: &str| -> Vec<u64> {
        held.get(stream)
            .map(|events| events.iter().filter(|(_, e)| e == id).map(|(p, _)| *p).collect())
            .unwrap_or_default()
    };
    let what = match violation {
        Violation::DuplicateDocuments { stream, count } => {
            let creators: Vec<String> = sim
                .outcomes()
                .iter()
                .filter(|o| o.spec.stream() == stream)
                .filter(|o| matches!(&o.result, Ok(OpOutput::Append(a)) if a.created_new_stream))
                .map(|o| format!("{}'s", name(o.client)))
                .collect();
            format!("{count} documents hold {stream}: {} append each created one", join(&creators))
        }
        Violation::Malformed { stream, reason } => format!("the document of {stream} is malformed ({reason})"),
        Violation::PositionsNotContiguous { stream, position, found } => {
            let mut at: BTreeMap<u64, Vec<String>> = BTreeMap::new();
            for (p, id) in held.get(stream).into_iter().flatten() {
                at.entry(*p).or_default().push(author(id));
            }
            let repeated: Vec<String> = at
                .iter()
                .filter(|(_, ids)| ids.len() > 1)
                .map(|(p, ids)| format!("position {p} holds both {}", join(ids)))
                .collect();
            let found = found.iter().map(u64::to_string).collect::<Vec<_>>().join(", ");
            let detail = if repeated.is_empty() { String::new() } else { format!(": {}", repeated.join("; ")) };
            format!("{stream} says it is at position {position}, but its events are at positions [{found}]{detail}")
        }
        Violation::DuplicatedEvent { stream, event_id } => {
            let at = positions_of(stream, event_id).iter().map(u64::to_string).collect::<Vec<_>>();
            format!("{} is stored twice in {stream}, at positions {}", author(event_id), join(&at))
        }
        Violation::LostEvent { stream, event_id, position } => {
            let client = author(event_id).replace("'s event", "'s append of");
            let others: Vec<String> = held
                .get(stream)
                .into_iter()
                .flatten()
                .filter(|(p, id)| p == position && id != event_id)
                .map(|(_, id)| author(id))
                .collect();
            let holder = if others.is_empty() { "nothing else".to_owned() } else { join(&others) };
            format!(
                "{client} was acknowledged at position {position} of {stream}, but position {position} holds {holder}"
            )
        }
        Violation::FailedAppendVisible { stream, event_id } => {
            let failure = sim
                .outcomes()
                .iter()
                .find(|o| o.event_ids.iter().any(|e| e == event_id))
                .and_then(|o| o.result.as_ref().err())
                .map_or_else(|| "a failure".to_owned(), |e| format!("\"{e}\""));
            let at = positions_of(stream, event_id).iter().map(u64::to_string).collect::<Vec<_>>();
            format!("{} was reported as {failure}, yet it is in {stream} at position {}", author(event_id), join(&at))
        }
        Violation::ReadModelDiverged { stream, projection, reason } => {
            format!("the read model {projection} of {stream} disagrees with its events: {reason}")
        }
        Violation::ArchiveIncomplete { stream, position, copies } => {
            format!("{stream} was archived at position {position}, but {copies} complete copies of it exist")
        }
        Violation::SegmentsDoNotTile { stream, segments } => {
            format!("the {segments} segments of {stream} leave a gap, overlap, or skip a number")
        }
        Violation::PhantomRead { stream, event_id, position } => {
            format!(
                "a read of {stream} returned {} at position {position}, which the stream does not hold there",
                author(event_id)
            )
        }
        Violation::UnexpectedFailure { client, op_index, error } => {
            format!("{}'s operation {op_index} failed with an error no correct store reports: {error}", name(*client))
        }
    };
    let design = sim.options().design;
    if design == Design::Streamdoc {
        format!("{what}. streamdoc's design should never allow this: it is a bug.")
    } else {
        format!("{what}, because {}.", design.info().because)
    }
}

/// Stream name → (position, event id) of every stored event, in stored order.
fn held_events<E: StoredDocuments>(sim: &Simulation<E>) -> BTreeMap<String, Vec<(u64, String)>> {
    let config = sim.config();
    let documents = sim.options().design.stream_documents(config, sim.executor().stored_documents());
    let mut held: BTreeMap<String, Vec<(u64, String)>> = BTreeMap::new();
    for doc in documents {
        let Ok(stream) = doc.get_str(STREAM_NAME).map(str::to_owned) else { continue };
        if let Ok(read) = ReadResult::from_document(&stream, config.layout, Some(doc)) {
            let events = read.events.into_iter().map(|e| (e.metadata.stream_position, e.metadata.event_id));
            held.entry(stream).or_default().extend(events);
        }
    }
    held
}

/// `a`, `a and b`, `a, b and c`.
fn join(items: &[String]) -> String {
    match items {
        [] => "no".to_owned(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
