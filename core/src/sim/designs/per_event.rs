//! The design the seed article rejects: one document per event
//! (`{ streamName, type, data, metadata: { streamPosition, ... } }`), the next position
//! chosen by reading the stream event by event, then one insert per event, with no
//! transaction between the read and the inserts and nothing unique about a position.

use std::collections::BTreeMap;

use bson::{doc, Bson, DateTime, Document};

use crate::command::{Command, Namespace, Reply};
use crate::error::Error;
use crate::event::PreparedEvent;
use crate::expected::ExpectedVersion;
use crate::layout::{position_from_bson, position_to_bson, Layout, StoreConfig, METADATA, STREAM_NAME};
use crate::name::StreamName;
use crate::ops::outbox::{unexpected, Outbox};
use crate::ops::{AnyOp, AppendResult, OpOutput, OpSpec, Operation, ReadRange, ReadResult, Step};

const POSITION: &str = "streamPosition";

#[derive(Debug, Clone)]
enum Kind {
    Append { expected: ExpectedVersion, events: Vec<PreparedEvent>, now: DateTime },
    Read(ReadRange),
    Exists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Reading the event at this position.
    Probing(u64),
    /// Inserting the event of this index, the stream having been at `base`.
    Inserting {
        index: usize,
        base: u64,
    },
    Finished,
}

/// See the [module documentation](self).
#[derive(Debug, Clone)]
pub(crate) struct PerEvent {
    kind: Kind,
    target: Option<(Namespace, StreamName)>,
    layout: Layout,
    found: Vec<Document>,
    state: State,
    outbox: Outbox<OpOutput>,
    /// The production operation, when the input was invalid: it reports why.
    invalid: Option<AnyOp>,
}

impl PerEvent {
    /// The operation for `spec`, built beside the production one (`op`), which has
    /// validated the input.
    pub(crate) fn new(config: &StoreConfig, spec: &OpSpec, op: &AnyOp) -> Self {
        let target = StreamName::parse(spec.stream()).ok().and_then(|s| Some((config.namespace(&s).ok()?, s)));
        let kind = match (spec, op) {
            (OpSpec::Append { expected, .. }, AnyOp::Append(append)) => {
                let (_, _, _, events, now) = append.parts();
                Kind::Append { expected: *expected, events: events.to_vec(), now }
            }
            (OpSpec::Read { range, .. }, _) => Kind::Read(*range),
            _ => Kind::Exists,
        };
        let valid = match (&kind, op) {
            (Kind::Append { .. }, AnyOp::Append(append)) => append.parts().0.is_some(),
            (Kind::Read(range), _) => range.positions().is_ok(),
            _ => true,
        };
        let mut per_event = Self {
            kind,
            target,
            layout: config.layout,
            found: Vec::new(),
            state: State::Finished,
            outbox: Outbox::Finished,
            invalid: None,
        };
        if valid && per_event.target.is_some() {
            per_event.probe(1);
        } else {
            per_event.invalid = Some(op.clone());
        }
        per_event
    }

    pub(crate) fn event_ids(&self) -> Vec<String> {
        match &self.kind {
            Kind::Append { events, .. } => events.iter().map(|e| e.id.clone()).collect(),
            _ => Vec::new(),
        }
    }

    fn probe(&mut self, position: u64) {
        let Some((ns, stream)) = &self.target else { return };
        self.state = State::Probing(position);
        self.outbox.send(Command::FindOne {
            ns: ns.clone(),
            filter: doc! { STREAM_NAME: { "$eq": stream.as_str() }, "metadata.streamPosition": position_to_bson(position) },
            projection: None,
        });
    }

    fn insert(&mut self, index: usize, base: u64) {
        let (Some((ns, stream)), Kind::Append { events, now, .. }) = (&self.target, &self.kind) else { return };
        let Some(event) = events.get(index) else {
            let next = base + events.len() as u64;
            let result = AppendResult { next_expected_stream_version: next, created_new_stream: base == 0 };
            return self.finish(Ok(OpOutput::Append(result)));
        };
        let mut document = doc! { STREAM_NAME: stream.as_str() };
        document.extend(self.layout.event_document(stream, event, base + 1 + index as u64, *now));
        self.state = State::Inserting { index, base };
        self.outbox.send(Command::InsertOne { ns: ns.clone(), document });
    }

