//! Closing the books: archiving a stream and starting its successor with a summary.

use std::fmt;
use std::sync::Arc;

use bson::{doc, DateTime};
use serde::{Deserialize, Serialize};

use crate::command::{Command, Namespace, Reply};
use crate::error::Error;
use crate::event::NewEvent;
use crate::expected::ExpectedVersion;
use crate::ids::SeededIds;
use crate::layout::{document_position, predecessor_link, Seal, StoreConfig, STREAM_POSITION_PATH};
use crate::name::StreamName;
use crate::ops::archive::{Archive, ArchiveResult};
use crate::ops::cache::StoreCache;
use crate::ops::fetch::stream_filter;
use crate::ops::outbox::{unexpected, Outbox};
use crate::ops::{Append, AppendResult, Operation, ReadResult, Step};

/// A summary computed from the closed stream's final state (all its events).
pub type SummaryFn = Arc<dyn Fn(&ReadResult) -> Result<NewEvent, Error> + Send + Sync>;

/// The first event of the successor stream.
// Built once per close: boxing the event would only complicate the API.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Summary {
    /// This event, as given.
    Event(NewEvent),
    /// The event this function computes from the stream as it is closed.
    Computed(SummaryFn),
}

impl fmt::Debug for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Summary::Event(e) => f.debug_tuple("Event").field(e).finish(),
            Summary::Computed(_) => f.write_str("Computed(..)"),
        }
    }
}

/// The result of closing the books.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseResult {
    /// The position the closed stream was archived at.
    pub closed_at: u64,
    /// The successor stream.
    pub successor: String,
    /// The successor's position after its summary event: its expected version.
    pub next_expected_stream_version: u64,
}

// The sub-operations are held one at a time.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
enum State {
    /// Reading the stream as it is.
    Reading,
    /// Reading the archive copy of a stream an earlier run closed (for its summary).
    ReadingArchive,
    /// Checking that the successor does not exist yet.
    CheckingSuccessor,
    Archiving(Archive),
    Appending(Append),
    Finished,
}

/// The close-the-books operation: the standard answer to a stream nearing the 16 MiB
/// limit, or to a period that ends (a cashier's shift, a fiscal year).
///
/// 1. [`Command::FindOne`] of the whole stream; the summary is computed from it;
/// 2. [`Command::FindOne`] of the successor, which must not exist;
/// 3. the steps of [`Archive`] at the position read, with `metadata.successor` set by the
///    seal (a racing append makes it start again, for `Any`, or fail with the conflict);
/// 4. an append of the summary to the successor with `NoStream`, whose
///    `$setOnInsert` writes `metadata.predecessor: { streamName, streamPosition }`.
///
/// A summary given without an id gets `closed:{stream}@{position}`, so a run repeated
/// after a crash at any step finds its own summary and reports the same result. About
/// seven round trips on collections already indexed.
///
/// ```
/// use bson::doc;
/// use streamdoc_core::ops::Summary;
/// use streamdoc_core::{EventStore, ExpectedVersion, NewEvent, ReadRange};
///
/// let mut store = EventStore::in_memory();
/// for amount in [5, 7] {
///     let sale = NewEvent::new("Sold", doc! { "amount": amount });
///     store.append_to_stream("shift:1", vec![sale], ExpectedVersion::Any)?;
/// }
/// let summary = Summary::Computed(std::sync::Arc::new(|read| {
///     let total: i32 = read.events.iter().map(|e| e.data.get_i32("amount").unwrap_or(0)).sum();
///     Ok(NewEvent::new("ShiftOpened", doc! { "carriedOver": total }))
/// }));
/// let closed = store.close_stream("shift:1", ExpectedVersion::Exact(2), "shift:2", summary)?;
/// assert_eq!((closed.closed_at, closed.next_expected_stream_version), (2, 1));
/// let next = store.read_stream("shift:2", ReadRange::all())?;
/// assert_eq!(next.events[0].data, doc! { "carriedOver": 12 });
/// let status = store.stream_status("shift:2")?;
/// assert_eq!(status.predecessor.unwrap().stream_name, "shift:1");
/// # Ok::<(), streamdoc_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CloseStream {
    config: StoreConfig,
    cache: StoreCache,
    stream: StreamName,
    successor: StreamName,
    live: Namespace,
    archive: Namespace,
    successor_ns: Namespace,
    expected: ExpectedVersion,
    summary: Summary,
    now: DateTime,
    attempts: u32,
    /// The position the stream is closed at, once read.
    closed_at: u64,
    /// The successor's append, once its summary is computed, until it runs.
    successor_append: Option<Append>,
    state: State,
    outbox: Outbox<CloseResult>,
}

