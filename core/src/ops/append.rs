//! Appending events to a stream with an optimistic-concurrency check.

use bson::{doc, Bson, DateTime, Document};
use serde::{Deserialize, Serialize};

use crate::command::{codes, Command, Namespace, Reply};
use crate::error::{Error, InvalidEvent};
use crate::event::{NewEvent, PreparedEvent};
use crate::expected::ExpectedVersion;
use crate::ids::IdGenerator;
use crate::layout::{
    document_position, document_segment, position_to_bson, Layout, Seal, CREATED_AT_PATH, PREDECESSOR_PATH,
    SEALED_AT_PATH, SEGMENT, SEGMENT_BYTES_PATH, SEGMENT_START_PATH, STREAM_ID_PATH, STREAM_POSITION_PATH,
    STREAM_TYPE_PATH, SUCCESSOR_PATH, UPDATED_AT_PATH,
};
use crate::limits;
use crate::name::StreamName;
use crate::ops::cache::{OpCache, StoreCache};
use crate::ops::fetch::{stream_filter, Fetch, Fetched, Shape};
use crate::ops::index::collection_index_commands;
use crate::ops::outbox::{unexpected, Outbox};
use crate::ops::read::ReadRange;
use crate::ops::{Operation, Step};
use crate::projection::fold::Inline;

/// The result of a successful append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendResult {
    /// The stream's position after the append: the expected version for the next one.
    pub next_expected_stream_version: u64,
    /// True when this append created the stream document.
    pub created_new_stream: bool,
}