    fn finish(&mut self, result: Result<OpOutput, Error>) {
        self.state = State::Finished;
        self.outbox.finish(result);
    }

    /// The read reached the end of the stream: `position` is its last event's.
    fn at_end(&mut self, position: u64) {
        let Some((_, stream)) = &self.target else { return };
        let stream = stream.as_str().to_owned();
        match &self.kind {
            Kind::Exists => self.finish(Ok(OpOutput::Exists { exists: position > 0 })),
            Kind::Read(range) => {
                let (first, last) = match range.positions() {
                    Ok(Some(bounds)) => bounds,
                    Ok(None) => (1, 0),
                    Err(e) => return self.finish(Err(e)),
                };
                let decoded: Result<Vec<_>, _> =
                    self.found.iter().map(|d| self.layout.decode_event(&stream, &Bson::Document(d.clone()))).collect();
                let result = decoded
                    .map(|events| {
                        let events = events
                            .into_iter()
                            .filter(|e| (first..=last).contains(&e.metadata.stream_position))
                            .collect();
                        OpOutput::Read(ReadResult {
                            current_stream_version: position,
                            stream_exists: position > 0,
                            events,
                        })
                    })
                    .map_err(|reason| Error::CorruptDocument { stream, reason });
                self.finish(result);
            }
            Kind::Append { expected, .. } => {
                let fits = match *expected {
                    ExpectedVersion::Any => true,
                    ExpectedVersion::NoStream => position == 0,
                    ExpectedVersion::StreamExists => position > 0,
                    ExpectedVersion::Exact(n) => position == n,
                };
                if fits {
                    self.insert(0, position);
                } else {
                    let (expected, actual) = (*expected, (position > 0).then_some(position));
                    self.finish(Err(Error::ConcurrencyConflict { stream, expected, actual }));
                }
            }
        }
    }
}

impl Operation for PerEvent {
    type Output = OpOutput;

    fn next(&mut self) -> Step<Result<OpOutput, Error>> {
        match &mut self.invalid {
            Some(op) => op.next(),
            None => self.outbox.next(),
        }
    }

    fn feed(&mut self, reply: Reply) {
        if let Some(op) = &mut self.invalid {
            return op.feed(reply);
        }
        if !self.outbox.accept_reply() {
            return;
        }
        match (self.state, reply) {
            (State::Probing(position), Reply::Found(Some(doc))) => {
                self.found.push(doc);
                self.probe(position + 1);
            }
            (State::Probing(position), Reply::Found(None)) => self.at_end(position - 1),
            (State::Inserting { index, base }, Reply::Inserted { .. }) => self.insert(index + 1, base),
            (_, Reply::ServerError { code, message }) => self.finish(Err(Error::Server { code, message })),
            (_, reply) => {
                let e = unexpected(self.describe_step(), &reply);
                self.finish(Err(e));
            }
        }
    }

    fn describe_step(&self) -> &'static str {
        match (&self.invalid, self.state) {
            (Some(op), _) => op.describe_step(),
            (None, State::Probing(_)) => "reading the stream event by event",
            (None, State::Inserting { .. }) => "inserting one event document (no transaction)",
            (None, State::Finished) => "finished",
        }
    }
}

/// One stream document per stream name, gathered from the event documents, in
/// position order (ties in insertion order), at the highest position stored.
pub(crate) fn gather(layout: Layout, documents: Vec<Document>) -> Vec<Document> {
    let mut streams: BTreeMap<String, Vec<(u64, Document)>> = BTreeMap::new();
    for mut d in documents {
        let Ok(name) = d.get_str(STREAM_NAME).map(str::to_owned) else { continue };
        let position = d.get_document(METADATA).ok().and_then(|m| m.get(POSITION)).and_then(position_from_bson);
        d.remove("_id");
        d.remove(STREAM_NAME);
        streams.entry(name).or_default().push((position.unwrap_or(0), d));
    }
    streams
        .into_iter()
        .map(|(name, mut events)| {
            events.sort_by_key(|(position, _)| *position);
            let last = events.last().map_or(0, |(position, _)| *position);
            let events: Vec<Bson> = events.into_iter().map(|(_, d)| Bson::Document(d)).collect();
            doc! { STREAM_NAME: name, layout.events_field(): events, METADATA: { POSITION: position_to_bson(last) } }
        })
        .collect()
}
