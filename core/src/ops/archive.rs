//! Archiving a stream: moving its document to the archive collection, safe against
//! racing appends and resumable after a crash at any step.

use bson::{doc, Bson, DateTime, Document};
use serde::{Deserialize, Serialize};

use crate::command::{codes, Command, Namespace, Reply};
use crate::error::Error;
use crate::expected::ExpectedVersion;
use crate::layout::{
    document_position, position_to_bson, ConfigError, Layout, Seal, StoreConfig, ARCHIVED_AT_PATH, SEALED_AT_PATH,
    STREAM_POSITION_PATH, SUCCESSOR_PATH,
};
use crate::name::StreamName;
use crate::ops::cache::{OpCache, StoreCache};
use crate::ops::fetch::stream_filter;
use crate::ops::index::create_index_command;
use crate::ops::outbox::{unexpected, Outbox};
use crate::ops::{Operation, Step};

/// The result of a successful archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchiveResult {
    /// The position of the archived stream's last event.
    pub stream_position: u64,
    /// The stream that continues it, when it was closed into one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    CreatingIndex,
    Sealing,
    Reading,
    Copying { position: u64 },
    Stripping { position: u64 },
    Finished,
}

/// The archive operation. Every step is one conditional command, and every step can be
/// repeated, so an archive interrupted anywhere (a lost reply, a crashed process) is
/// finished by running it again:
///
/// 1. [`Command::CreateIndex`]: the unique `streamName` index of the archive collection,
///    on its first use by this store;
/// 2. **seal**: [`Command::UpdateOne`] `$set`ting `metadata.sealedAt` on the live
///    document, filtered on not being sealed yet (and on the expected position, for
///    `Exact(n)`). Every append's filter excludes sealed documents, so an append racing
///    the archive either landed before the seal, and is archived with the stream, or
///    fails with [`Error::StreamArchived`];
/// 3. [`Command::FindOne`] of the sealed document;
/// 4. **copy**: [`Command::InsertOne`] of it, same `_id`, into the archive collection
///    (a duplicate key means an earlier run copied it: sealed documents never change);
/// 5. **strip**: [`Command::UpdateOne`] by `_id` that empties the events, removes the read models
///    and `$set`s `metadata.archivedAt`. The live document stays as a tombstone of a
///    few hundred bytes, so the name is never reused by mistake and an append learns in
///    one round trip that the stream is archived.
///
/// Four round trips (five on a collection's first use); a repeated archive of an
/// archived stream takes two and returns the same result.
///
/// ```
/// use bson::doc;
/// use streamdoc_core::{Error, EventStore, ExpectedVersion, NewEvent, ReadRange};
///
/// let mut store = EventStore::in_memory();
/// store.append_to_stream("order:1", vec![NewEvent::new("Placed", doc! {})], ExpectedVersion::NoStream)?;
/// let archived = store.archive_stream("order:1", ExpectedVersion::Exact(1))?;
/// assert_eq!(archived.stream_position, 1);
/// let late = store.append_to_stream("order:1", vec![NewEvent::new("Paid", doc! {})], ExpectedVersion::Exact(1));
/// assert!(matches!(late, Err(Error::StreamArchived { position: 1, .. })));
/// assert_eq!(store.read_archived_stream("order:1", ReadRange::all())?.events.len(), 1);
/// # Ok::<(), Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Archive {
    stream: StreamName,
    live: Namespace,
    archive: Namespace,
    layout: Layout,
    expected: ExpectedVersion,
    successor: Option<String>,
    now: DateTime,
    cache: OpCache,
    max_attempts: u32,
    attempts: u32,
    state: State,
    /// The `_id` of the sealed document being copied.
    pending_id: Option<Bson>,
    outbox: Outbox<ArchiveResult>,
}

impl Archive {
    /// Prepares an archive; invalid input is returned by the first `next()`.
    pub(crate) fn new(
        config: &StoreConfig,
        cache: &StoreCache,
        stream: StreamName,
        expected: ExpectedVersion,
        successor: Option<String>,
        now: DateTime,
    ) -> Self {
        let namespaces = if config.segmented() {
            Err(ConfigError::Unsupported {
                option: "segments".into(),
                why: "segmented streams cannot be archived yet".into(),
            })
        } else {
            config.namespace(&stream).and_then(|live| Ok((live, config.archive_namespace(&stream)?)))
        };
        let (live, archive, result) = match namespaces {
            Ok((live, archive)) => (live, archive, None),
            Err(e) => (Namespace::new("", ""), Namespace::new("", ""), Some(Err(e.into()))),
        };
        let mut op = Self {
            stream,
            live,
            archive,
            layout: config.layout,
            expected,
            successor,
            now,
            cache: OpCache(cache.clone()),
            max_attempts: config.max_attempts.max(1),
            attempts: 0,
            state: State::Finished,
            pending_id: None,
            outbox: Outbox::Finished,
        };
        match result {
            Some(result) => op.outbox.finish(result),
            None if op.cache.0.indexes.contains(&op.archive) => op.seal(),
            None => {
                op.state = State::CreatingIndex;
                op.outbox.send(create_index_command(&op.archive));
            }
        }
        op
    }