impl AppendResult {
    /// The positions of the `count` events this append wrote (the last `count` up to
    /// its new position), as a read range: what reading back its own events reads.
    ///
    /// ```
    /// use streamdoc_core::ops::{AppendResult, ReadRange};
    ///
    /// let r = AppendResult { next_expected_stream_version: 5, created_new_stream: false };
    /// assert_eq!(r.written(2), ReadRange { from: Some(4), to: Some(5), max_count: None });
    /// ```
    pub fn written(&self, count: u64) -> ReadRange {
        let next = self.next_expected_stream_version;
        ReadRange { from: Some(next.saturating_sub(count) + 1), to: Some(next), max_count: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Start,
    CreatingIndex,
    ReadingPosition,
    /// An exact append at `base` reading the read models it does not remember.
    ReadingModels {
        base: u64,
    },
    /// Some read model was written under another schema version: the whole stream is
    /// read and its events refolded before the write at `base`.
    Refolding {
        base: u64,
    },
    /// `guessed`: the base came from the store's position hints, not from the caller
    /// or a read.
    Writing {
        base: u64,
        guessed: bool,
    },
    Verifying {
        base: u64,
    },
    /// A segmented stream: reading its last segment, to append at `base` (`None`: at
    /// whatever position it holds).
    ReadingHead {
        base: Option<u64>,
    },
    /// Sealing the full last segment `segment`, at `base`.
    SealingSegment {
        base: u64,
        segment: u64,
    },
    /// Opening segment `segment` after the sealed one, at `base`.
    OpeningSegment {
        base: u64,
        segment: u64,
    },
    /// A segmented stream's segment holding position `base + 1`, read after a conflict
    /// (`actual`: the stream's position).
    VerifyingSegment {
        base: u64,
        actual: u64,
    },
    Finished,
}

/// The append operation.
///
/// Commands, in order:
/// 1. [`Command::CreateIndex`] on the collection's first use by this store;
/// 2. for `Any` and `StreamExists` only: [`Command::FindOne`] for the current position,
///    unless the store remembers where it last saw the stream
///    ([`PositionHints`](crate::ops::PositionHints)): then step 3 is tried at that
///    position first, and the position is read only if the stream has moved since;
/// 3. [`Command::UpdateOne`] filtered on `streamName` and `metadata.streamPosition`, which
///    `$push`es the events and `$set`s the new position; with `upsert` only when the
///    stream may not exist (expected position 0, or not found by step 2);
/// 4. when the write matched nothing (or hit the unique index) under `NoStream`/`Exact`:
///    [`Command::FindOne`] of the events at the expected positions, to report the
///    actual position, or success when they are this append's own events (a retry of
///    an append whose first outcome was unknown). `Any` and `StreamExists` go back to
///    step 2 instead, at most `max_attempts` times.
///
/// With inline projections ([`StoreConfig::with_projection`](crate::StoreConfig::with_projection))
/// the update of step 3 also `$set`s (or `$unset`s) `projections.<name>`, folded from the
/// read models at the base position: for a new stream, the initial states; when the
/// store remembers them at that position, no command; otherwise the read of step 2 also
/// fetches them (for an exact position, a [`Command::FindOne`] of the position and the read
/// models comes first), and a read model absent from a stream with events, or of another
/// schema version, makes the append fetch the whole stream and refold its events.
///
/// Built by [`StoreContext::append`](crate::StoreContext::append) (or
/// [`StoreContext::prepare`](crate::StoreContext::prepare)), which validates the stream
/// name and reads the clock:
///
/// ```
/// use bson::doc;
/// use streamdoc_core::ops::{Operation, Step};
/// use streamdoc_core::{Engine, ExpectedVersion, NewEvent, SeededIds, SteppingClock, StoreConfig, StoreContext};
///
/// let ctx = StoreContext::new(StoreConfig::new("app"), SteppingClock::new(0, 1), SeededIds::new(0)).unwrap();
/// let mut engine = Engine::new(0);
/// let events = vec![NewEvent::new("Placed", doc! {}).with_id("e1")];
/// let mut op = ctx.append("order:1", events, ExpectedVersion::NoStream).unwrap();
/// let result = loop {
///     match op.next() {
///         Step::Send(cmd) => op.feed(engine.execute(&cmd)),
///         Step::Done(result) => break result,
///     }
/// };
/// assert_eq!(result.unwrap().next_expected_stream_version, 1);
/// ```
#[derive(Debug, Clone)]
pub struct Append {
    ns: Option<Namespace>,
    stream: StreamName,
    layout: Layout,
    expected: ExpectedVersion,
    events: Vec<PreparedEvent>,
    now: DateTime,
    cache: OpCache,
    max_attempts: u32,
    attempts: u32,
    state: State,
    verify: Option<Fetch>,
    /// The stream's inline projections (`None`: it has none).
    inline: Option<Inline>,
    /// The index commands still to send before the first attempt.
    pending_indexes: Vec<Command>,
    /// The read model states the last write would leave (for the cache).
    written_models: Option<crate::projection::fold::Evolved>,
    /// `metadata.predecessor` of a stream this append creates (closing the books).
    predecessor: Option<Document>,
    /// For a segmented store, the size a segment's events stay under.
    segment_bytes: Option<u64>,
    /// Where the stream goes when archived (`None`: the storage cannot say).
    archive_ns: Option<Namespace>,
    /// True once a check after a conflict looked in the archive.
    checked_archive: bool,
    /// The BSON bytes of this append's events, as a segment counts them.
    events_bytes: u64,
    outbox: Outbox<AppendResult>,
}

impl Append {
    /// Prepares an append. Invalid input does not fail here: the first `next()` returns
    /// the typed error and no command is ever sent.
    pub(crate) fn new(
        config: &crate::layout::StoreConfig,
        cache: &StoreCache,
        stream: StreamName,
        events: Vec<NewEvent>,
        expected: ExpectedVersion,
        now: DateTime,
        ids: &dyn IdGenerator,
    ) -> Self {
        let prepared = validate(&stream, events, config.layout, ids).and_then(|prepared| {
            let ns = config.namespace(&stream)?;
            Ok((prepared, ns))
        });
        let mut op = Self {
            ns: None,
            stream,
            layout: config.layout,
            expected,
            events: Vec::new(),
            now,
            cache: OpCache(cache.clone()),
            max_attempts: config.max_attempts.max(1),
            attempts: 0,
            state: State::Start,
            verify: None,
            inline: None,
            pending_indexes: Vec::new(),
            written_models: None,
            predecessor: None,
            segment_bytes: config.segment_bytes,
            archive_ns: None,
            checked_archive: false,
            events_bytes: 0,
            outbox: Outbox::Finished,
        };
        match prepared {
            Ok((prepared, ns)) => {
                op.inline = Inline::for_stream(config, &op.stream);
                op.archive_ns = config.archive_namespace(&op.stream).ok();
                op.events = prepared;
                op.ns = Some(ns);
                op.start();
            }
            Err(e) => op.finish(Err(e)),
        }
        op
    }

    /// The stream this append creates continues `link` (a `metadata.predecessor`).
    pub(crate) fn with_predecessor(mut self, link: Document) -> Self {
        self.predecessor = Some(link);
        if self.invalid().is_none() {
            // The first command was built without the link: build it again.
            self.attempts = 0;
            self.start();
        }
        self
    }

    /// The typed error of invalid input, found when the append was prepared (before it
    /// sent anything).
    pub(crate) fn invalid(&self) -> Option<Error> {
        match &self.outbox {
            Outbox::Done(Err(e)) => Some(e.clone()),
            _ => None,
        }
    }

    /// What the operation has learned (its store's cache, or its own copy in a
    /// simulation branch).
    pub fn cache(&self) -> &StoreCache {
        &self.cache.0
    }

    /// The expected version the append checks.
    pub fn expected(&self) -> ExpectedVersion {
        self.expected
    }

    /// The ids of the events, in order (assigned ones included).
    pub fn event_ids(&self) -> Vec<String> {
        self.events.iter().map(|e| e.id.clone()).collect()
    }

    /// What the simulator's flawed designs rebuild an append from: its namespace (none
    /// when the input was invalid), stream, layout, prepared events and time.
    pub(crate) fn parts(&self) -> (Option<&Namespace>, &StreamName, Layout, &[PreparedEvent], DateTime) {
        (self.ns.as_ref(), &self.stream, self.layout, &self.events, self.now)
    }

    /// The namespace (set whenever a command is sent: invalid input finishes in `new`).
    fn ns(&self) -> Namespace {
        self.ns.clone().unwrap_or_else(|| Namespace::new("", ""))
    }

    fn start(&mut self) {
        let indexed = self.ns.as_ref().is_some_and(|ns| self.cache.0.indexes.contains(ns));
        if indexed {
            self.first_attempt();
        } else {
            let projections = self.inline.as_ref().map_or(&[][..], Inline::projections);
            let mut commands = collection_index_commands(&self.ns(), self.segment_bytes.is_some(), projections);
            commands.reverse();
            self.pending_indexes = commands;
            self.next_index();
        }
    }

    /// Sends the next index command, or starts once they are all acknowledged.
    fn next_index(&mut self) {
        match self.pending_indexes.pop() {
            Some(command) => {
                self.state = State::CreatingIndex;
                self.outbox.send(command);
            }
            None => {
                self.cache.0.indexes.insert(self.ns());
                self.first_attempt();
            }
        }
    }

    /// Whether the read models at `base` are known (always, without projections).
    fn models_known_at(&mut self, base: u64) -> bool {
        let (cache, stream) = (&self.cache.0.read_models, self.stream.as_str());
        self.inline.as_mut().is_none_or(|inline| inline.load_cached(cache, stream, base))
    }

    /// Without an exact expected position, first tries where the stream was last seen.
    fn first_attempt(&mut self) {
        if self.expected.exact_position().is_none() {
            if let Some(base) = self.cache.0.positions.get(self.stream.as_str()).filter(|&p| p > 0) {
                if self.models_known_at(base) {
                    return self.write(base, false, true);
                }
            }
        }
        self.begin_attempt();
    }

    /// The fields a position read fetches: the position, and the read models.
    fn head_projection(&self) -> Document {
        let mut projection = doc! { STREAM_POSITION_PATH: 1, SEALED_AT_PATH: 1, SUCCESSOR_PATH: 1 };
        for field in self.inline.iter().flat_map(Inline::fields) {
            projection.insert(field, 1);
        }
        projection
    }

    fn begin_attempt(&mut self) {
        self.attempts += 1;
        match self.expected.exact_position() {
            Some(0) => {
                if let Some(inline) = &mut self.inline {
                    inline.fresh();
                }
                self.write(0, true, false)
            }
            Some(base) if self.models_known_at(base) => self.write(base, false, false),
            Some(base) => {
                self.state = State::ReadingModels { base };
                self.outbox.send(Command::FindOne {
                    ns: self.ns(),
                    filter: stream_filter(&self.stream),
                    projection: Some(self.head_projection()),
                });
            }
            None if self.segment_bytes.is_some() => self.read_head(None),
            None => {
                self.state = State::ReadingPosition;
                self.outbox.send(Command::FindOne {
                    ns: self.ns(),
                    filter: stream_filter(&self.stream),
                    projection: Some(self.head_projection()),
                });
            }
        }
    }

    /// The stream document read at `base`: loads its read models, then writes, or first
    /// refolds the stream's events when a read model is of another schema version.
    fn write_after_read(&mut self, base: u64, doc: &Document) {
        let Some(inline) = &mut self.inline else { return self.write(base, false, false) };
        if inline.load(doc) {
            return self.write(base, false, false);
        }
        self.state = State::Refolding { base };
        self.outbox.send(Command::FindOne { ns: self.ns(), filter: stream_filter(&self.stream), projection: None });
    }

    fn write(&mut self, base: u64, upsert: bool, guessed: bool) {
        // For a segmented store: the segment's size, and what these events add to it.
        let segment = self.segment_bytes.map(|limit| (limit, self.event_bytes()));
        let (stream, Some(ns)) = (&self.stream, &self.ns) else { return };
        let count = self.events.len() as u64;
        let events: Vec<Bson> = self
            .events
            .iter()
            .zip(base + 1..)
            .map(|(e, position)| Bson::Document(self.layout.event_document(stream, e, position, self.now)))
            .collect();
        let mut set = doc! { STREAM_POSITION_PATH: position_to_bson(base + count), UPDATED_AT_PATH: self.now };
        let mut unset = Document::new();
        self.written_models = None;
        if let Some(inline) = &self.inline {
            let recorded: Result<Vec<_>, String> =
                events.iter().map(|e| self.layout.decode_event(stream.as_str(), e)).collect();
            let evolved = recorded
                .map_err(|reason| Error::Misuse {
                    message: format!("an event the append built does not decode: {reason}"),
                })
                .and_then(|recorded| inline.evolve(stream, &recorded, base + count));
            match evolved {
                Ok(evolved) => {
                    set.extend(evolved.set.clone());
                    unset = evolved.unset.clone();
                    self.written_models = Some(evolved);
                }
                Err(e) => return self.finish(Err(e)),
            }
        }
        let mut filter = stream_filter(stream);
        filter.insert(STREAM_POSITION_PATH, position_to_bson(base));
        filter.insert(SEALED_AT_PATH, doc! { "$exists": false });
        if let Some((limit, bytes)) = segment {
            // The segment takes the events if they keep it within its size, and always
            // when it is empty (so an append bigger than a segment still lands).
            let room = limit.saturating_sub(bytes);
            filter.insert(SEGMENT_BYTES_PATH, doc! { "$lte": position_to_bson(room) });
        }
        let mut update = doc! {
            "$push": { self.layout.events_field(): { "$each": events } },
            "$set": set,
        };
        if let Some((_, bytes)) = segment {
            update.insert("$inc", doc! { SEGMENT_BYTES_PATH: position_to_bson(bytes) });
        }
        if !unset.is_empty() {
            update.insert("$unset", unset);
        }
        if upsert {
            let mut on_insert = doc! {
                STREAM_ID_PATH: stream.stream_id(),
                STREAM_TYPE_PATH: stream.stream_type(),
                CREATED_AT_PATH: self.now,
            };
            if let Some(link) = &self.predecessor {
                on_insert.insert(PREDECESSOR_PATH, link.clone());
            }
            if self.segment_bytes.is_some() {
                on_insert.insert(SEGMENT, position_to_bson(0));
                on_insert.insert(SEGMENT_START_PATH, position_to_bson(0));
            }
            update.insert("$setOnInsert", on_insert);
        }
        let command = Command::UpdateOne { ns: ns.clone(), filter, update, upsert };
        self.state = State::Writing { base, guessed };
        self.outbox.send(command);
    }

    /// The write found the stream elsewhere than expected.
    fn on_mismatch(&mut self, base: u64, guessed: bool) {
        self.cache.0.read_models.forget(self.stream.as_str());
        if self.segment_bytes.is_some() {
            if guessed {
                self.cache.0.positions.forget(self.stream.as_str());
                return self.begin_attempt();
            }
            return self.read_head(Some(base));
        }
        if guessed {
            // The stream moved since this store last saw it: not a lost race, so it
            // does not count as an attempt.
            self.cache.0.positions.forget(self.stream.as_str());
            return self.begin_attempt();
        }
        if self.expected.exact_position().is_none() {
            if self.attempts >= self.max_attempts {
                let stream = self.stream.as_str().to_owned();
                self.finish(Err(Error::Contention { stream, attempts: self.attempts }));
            } else {
                self.begin_attempt();
            }
            return;
        }
        let stream = self.stream.clone();
        let fetch =
            Fetch::new(self.ns(), stream, self.layout, Shape::Slice { skip: base, limit: self.events.len() as u64 });
        self.state = State::Verifying { base };
        self.outbox.send(fetch.command());
        self.verify = Some(fetch);
    }

    /// After a mismatch: a conflict, unless the expected positions hold this append's events.
    fn verify(&mut self, base: u64, doc: Option<Document>) {
        let Some(doc) = doc else {
            if self.checked_archive {
                let stream = self.stream.as_str().to_owned();
                let reason = "archived, but not in the archive collection".into();
                return self.finish(Err(Error::CorruptDocument { stream, reason }));
            }
            return self.conflict(None);
        };
        let Some(actual) = document_position(&doc) else {
            let stream = self.stream.as_str().to_owned();
            return self
                .finish(Err(Error::CorruptDocument { stream, reason: "no integral metadata.streamPosition".into() }));
        };
        let count = self.events.len() as u64;
        let ours = match doc.get(self.layout.events_field()) {
            Some(Bson::Array(stored)) if actual >= base + count && stored.len() == self.events.len() => {
                stored.iter().zip(&self.events).enumerate().all(|(i, (stored, mine))| {
                    self.layout.decode_event(self.stream.as_str(), stored).is_ok_and(|e| {
                        e.metadata.event_id == mine.id && e.metadata.stream_position == base + 1 + i as u64
                    })
                })
            }
            _ => false,
        };
        if ours {
            self.finish(Ok(AppendResult { next_expected_stream_version: base + count, created_new_stream: base == 0 }));
        } else if Seal::of(&doc).archived && !self.checked_archive && self.archive_ns.is_some() {
            // Archived after this append's first try may have landed: its events are in
            // the archive copy, if anywhere.
            self.checked_archive = true;
            let ns = self.archive_ns.clone().unwrap_or_else(|| self.ns());
            let fetch = Fetch::new(ns, self.stream.clone(), self.layout, Shape::Slice { skip: base, limit: count });
            self.state = State::Verifying { base };
            self.outbox.send(fetch.command());
            self.verify = Some(fetch);
        } else if Seal::of(&doc).sealed {
            self.archived(actual, &doc);
        } else {
            self.conflict(Some(actual));
        }
    }

    /// A segmented stream: reads its last segment (to append at `base`, or for `None`
    /// at its position).
    fn read_head(&mut self, base: Option<u64>) {
        if base.is_none() {
            self.attempts += 1;
        }
        self.state = State::ReadingHead { base };
        self.outbox.send(crate::ops::segments::head_command(self.ns(), &self.stream));
    }

    /// Counts one more try at the same position; false (and finished with
    /// [`Error::Contention`]) when there were too many.
    fn retry_allowed(&mut self) -> bool {
        self.attempts += 1;
        if self.attempts > self.max_attempts.saturating_mul(4) {
            let stream = self.stream.as_str().to_owned();
            self.finish(Err(Error::Contention { stream, attempts: self.attempts }));
            return false;
        }
        true
    }

    /// Decides from a segmented stream's last segment: write, verify, or roll over.
    fn on_head(&mut self, base: Option<u64>, head: Option<Document>) {
        let Some(head) = head else {
            return match base {
                None if self.expected != ExpectedVersion::StreamExists => self.write(0, true, false),
                _ => self.conflict(None),
            };
        };
        let (Some(position), Some((segment, _, bytes))) = (document_position(&head), document_segment(&head)) else {
            return self.corrupt();
        };
        let seal = Seal::of(&head);
        if seal.archived {
            return self.archived(position, &head);
        }
        let base = match base {
            Some(base) if base != position && self.expected.exact_position().is_some() => {
                // Elsewhere than expected: a conflict, unless it holds this append's events.
                self.state = State::VerifyingSegment { base, actual: position };
                let command = crate::ops::segments::holding_command(self.ns(), &self.stream, base + 1);
                return self.outbox.send(command);
            }
            Some(base) if base == position => base,
            _ if self.attempts >= self.max_attempts && base.is_some() => {
                let stream = self.stream.as_str().to_owned();
                return self.finish(Err(Error::Contention { stream, attempts: self.attempts }));
            }
            Some(_) => {
                self.attempts += 1;
                position
            }
            None => position,
        };
        let limit = self.segment_bytes.unwrap_or(u64::MAX);
        let size = self.event_bytes();
        if seal.sealed {
            // Full, and its successor not open yet: open it (any writer may).
            if self.retry_allowed() {
                self.open_segment(base, segment + 1);
            }
        } else if bytes > 0 && bytes.saturating_add(size) > limit {
            if self.retry_allowed() {
                self.seal_segment(base, segment);
            }
        } else if self.retry_allowed() {
            self.write(base, base == 0, false);
        }
    }

    /// The BSON bytes of the events as this append stores them (the same at any
    /// position: positions are Int64), computed once.
    fn event_bytes(&mut self) -> u64 {
        if self.events_bytes == 0 {
            let (layout, stream, now) = (self.layout, &self.stream, self.now);
            self.events_bytes = self
                .events
                .iter()
                .zip(1..)
                .map(|(e, p)| crate::engine::bson_size(&layout.event_document(stream, e, p, now)) as u64)
                .sum();
        }
        self.events_bytes
    }

    fn seal_segment(&mut self, base: u64, segment: u64) {
        let mut filter = stream_filter(&self.stream);
        filter.insert(SEGMENT, position_to_bson(segment));
        filter.insert(STREAM_POSITION_PATH, position_to_bson(base));
        filter.insert(SEALED_AT_PATH, doc! { "$exists": false });
        let update = doc! { "$set": { SEALED_AT_PATH: self.now } };
        self.state = State::SealingSegment { base, segment };
        self.outbox.send(Command::UpdateOne { ns: self.ns(), filter, update, upsert: false });
    }

    fn open_segment(&mut self, base: u64, segment: u64) {
        let mut filter = stream_filter(&self.stream);
        filter.insert(SEGMENT, position_to_bson(segment));
        let update = doc! { "$setOnInsert": {
            self.layout.events_field(): [],
            STREAM_ID_PATH: self.stream.stream_id(),
            STREAM_TYPE_PATH: self.stream.stream_type(),
            STREAM_POSITION_PATH: position_to_bson(base),
            SEGMENT_START_PATH: position_to_bson(base),
            SEGMENT_BYTES_PATH: position_to_bson(0),
            CREATED_AT_PATH: self.now,
            UPDATED_AT_PATH: self.now,
        } };
        self.state = State::OpeningSegment { base, segment };
        self.outbox.send(Command::UpdateOne { ns: self.ns(), filter, update, upsert: true });
    }

    /// The stream is sealed: archived, or on its way there.
    fn archived(&mut self, position: u64, doc: &Document) {
        let stream = self.stream.as_str().to_owned();
        self.finish(Err(Error::StreamArchived { stream, position, successor: Seal::of(doc).successor }));
    }

    fn corrupt(&mut self) {
        let stream = self.stream.as_str().to_owned();
        self.finish(Err(Error::CorruptDocument { stream, reason: "no integral metadata.streamPosition".into() }));
    }

    fn conflict(&mut self, actual: Option<u64>) {
        match actual {
            Some(position) => self.cache.0.positions.record(self.stream.as_str(), position),
            None => self.cache.0.positions.forget(self.stream.as_str()),
        }
        let stream = self.stream.as_str().to_owned();
        self.finish(Err(Error::ConcurrencyConflict { stream, expected: self.expected, actual }));
    }

    fn finish(&mut self, result: Result<AppendResult, Error>) {
        match (&result, self.written_models.take()) {
            (Ok(r), models) => {
                let (stream, next) = (self.stream.as_str(), r.next_expected_stream_version);
                self.cache.0.positions.record(stream, next);
                if let Some(models) = models {
                    self.cache.0.read_models.record(stream, next, models.states);
                }
            }
            (Err(_), _) if self.inline.is_some() => self.cache.0.read_models.forget(self.stream.as_str()),
            (Err(_), _) => {}
        }
        self.state = State::Finished;
        self.outbox.finish(result);
    }
}

impl Operation for Append {
    type Output = AppendResult;

    fn next(&mut self) -> Step<Result<AppendResult, Error>> {
        self.outbox.next()
    }

    fn feed(&mut self, reply: Reply) {
        if !self.outbox.accept_reply() {
            return;
        }
        let step = self.describe_step();
        match (self.state, reply) {
            (State::CreatingIndex, Reply::Acknowledged) => self.next_index(),
            (State::CreatingIndex, Reply::DuplicateKey { message }) => {
                self.finish(Err(Error::Server { code: codes::DUPLICATE_KEY, message }));
            }
            (State::ReadingPosition, Reply::Found(None)) => {
                if self.expected == ExpectedVersion::StreamExists {
                    self.conflict(None);
                } else {
                    if let Some(inline) = &mut self.inline {
                        inline.fresh();
                    }
                    self.write(0, true, false);
                }
            }
            (State::ReadingPosition, Reply::Found(Some(doc))) => match document_position(&doc) {
                Some(position) if Seal::of(&doc).sealed => self.archived(position, &doc),
                Some(position) => self.write_after_read(position, &doc),
                None => self.corrupt(),
            },
            (State::ReadingModels { .. }, Reply::Found(None)) => self.conflict(None),
            (State::ReadingModels { base } | State::Refolding { base }, Reply::Found(Some(doc))) => {
                match document_position(&doc) {
                    Some(position) if position != base => self.on_mismatch(base, false),
                    Some(position) if Seal::of(&doc).sealed => self.archived(position, &doc),
                    Some(_) if matches!(self.state, State::ReadingModels { .. }) => self.write_after_read(base, &doc),
                    Some(_) => {
                        let refolded = match &mut self.inline {
                            Some(inline) => inline.refold(self.stream.as_str(), self.layout, &doc, false),
                            None => Ok(()),
                        };
                        match refolded {
                            Ok(()) => self.write(base, false, false),
                            Err(e) => self.finish(Err(e)),
                        }
                    }
                    None => self.corrupt(),
                }
            }
            (State::Refolding { base }, Reply::Found(None)) => self.on_mismatch(base, false),
            (State::Writing { base, guessed }, Reply::Updated { matched, upserted_id, .. }) => {
                let next = base + self.events.len() as u64;
                if upserted_id.is_some() {
                    self.finish(Ok(AppendResult { next_expected_stream_version: next, created_new_stream: true }));
                } else if matched == 1 {
                    self.finish(Ok(AppendResult { next_expected_stream_version: next, created_new_stream: false }));
                } else {
                    self.on_mismatch(base, guessed);
                }
            }
            (State::Writing { base, guessed }, Reply::DuplicateKey { .. }) => self.on_mismatch(base, guessed),
            (State::Writing { .. }, Reply::ServerError { code, .. }) if codes::is_document_too_large(code) => {
                self.finish(Err(Error::stream_too_large(self.stream.as_str())));
            }
            (State::ReadingHead { base }, Reply::FoundMany(mut docs)) => {
                let head = if docs.is_empty() { None } else { Some(docs.swap_remove(0)) };
                self.on_head(base, head);
            }
            (State::SealingSegment { base, segment }, Reply::Updated { matched: 1, .. }) => {
                self.open_segment(base, segment + 1)
            }
            (State::SealingSegment { base, .. }, Reply::Updated { .. }) => self.read_head(Some(base)),
            (State::OpeningSegment { base, .. }, Reply::Updated { .. } | Reply::DuplicateKey { .. }) => {
                self.write(base, false, false)
            }
            (State::VerifyingSegment { base, actual }, Reply::Found(doc)) => match doc {
                Some(doc) => {
                    let doc =
                        crate::ops::segments::as_slice_of(doc, self.layout, base, self.events.len() as u64, actual);
                    self.verify(base, Some(doc));
                }
                None => self.conflict(Some(actual)),
            },
            (State::Verifying { base }, reply) => {
                let Some(mut fetch) = self.verify.take() else { return };
                match fetch.on_reply(reply, step) {
                    Fetched::Document(doc) => self.verify(base, doc),
                    Fetched::Retry(cmd) => {
                        self.verify = Some(fetch);
                        self.outbox.send(cmd);
                    }
                    Fetched::Failed(e) => self.finish(Err(e)),
                }
            }
            (_, Reply::ServerError { code, message }) => self.finish(Err(Error::Server { code, message })),
            (_, reply) => {
                let e = unexpected(step, &reply);
                self.finish(Err(e));
            }
        }
    }

    fn describe_step(&self) -> &'static str {
        match self.state {
            State::Start => "preparing the append",
            State::CreatingIndex => "creating the unique streamName index",
            State::ReadingPosition => "reading the stream position",
            State::ReadingModels { .. } => "reading the read models",
            State::Refolding { .. } => "refolding the read models from the stream's events",
            State::Writing { guessed: false, .. } => "conditional append",
            State::Writing { guessed: true, .. } => "conditional append at the position last seen",
            State::Verifying { .. } => "checking the stream after a conflict",
            State::ReadingHead { .. } => "reading the stream's last segment",
            State::SealingSegment { .. } => "sealing the full segment",
            State::OpeningSegment { .. } => "opening the next segment",
            State::VerifyingSegment { .. } => "checking the segment after a conflict",
            State::Finished => "finished",
        }
    }
}

/// Validates the events and fixes their ids.
fn validate(
    stream: &StreamName,
    events: Vec<NewEvent>,
    layout: Layout,
    ids: &dyn IdGenerator,
) -> Result<Vec<PreparedEvent>, Error> {
    if events.is_empty() {
        return Err(Error::EmptyAppend { stream: stream.as_str().to_owned() });
    }
    let invalid =
        |index: usize, reason: InvalidEvent| Error::InvalidEvent { stream: stream.as_str().to_owned(), index, reason };
    let reserved = layout.reserved_event_metadata();
    let mut prepared: Vec<PreparedEvent> = Vec::with_capacity(events.len());
    for (index, e) in events.into_iter().enumerate() {
        if e.event_type.is_empty() {
            return Err(invalid(index, InvalidEvent::EmptyType));
        }
        if let Some(key) = e.metadata.keys().find(|k| reserved.contains(&k.as_str())) {
            return Err(invalid(index, InvalidEvent::ReservedMetadataKey { key: key.clone() }));
        }
        for (field, value) in [("data", &e.data), ("metadata", &e.metadata)] {
            if limits::deeper_than(value, limits::MAX_VALUE_DEPTH) {
                let (field, limit) = (field.to_owned(), limits::MAX_VALUE_DEPTH);
                return Err(invalid(index, InvalidEvent::TooDeep { field, limit }));
            }
        }
        let id = match e.id {
            Some(id) if id.is_empty() => return Err(invalid(index, InvalidEvent::EmptyId)),
            Some(id) => id,
            None => ids.next_event_id(),
        };
        if prepared.iter().any(|p| p.id == id) {
            return Err(invalid(index, InvalidEvent::DuplicateId { id }));
        }
        prepared.push(PreparedEvent { id, event_type: e.event_type, data: e.data, metadata: e.metadata });
    }
    Ok(prepared)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::StoreConfig;
    use crate::SeededIds;

    fn append(expected: ExpectedVersion, events: Vec<NewEvent>) -> Append {
        Append::new(
            &StoreConfig::new("app"),
            &StoreCache::new(),
            StreamName::parse("order:1").unwrap(),
            events,
            expected,
            DateTime::from_millis(0),
            &SeededIds::new(0),
        )
    }

    fn ev(id: &str) -> NewEvent {
        NewEvent::new("E", doc! {}).with_id(id)
    }

    #[test]
    fn exact_append_sends_index_then_one_update_with_upsert_only_at_zero() {
        let mut op = append(ExpectedVersion::Exact(0), vec![ev("a")]);
        assert!(matches!(op.next(), Step::Send(Command::CreateIndex { .. })));
        op.feed(Reply::Acknowledged);
        let Step::Send(Command::UpdateOne { upsert, filter, .. }) = op.next() else { panic!("expected an update") };
        assert!(upsert);
        assert_eq!(filter.get("metadata.streamPosition"), Some(&Bson::Int64(0)));
        op.feed(Reply::Updated { matched: 0, modified: 0, upserted_id: Some(Bson::Int32(1)) });
        assert_eq!(
            op.next(),
            Step::Done(Ok(AppendResult { next_expected_stream_version: 1, created_new_stream: true }))
        );
        assert!(matches!(op.next(), Step::Done(Err(Error::Misuse { .. }))));
    }

    #[test]
    fn a_matched_update_is_a_success_even_though_nothing_was_upserted() {
        let cache = StoreCache::new();
        cache.indexes.insert(Namespace::new("app", "order"));
        let mut op = Append::new(
            &StoreConfig::new("app"),
            &cache,
            StreamName::parse("order:1").unwrap(),
            vec![ev("a"), ev("b")],
            ExpectedVersion::Exact(3),
            DateTime::from_millis(0),
            &SeededIds::new(0),
        );
        let Step::Send(Command::UpdateOne { upsert, .. }) = op.next() else { panic!("expected an update first") };
        assert!(!upsert);
        op.feed(Reply::Updated { matched: 1, modified: 1, upserted_id: None });
        assert_eq!(
            op.next(),
            Step::Done(Ok(AppendResult { next_expected_stream_version: 5, created_new_stream: false }))
        );
    }

    fn indexed_append(cache: &StoreCache, config: &StoreConfig, expected: ExpectedVersion, id: &str) -> Append {
        cache.indexes.insert(Namespace::new("app", "order"));
        Append::new(
            config,
            cache,
            StreamName::parse("order:1").unwrap(),
            vec![ev(id)],
            expected,
            DateTime::from_millis(0),
            &SeededIds::new(0),
        )
    }

    fn position_filter(step: Step<Result<AppendResult, Error>>) -> (Option<Bson>, bool) {
        match step {
            Step::Send(Command::UpdateOne { filter, upsert, .. }) => {
                (filter.get("metadata.streamPosition").cloned(), upsert)
            }
            other => panic!("expected an update, got {other:?}"),
        }
    }

    #[test]
    fn appends_remember_positions_and_any_tries_the_remembered_one_first() {
        let cache = StoreCache::new();
        let config = StoreConfig::new("app");
        let mut op = indexed_append(&cache, &config, ExpectedVersion::Exact(4), "a");
        let _ = op.next();
        op.feed(Reply::Updated { matched: 1, modified: 1, upserted_id: None });
        assert!(matches!(op.next(), Step::Done(Ok(_))));
        assert_eq!(cache.positions.get("order:1"), Some(5), "a success records the new position");

        for expected in [ExpectedVersion::Any, ExpectedVersion::StreamExists] {
            let mut op = indexed_append(&cache, &config, expected, "b");
            assert_eq!(position_filter(op.next()), (Some(Bson::Int64(5)), false), "{expected:?}: one update");
            assert_eq!(op.describe_step(), "conditional append at the position last seen");
            op.feed(Reply::Updated { matched: 1, modified: 1, upserted_id: None });
            let Step::Done(Ok(r)) = op.next() else { panic!("{expected:?} succeeds") };
            assert_eq!(r, AppendResult { next_expected_stream_version: 6, created_new_stream: false });
            cache.positions.record("order:1", 5);
        }
    }

    #[test]
    fn a_stale_guess_reads_the_position_and_is_not_an_attempt() {
        let cache = StoreCache::new();
        cache.positions.record("order:1", 2);
        let mut config = StoreConfig::new("app");
        config.max_attempts = 1;
        let mut op = indexed_append(&cache, &config, ExpectedVersion::Any, "a");
        assert_eq!(position_filter(op.next()), (Some(Bson::Int64(2)), false));
        op.feed(Reply::Updated { matched: 0, modified: 0, upserted_id: None });
        assert_eq!(cache.positions.get("order:1"), None, "a stale guess is forgotten");
        assert!(matches!(op.next(), Step::Send(Command::FindOne { .. })), "then the position is read");
        op.feed(Reply::Found(Some(doc! { "metadata": { "streamPosition": 7_i64 } })));
        assert_eq!(position_filter(op.next()), (Some(Bson::Int64(7)), false));
        op.feed(Reply::Updated { matched: 1, modified: 1, upserted_id: None });
        let Step::Done(Ok(r)) = op.next() else { panic!("the single attempt succeeds") };
        assert_eq!(r.next_expected_stream_version, 8);
        assert_eq!(cache.positions.get("order:1"), Some(8));
    }

    #[test]
    fn a_conflict_records_the_actual_position() {
        let cache = StoreCache::new();
        let config = StoreConfig::new("app");
        let mut op = indexed_append(&cache, &config, ExpectedVersion::Exact(1), "a");
        let _ = op.next();
        op.feed(Reply::Updated { matched: 0, modified: 0, upserted_id: None });
        assert!(matches!(op.next(), Step::Send(Command::FindOne { .. })));
        op.feed(Reply::Found(Some(doc! { "metadata": { "streamPosition": 3_i64 }, "events": [] })));
        assert!(matches!(op.next(), Step::Done(Err(Error::ConcurrencyConflict { actual: Some(3), .. }))));
        assert_eq!(cache.positions.get("order:1"), Some(3));
    }

    #[test]
    fn a_cloned_op_learns_into_its_own_copy() {
        let cache = StoreCache::new();
        let config = StoreConfig::new("app");
        let mut op = indexed_append(&cache, &config, ExpectedVersion::Exact(0), "a");
        let _ = op.next();
        let mut branch = op.clone();
        branch.feed(Reply::Updated { matched: 0, modified: 0, upserted_id: Some(Bson::Int32(1)) });
        assert!(matches!(branch.next(), Step::Done(Ok(_))));
        assert_eq!(branch.cache().positions.get("order:1"), Some(1));
        assert_eq!(cache.positions.get("order:1"), None, "the clone's lesson stays in the clone");
        op.feed(Reply::Updated { matched: 0, modified: 0, upserted_id: Some(Bson::Int32(1)) });
        assert!(matches!(op.next(), Step::Done(Ok(_))));
        assert_eq!(cache.positions.get("order:1"), Some(1), "the op itself writes through");
    }

    #[test]
    fn misuse_is_reported_not_panicked() {
        let mut op = append(ExpectedVersion::Any, vec![ev("a")]);
        let _ = op.next();
        assert!(matches!(op.next(), Step::Done(Err(Error::Misuse { .. }))));
        let mut op = append(ExpectedVersion::Any, vec![ev("a")]);
        op.feed(Reply::Acknowledged);
        assert!(matches!(op.next(), Step::Done(Err(Error::Misuse { .. }))));
    }

    #[test]
    fn invalid_input_sends_nothing() {
        assert!(matches!(append(ExpectedVersion::Any, vec![]).next(), Step::Done(Err(Error::EmptyAppend { .. }))));
        assert!(matches!(
            append(ExpectedVersion::Any, vec![ev("a"), ev("a")]).next(),
            Step::Done(Err(Error::InvalidEvent { index: 1, reason: InvalidEvent::DuplicateId { .. }, .. }))
        ));
        let reserved = NewEvent::new("E", doc! {}).with_metadata(doc! { "streamPosition": 9 });
        assert!(matches!(
            append(ExpectedVersion::Any, vec![reserved]).next(),
            Step::Done(Err(Error::InvalidEvent { reason: InvalidEvent::ReservedMetadataKey { .. }, .. }))
        ));
        assert!(matches!(
            append(ExpectedVersion::Any, vec![NewEvent::new("", doc! {})]).next(),
            Step::Done(Err(Error::InvalidEvent { reason: InvalidEvent::EmptyType, .. }))
        ));
    }

    #[test]
    fn a_wrong_reply_ends_the_op_with_a_typed_error() {
        let mut op = append(ExpectedVersion::Any, vec![ev("a")]);
        let _ = op.next();
        op.feed(Reply::Found(None));
        assert!(matches!(op.next(), Step::Done(Err(Error::UnexpectedReply { .. }))));
    }
}
