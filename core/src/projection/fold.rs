//! Folding an append's events into the read models of its stream: what the append and
//! the rebuild add to their conditional update.

use bson::{Bson, Document};

use super::cache::{ReadModelCache, States};
use super::definition::InlineProjection;
use super::read_model::{path, state_of, stored, stored_in, ReadModelMetadata, READ_MODEL_METADATA};
use crate::error::Error;
use crate::event::RecordedEvent;
use crate::layout::{Layout, StoreConfig};
use crate::name::StreamName;

/// The projections of one stream and, once known, their states at the position the
/// operation writes at.
#[derive(Debug, Clone)]
pub(crate) struct Inline {
    projections: Vec<InlineProjection>,
    /// The states at the base position, by projection (in `projections`' order).
    states: Option<Vec<Option<Document>>>,
    /// Projections whose stored read model must be rewritten whatever the events are
    /// (it was written under another schema version, or is being rebuilt).
    stale: Vec<bool>,
}

/// What folding produced: the fields to `$set` and to `$unset`, and the states after.
#[derive(Debug, Clone, Default)]
pub(crate) struct Evolved {
    pub(crate) set: Document,
    pub(crate) unset: Document,
    pub(crate) states: States,
}

impl Inline {
    /// The projections of `stream`, `None` when it has none (the append is then exactly
    /// what it is without projections).
    pub(crate) fn for_stream(config: &StoreConfig, stream: &StreamName) -> Option<Self> {
        Self::of(config.projections_for(stream.stream_type()).cloned().collect())
    }

    /// `projections`, `None` when empty.
    pub(crate) fn of(projections: Vec<InlineProjection>) -> Option<Self> {
        if projections.is_empty() {
            return None;
        }
        let stale = vec![false; projections.len()];
        Some(Self { projections, states: None, stale })
    }

    /// The projection fields a read must include: `{ "projections.<name>": 1, ... }`.
    pub(crate) fn fields(&self) -> impl Iterator<Item = String> + '_ {
        self.projections.iter().map(|p| path(p.name()))
    }

    /// The projections.
    pub(crate) fn projections(&self) -> &[InlineProjection] {
        &self.projections
    }

    /// The stream does not exist: every projection starts from its initial state.
    pub(crate) fn fresh(&mut self) {
        self.states = Some(vec![None; self.projections.len()]);
        self.stale.fill(false);
    }

    /// The states `cache` remembers for `stream` at `position`; false when it has none.
    pub(crate) fn load_cached(&mut self, cache: &ReadModelCache, stream: &str, position: u64) -> bool {
        let Some(remembered) = cache.at(stream, position) else { return false };
        let states: Option<Vec<Option<Document>>> = self
            .projections
            .iter()
            .map(|p| remembered.iter().find(|(name, _)| name == p.name()).map(|(_, s)| s.clone()))
            .collect();
        self.stale.fill(false);
        self.states = states;
        self.states.is_some()
    }

    /// Loads the states from a stream document holding `projections.<name>`; false when
    /// some read model cannot be trusted and the stream's events must be refolded
    /// ([`Inline::refold`]): it was written under another schema version, or it is absent
    /// from a stream that has events (never built, deleted, or no handled event yet: only
    /// the events tell which).
    pub(crate) fn load(&mut self, doc: &Document) -> bool {
        let has_events = crate::layout::document_position(doc).is_some_and(|p| p > 0);
        let mut states = Vec::with_capacity(self.projections.len());
        for (i, p) in self.projections.iter().enumerate() {
            let model = stored_in(doc, p.name());
            let version = model
                .and_then(|m| m.get_document(READ_MODEL_METADATA).ok())
                .and_then(ReadModelMetadata::from_document)
                .map(|m| m.schema_version);
            self.stale[i] = match model {
                Some(_) => version != Some(p.schema_version()),
                None => has_events,
            };
            states.push(model.map(state_of));
        }
        self.states = Some(states);
        !self.stale.contains(&true)
    }

    /// Folds every event of a whole stream document from scratch into the projections
    /// marked stale (every projection when `all`), which are then rewritten.
    pub(crate) fn refold(&mut self, stream: &str, layout: Layout, doc: &Document, all: bool) -> Result<(), Error> {
        if all {
            self.stale.fill(true);
        }
        let events = match doc.get(layout.events_field()) {
            Some(Bson::Array(items)) => items
                .iter()
                .map(|item| layout.decode_event(stream, item))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|reason| Error::CorruptDocument { stream: stream.to_owned(), reason })?,
            _ => Vec::new(),
        };
        let mut states = self.states.take().unwrap_or_else(|| vec![None; self.projections.len()]);
        for (i, p) in self.projections.iter().enumerate() {
            if !self.stale[i] {
                continue;
            }
            let mut state = None;
            for event in events.iter().filter(|e| p.handles(&e.event_type)) {
                state = evolve(p, stream, state, event)?;
            }
            states[i] = state;
        }
        self.states = Some(states);
        Ok(())
    }

    /// Folds `events` (the append's, as recorded) into the states; the read models of
    /// projections they touch (or that are stale) are written with `position`, the
    /// stream's position after the write.
    pub(crate) fn evolve(
        &self,
        stream: &StreamName,
        events: &[RecordedEvent],
        position: u64,
    ) -> Result<Evolved, Error> {
        let mut out = Evolved::default();
        let states = self.states.clone().unwrap_or_else(|| vec![None; self.projections.len()]);
        for ((p, mut state), stale) in self.projections.iter().zip(states).zip(&self.stale) {
            let mut touched = *stale;
            for event in events.iter().filter(|e| p.handles(&e.event_type)) {
                state = evolve(p, stream.as_str(), state, event)?;
                touched = true;
            }
            if touched {
                match &state {
                    Some(s) => {
                        let metadata = ReadModelMetadata {
                            stream_id: stream.stream_id().to_owned(),
                            name: p.name().to_owned(),
                            schema_version: p.schema_version(),
                            stream_position: position,
                        };
                        out.set.insert(path(p.name()), stored(s, &metadata));
                    }
                    None => {
                        out.unset.insert(path(p.name()), "");
                    }
                }
            }
            out.states.push((p.name().to_owned(), state));
        }
        Ok(out)
    }
}