impl CloseStream {
    /// Prepares the operation; invalid input is returned by the first `next()`.
    pub(crate) fn new(
        config: &StoreConfig,
        cache: &StoreCache,
        stream: StreamName,
        successor: StreamName,
        expected: ExpectedVersion,
        summary: Summary,
        now: DateTime,
    ) -> Self {
        let namespaces = (|| {
            if successor == stream {
                return Err(Error::Misuse { message: format!("{stream} cannot be closed into itself") });
            }
            if config.segmented() {
                return Err(Error::InvalidConfig(crate::layout::ConfigError::Unsupported {
                    option: "segments".into(),
                    why: "segmented streams cannot be archived yet".into(),
                }));
            }
            Ok((config.namespace(&stream)?, config.archive_namespace(&stream)?, config.namespace(&successor)?))
        })();
        let empty = || Namespace::new("", "");
        let mut op = Self {
            config: config.clone(),
            cache: cache.clone(),
            stream,
            successor,
            live: empty(),
            archive: empty(),
            successor_ns: empty(),
            expected,
            summary,
            now,
            attempts: 0,
            closed_at: 0,
            successor_append: None,
            state: State::Finished,
            outbox: Outbox::Finished,
        };
        match namespaces {
            Ok((live, archive, successor_ns)) => {
                (op.live, op.archive, op.successor_ns) = (live, archive, successor_ns);
                op.read();
            }
            Err(e) => op.outbox.finish(Err(e)),
        }
        op
    }

    fn read(&mut self) {
        self.attempts += 1;
        self.state = State::Reading;
        self.outbox.send(Command::FindOne {
            ns: self.live.clone(),
            filter: stream_filter(&self.stream),
            projection: None,
        });
    }

    fn conflict(&mut self, stream: &StreamName, expected: ExpectedVersion, actual: Option<u64>) {
        let stream = stream.as_str().to_owned();
        self.finish(Err(Error::ConcurrencyConflict { stream, expected, actual }));
    }

    fn on_stream(&mut self, doc: Option<bson::Document>) {
        let Some(doc) = doc else { return self.conflict(&self.stream.clone(), self.expected, None) };
        let seal = Seal::of(&doc);
        let position = document_position(&doc).unwrap_or(0);
        let ours = seal.successor.as_deref() == Some(self.successor.as_str());
        if seal.sealed && !ours {
            let stream = self.stream.as_str().to_owned();
            return self.finish(Err(Error::StreamArchived { stream, position, successor: seal.successor }));
        }
        if !self.expected.accepts(true, position) {
            return self.conflict(&self.stream.clone(), self.expected, Some(position));
        }
        if seal.archived {
            // An earlier run archived it: its summary is computed from the archive copy.
            self.state = State::ReadingArchive;
            let filter = stream_filter(&self.stream);
            return self.outbox.send(Command::FindOne { ns: self.archive.clone(), filter, projection: None });
        }
        if let Err(e) = self.prepare_successor(position, doc) {
            return self.finish(Err(e));
        }
        if seal.sealed {
            // An earlier run sealed it for this successor: finish that run.
            return self.archive_at(position);
        }
        self.state = State::CheckingSuccessor;
        let filter = stream_filter(&self.successor);
        let projection = Some(doc! { "_id": 1, STREAM_POSITION_PATH: 1 });
        self.outbox.send(Command::FindOne { ns: self.successor_ns.clone(), filter, projection });
    }

    /// Computes the summary from the stream at `position` and prepares its append.
    fn prepare_successor(&mut self, position: u64, doc: bson::Document) -> Result<(), Error> {
        let read = ReadResult::from_document(self.stream.as_str(), self.config.layout, Some(doc))?;
        let mut summary = match &self.summary {
            Summary::Event(event) => event.clone(),
            Summary::Computed(f) => f(&read)?,
        };
        if summary.id.is_none() {
            summary.id = Some(format!("closed:{}@{position}", self.stream));
        }
        let append = Append::new(
            &self.config,
            &self.cache,
            self.successor.clone(),
            vec![summary],
            ExpectedVersion::NoStream,
            self.now,
            &SeededIds::new(0),
        )
        .with_predecessor(predecessor_link(self.stream.as_str(), position));
        if let Some(e) = append.invalid() {
            return Err(e);
        }
        self.closed_at = position;
        self.successor_append = Some(append);
        Ok(())
    }