    fn seal(&mut self) {
        self.attempts += 1;
        let mut filter = stream_filter(&self.stream);
        filter.insert(SEALED_AT_PATH, doc! { "$exists": false });
        if let ExpectedVersion::Exact(n) = self.expected {
            filter.insert(STREAM_POSITION_PATH, position_to_bson(n));
        }
        let mut set = doc! { SEALED_AT_PATH: self.now };
        if let Some(successor) = &self.successor {
            set.insert(SUCCESSOR_PATH, successor.clone());
        }
        self.state = State::Sealing;
        self.outbox.send(Command::UpdateOne {
            ns: self.live.clone(),
            filter,
            update: doc! { "$set": set },
            upsert: false,
        });
    }

    fn on_document(&mut self, doc: Option<Document>) {
        let stream = self.stream.as_str().to_owned();
        let Some(doc) = doc else {
            return self.finish(Err(Error::ConcurrencyConflict { stream, expected: self.expected, actual: None }));
        };
        let Some(position) = document_position(&doc) else {
            let reason = "no integral metadata.streamPosition".into();
            return self.finish(Err(Error::CorruptDocument { stream, reason }));
        };
        let seal = Seal::of(&doc);
        if !seal.sealed {
            if !self.expected.accepts(true, position) {
                return self.finish(Err(Error::ConcurrencyConflict {
                    stream,
                    expected: self.expected,
                    actual: Some(position),
                }));
            }
            // Created or moved between the seal and the read: seal again.
            if self.attempts >= self.max_attempts {
                return self.finish(Err(Error::Contention { stream, attempts: self.attempts }));
            }
            return self.seal();
        }
        let sealed_as_asked = seal.successor == self.successor && self.expected.accepts(true, position);
        if !sealed_as_asked {
            return self.finish(Err(Error::StreamArchived { stream, position, successor: seal.successor }));
        }
        if seal.archived {
            return self.finish(Ok(ArchiveResult { stream_position: position, successor: seal.successor }));
        }
        self.state = State::Copying { position };
        self.pending_id = Some(doc.get("_id").cloned().unwrap_or(Bson::Null));
        self.outbox.send(Command::InsertOne { ns: self.archive.clone(), document: doc });
    }

    fn strip(&mut self, position: u64) {
        let id = self.pending_id.take().unwrap_or(Bson::Null);
        let filter = doc! { "_id": id, SEALED_AT_PATH: { "$exists": true } };
        // The events array is emptied rather than removed: a `$slice` of a missing field
        // makes mongo-java-server drop the connection (MongoDB answers without it).
        let update = doc! {
            "$set": { ARCHIVED_AT_PATH: self.now, self.layout.events_field(): [] },
            "$unset": { crate::projection::PROJECTIONS: "" },
        };
        self.state = State::Stripping { position };
        self.outbox.send(Command::UpdateOne { ns: self.live.clone(), filter, update, upsert: false });
    }

    fn finish(&mut self, result: Result<ArchiveResult, Error>) {
        self.cache.0.positions.forget(self.stream.as_str());
        self.cache.0.read_models.forget(self.stream.as_str());
        self.state = State::Finished;
        self.outbox.finish(result);
    }
}

impl Operation for Archive {
    type Output = ArchiveResult;

    fn next(&mut self) -> Step<Result<ArchiveResult, Error>> {
        self.outbox.next()
    }

    fn feed(&mut self, reply: Reply) {
        if !self.outbox.accept_reply() {
            return;
        }
        match (self.state, reply) {
            (State::CreatingIndex, Reply::Acknowledged) => {
                self.cache.0.indexes.insert(self.archive.clone());
                self.seal();
            }
            (State::Sealing, Reply::Updated { .. }) => {
                self.state = State::Reading;
                self.outbox.send(Command::FindOne {
                    ns: self.live.clone(),
                    filter: stream_filter(&self.stream),
                    projection: None,
                });
            }
            (State::Reading, Reply::Found(doc)) => self.on_document(doc),
            (State::Copying { position }, Reply::Inserted { .. } | Reply::DuplicateKey { .. }) => self.strip(position),
            (State::Copying { .. }, Reply::ServerError { code, .. }) if codes::is_document_too_large(code) => {
                self.finish(Err(Error::stream_too_large(self.stream.as_str())));
            }
            (State::Stripping { position }, Reply::Updated { .. }) => {
                let successor = self.successor.clone();
                self.finish(Ok(ArchiveResult { stream_position: position, successor }));
            }
            (_, Reply::ServerError { code, message }) => self.finish(Err(Error::Server { code, message })),
            (_, reply) => {
                let e = unexpected(self.describe_step(), &reply);
                self.finish(Err(e));
            }
        }
    }

    fn describe_step(&self) -> &'static str {
        match self.state {
            State::CreatingIndex => "creating the archive's unique streamName index",
            State::Sealing => "sealing the stream",
            State::Reading => "reading the sealed stream",
            State::Copying { .. } => "copying the stream to the archive",
            State::Stripping { .. } => "leaving a tombstone in the live collection",
            State::Finished => "finished",
        }
    }
}