/// The `createIndexes` commands of `projections`' declared indexes, keys prefixed, named
/// as MongoDB names them by default (`projections.p.status_1`).
pub(crate) fn index_commands(projections: &[InlineProjection], ns: &crate::Namespace) -> Vec<crate::Command> {
    let mut out = Vec::new();
    for p in projections {
        for keys in p.indexes() {
            let mut prefixed = Document::new();
            let mut name = Vec::new();
            for (key, direction) in keys {
                let key = format!("{}.{key}", path(p.name()));
                name.push(format!("{key}_{}", direction.as_i32().unwrap_or(1)));
                prefixed.insert(key, direction.clone());
            }
            out.push(crate::Command::CreateIndex {
                ns: ns.clone(),
                keys: prefixed,
                name: name.join("_"),
                unique: false,
            });
        }
    }
    out
}

fn evolve(
    p: &InlineProjection,
    stream: &str,
    state: Option<Document>,
    event: &RecordedEvent,
) -> Result<Option<Document>, Error> {
    let state = p.evolve(state, event).map_err(|e| Error::Projection {
        stream: stream.to_owned(),
        projection: p.name().to_owned(),
        message: e.0,
    })?;
    match state {
        Some(s) if crate::limits::deeper_than(&s, crate::limits::MAX_VALUE_DEPTH) => Err(Error::Projection {
            stream: stream.to_owned(),
            projection: p.name().to_owned(),
            message: format!("the state nests deeper than {} levels", crate::limits::MAX_VALUE_DEPTH),
        }),
        other => Ok(other),
    }
}

/// The read models of `doc` (the stream `stream`'s document) that are not the fold of
/// its events from scratch, with why: the simulator's invariant.
pub(crate) fn diverged(config: &StoreConfig, stream: &str, doc: &Document) -> Vec<(String, String)> {
    let Ok(name) = config.stream_name(stream) else { return Vec::new() };
    let Some(mut inline) = Inline::for_stream(config, &name) else { return Vec::new() };
    let mut out = Vec::new();
    if let Err(e) = inline.refold(stream, config.layout, doc, true) {
        out.push((String::new(), format!("the events do not fold: {e}")));
        return out;
    }
    let folded = inline.states.unwrap_or_default();
    for (p, expected) in inline.projections.iter().zip(folded) {
        let model = stored_in(doc, p.name());
        let actual = model.map(state_of);
        if actual != expected {
            let show = |s: &Option<Document>| s.as_ref().map_or("none".to_owned(), |d| d.to_string());
            out.push((p.name().to_owned(), format!("stored {}, folded {}", show(&actual), show(&expected))));
            continue;
        }
        let version = model
            .and_then(|m| m.get_document(READ_MODEL_METADATA).ok())
            .and_then(ReadModelMetadata::from_document)
            .map(|m| m.schema_version);
        if model.is_some() && version != Some(p.schema_version()) {
            out.push((p.name().to_owned(), format!("schema version {version:?}, defined {}", p.schema_version())));
        }
    }
    out
}