    fn archive_at(&mut self, position: u64) {
        let archive = Archive::new(
            &self.config,
            &self.cache,
            self.stream.clone(),
            ExpectedVersion::Exact(position),
            Some(self.successor.as_str().to_owned()),
            self.now,
        );
        self.state = State::Archiving(archive);
        self.poll();
    }

    /// Hands out the running sub-operation's next command, or moves on when it is done.
    fn poll(&mut self) {
        match &mut self.state {
            State::Archiving(archive) => match archive.next() {
                Step::Send(cmd) => self.outbox.send(cmd),
                Step::Done(Ok(ArchiveResult { .. })) => match self.successor_append.take() {
                    Some(append) => {
                        self.state = State::Appending(append);
                        self.poll();
                    }
                    None => self.finish(Err(Error::Misuse { message: "no summary was prepared".into() })),
                },
                Step::Done(Err(Error::ConcurrencyConflict { .. }))
                    if self.expected.exact_position().is_none() && self.attempts < self.config.max_attempts =>
                {
                    // An append landed between the read and the seal: start over.
                    self.successor_append = None;
                    self.read();
                }
                Step::Done(Err(e)) => self.finish(Err(e)),
            },
            State::Appending(append) => match append.next() {
                Step::Send(cmd) => self.outbox.send(cmd),
                Step::Done(result) => {
                    let closed_at = self.closed_at;
                    let successor = self.successor.as_str().to_owned();
                    let result = result.map(|r: AppendResult| CloseResult {
                        closed_at,
                        successor,
                        next_expected_stream_version: r.next_expected_stream_version,
                    });
                    self.finish(result);
                }
            },
            _ => {}
        }
    }

    fn finish(&mut self, result: Result<CloseResult, Error>) {
        self.state = State::Finished;
        self.outbox.finish(result);
    }
}

impl Operation for CloseStream {
    type Output = CloseResult;

    fn next(&mut self) -> Step<Result<CloseResult, Error>> {
        self.outbox.next()
    }

    fn feed(&mut self, reply: Reply) {
        if !self.outbox.accept_reply() {
            return;
        }
        let step = self.describe_step();
        match (&mut self.state, reply) {
            (State::Archiving(op), reply) => {
                op.feed(reply);
                self.poll();
            }
            (State::Appending(op), reply) => {
                op.feed(reply);
                self.poll();
            }
            (State::Reading, Reply::Found(doc)) => self.on_stream(doc),
            (State::ReadingArchive, Reply::Found(Some(doc))) => {
                let position = document_position(&doc).unwrap_or(0);
                match self.prepare_successor(position, doc) {
                    Ok(()) => self.archive_at(position),
                    Err(e) => self.finish(Err(e)),
                }
            }
            (State::ReadingArchive, Reply::Found(None)) => {
                let stream = self.stream.as_str().to_owned();
                let reason = "archived, but not in the archive collection".into();
                self.finish(Err(Error::CorruptDocument { stream, reason }));
            }
            (State::CheckingSuccessor, Reply::Found(None)) => {
                self.archive_at(self.closed_at);
            }
            (State::CheckingSuccessor, Reply::Found(Some(doc))) => {
                let successor = self.successor.clone();
                self.conflict(&successor, ExpectedVersion::NoStream, document_position(&doc));
            }
            (_, Reply::ServerError { code, message }) => self.finish(Err(Error::Server { code, message })),
            (_, reply) => {
                let e = unexpected(step, &reply);
                self.finish(Err(e));
            }
        }
    }

    fn describe_step(&self) -> &'static str {
        match &self.state {
            State::Reading => "reading the stream to close",
            State::ReadingArchive => "reading the closed stream from the archive",
            State::CheckingSuccessor => "checking that the successor does not exist",
            State::Archiving(op) => op.describe_step(),
            State::Appending(op) => op.describe_step(),
            State::Finished => "finished",
        }
    }
}
