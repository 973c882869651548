//! The subscription state machine: which streams have news, which events to deliver,
//! when a checkpoint moves.

use std::collections::VecDeque;
use std::sync::Arc;

use bson::{doc, DateTime, Document};
use serde::{Deserialize, Serialize};

use super::batch::Batch;
use super::change::{self, News};
use super::checkpoint::{self, Advanced};
use super::config::{Source, SubscriptionConfig, SubscriptionError};
use crate::command::{Command, Namespace, Reply};
use crate::context::StoreContext;
use crate::error::Error;
use crate::event::RecordedEvent;
use crate::ids::Clock;
use crate::layout::{document_position, Layout, Storage, METADATA, STREAM_NAME, STREAM_TYPE_PATH, UPDATED_AT_PATH};
use crate::ops::fetch::{Fetch, Fetched, Shape};
use crate::ops::outbox::unexpected;

/// The index an incremental poll reads, on the stream collection.
pub const POLLING_INDEX: &str = "metadata.updatedAt_1_streamName_1";

/// What the subscription wants next.
// Returned and consumed at once; boxing would allocate per step.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionStep {
    /// Run this command and [`Subscription::feed`] its reply.
    Send(Command),
    /// Open (or reopen) a change stream on `ns` (`collection.watch()`), after
    /// `resume_after` when set, and pass each change event to [`Subscription::on_change`].
    Watch { ns: Namespace, resume_after: Option<Document> },
    /// Hand these events to the handler; call [`Subscription::ack`] once it is done
    /// with them (not acknowledging means they are delivered again later).
    Deliver(Batch),
    /// Nothing to do now. Polling: wait the poll interval, then call `next` again (it
    /// polls). Change stream: wait for the next change event.
    Idle,
    /// The subscription cannot go on.
    Failed(Error),
}

/// What a subscription has done, for logs and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionStats {
    /// Polls started (sweeps included).
    pub polls: u64,
    /// Polls that swept every stream.
    pub sweeps: u64,
    /// Change events received.
    pub notices: u64,
    /// Change events whose stream had to be looked up by `_id`.
    pub lookups: u64,
    /// Batches delivered.
    pub batches: u64,
    /// Events delivered.
    pub events: u64,
    /// Batches delivered straight from a change event, without reading the stream.
    pub carried: u64,
    /// Checkpoint writes another instance of the consumer won.
    pub conflicts: u64,
}

#[derive(Debug, Clone)]
struct Head {
    stream: String,
    position: u64,
    carried: Vec<RecordedEvent>,
}

#[derive(Debug, Clone)]
struct Work {
    head: Head,
    checkpoint: u64,
    /// The carried events were just read: deliver what they hold, even if short.
    fetched: bool,
}

/// A polling cycle: one page after another until a short page.
#[derive(Debug, Clone)]
struct Poll {
    sweep: bool,
    /// Incremental: streams updated at or after this.
    since: Option<DateTime>,
    /// The key of the last stream of the previous page.
    after: Option<(Option<DateTime>, String)>,
}

#[derive(Debug, Clone)]
enum Pending {
    Setup,
    Page(Poll),
    Checkpoints(Vec<Head>),
    Fetch(Work, Fetch),
    Advance(Work, u64),
    Lookup,
    TokenLoad { initial: bool },
    TokenSave(Document),
}

#[derive(Debug, Clone)]
enum State {
    Ready,
    Awaiting(Pending),
    Delivered(Work, u64),
    Failed,
}

/// A consumer's subscription to new events, as a sans-IO state machine.
///
/// Delivery is **at least once**, **in order within each stream**, and **never skips an
/// event**: each batch holds one stream's events right after the consumer's checkpoint
/// of it, and the checkpoint moves (conditionally: see [`super::checkpoint`]) only when
/// the batch is acknowledged. Across streams there is no order when polling; on a
/// change stream, batches follow the server's commit order of the writes that
/// announced them.
///
/// ```
/// use bson::doc;
/// use streamdoc_core::subscription::{Source, Subscription, SubscriptionConfig, SubscriptionStep};
/// use streamdoc_core::{driver, Engine, EventStore, ExpectedVersion, NewEvent, SeededIds, SteppingClock, StoreConfig, StoreContext};
///
/// let ctx = StoreContext::new(StoreConfig::new("app"), SteppingClock::new(0, 1), SeededIds::new(1))?;
/// let mut store = EventStore::new(ctx.clone(), Engine::new(1));
/// store.append_to_stream("order:1", vec![NewEvent::new("Placed", doc! {})], ExpectedVersion::NoStream)?;
///
/// let config = SubscriptionConfig::new("billing").stream_type("order").source(Source::Polling);
/// let mut sub = Subscription::new(&ctx, config)?;
/// let mut seen = Vec::new();
/// loop {
///     match sub.next() {
///         SubscriptionStep::Send(cmd) => {
///             let reply = store.executor_mut().execute(&cmd);
///             sub.feed(reply);
///         }
///         SubscriptionStep::Deliver(batch) => {
///             seen.extend(batch.events.iter().map(|e| e.event_type.clone()));
///             sub.ack()?;
///         }
///         SubscriptionStep::Idle => break,
///         other => panic!("{other:?}"),
///     }
/// }
/// assert_eq!(seen, ["Placed"]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct Subscription {
    config: SubscriptionConfig,
    layout: Layout,
    store: StoreContext,
    ns: Namespace,
    type_filter: Option<Document>,
    checkpoints: Namespace,
    clock: Arc<dyn Clock>,
    source: Source,
    state: State,
    setup: VecDeque<Command>,
    poll: Option<Poll>,
    newest: Option<DateTime>,
    unresolved: Vec<Head>,
    work: VecDeque<Work>,
    notices: VecDeque<(Option<Document>, News)>,
    /// Change streams: the token of the last notice taken, the one stored, its sequence.
    latest_token: Option<Document>,
    saved_token: Option<Document>,
    token_sequence: u64,
    token_loaded: bool,
    watch: Option<Option<Document>>,
    idle_reported: bool,
    outgoing: Option<Command>,
    failure: Option<Error>,
    stats: SubscriptionStats,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("consumer", &self.config.consumer)
            .field("ns", &self.ns)
            .field("source", &self.source)
            .field("state", &self.state)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Subscription {
    /// A subscription of `config.consumer` to the streams of `store`. `config.source`
    /// must be resolved ([`Source::resolve`]) unless it is [`Source::Polling`] or
    /// [`Source::ChangeStream`]; [`Source::Auto`] is read as polling here.
    pub fn new(store: &StoreContext, config: SubscriptionConfig) -> Result<Self, Error> {
        config.validate()?;
        let store_config = store.config();
        if store_config.segmented() {
            let why = "subscriptions to segmented streams are not supported yet".to_owned();
            return Err(SubscriptionError::InvalidConfig { why }.into());
        }
        let (ns, type_filter) = match (&store_config.storage, &config.stream_type) {
            (Storage::Custom(_), _) => return Err(SubscriptionError::CustomStorage.into()),
            (Storage::SingleCollection { .. }, stream_type) => {
                let ns = store_config.type_namespace(stream_type.as_deref().unwrap_or("_"))?.expect("not custom");
                (ns, stream_type.as_ref().map(|t| doc! { STREAM_TYPE_PATH: { "$eq": t.as_str() } }))
            }
            (_, Some(stream_type)) => (store_config.type_namespace(stream_type)?.expect("not custom"), None),
            (_, None) => return Err(SubscriptionError::StreamTypeRequired.into()),
        };
        let checkpoints = Namespace::new(store_config.database.clone(), config.checkpoints.clone());
        let source = match config.source {
            Source::ChangeStream => Source::ChangeStream,
            _ => Source::Polling,
        };
        let mut setup = VecDeque::from([checkpoint::index_command(&checkpoints)]);
        let first_poll = (source == Source::Polling).then_some(Poll { sweep: true, since: None, after: None });
        if source == Source::Polling {
            setup.push_back(Command::CreateIndex {
                ns: ns.clone(),
                keys: doc! { UPDATED_AT_PATH: 1, STREAM_NAME: 1 },
                name: POLLING_INDEX.to_owned(),
                unique: false,
            });
        }
        Ok(Self {
            layout: store_config.layout,
            store: store.clone(),
            ns,
            type_filter,
            checkpoints,
            clock: store.shared_clock(),
            source,
            state: State::Ready,
            setup,
            poll: first_poll,
            newest: None,
            unresolved: Vec::new(),
            work: VecDeque::new(),
            notices: VecDeque::new(),
            latest_token: None,
            saved_token: None,
            token_sequence: 0,
            token_loaded: false,
            watch: None,
            idle_reported: false,
            outgoing: None,
            failure: None,
            stats: SubscriptionStats {
                polls: u64::from(source == Source::Polling),
                sweeps: u64::from(source == Source::Polling),
                ..Default::default()
            },
            config,
        })
    }

    /// The consumer.
    pub fn consumer(&self) -> &str {
        &self.config.consumer
    }

    /// The collection whose streams it reads.
    pub fn namespace(&self) -> &Namespace {
        &self.ns
    }

    /// The source it runs on.
    pub fn source(&self) -> Source {
        self.source
    }

    /// What it has done so far.
    pub fn stats(&self) -> SubscriptionStats {
        self.stats
    }

    /// The next step; see [`SubscriptionStep`].
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> SubscriptionStep {
        if let Some(cmd) = self.outgoing.take() {
            return SubscriptionStep::Send(cmd);
        }
        match &self.state {
            State::Ready => {}
            State::Awaiting(_) => return self.fail(misuse("next() called while a reply is due; call feed() first")),
            State::Delivered(..) => {
                return self.fail(misuse("next() called before the delivered batch was acknowledged"))
            }
            State::Failed => {
                let e = self.failure.take().unwrap_or_else(|| misuse("the subscription has failed"));
                return SubscriptionStep::Failed(e);
            }
        }
        if let Some(cmd) = self.setup.pop_front() {
            return self.send(Pending::Setup, cmd);
        }
        if self.source == Source::ChangeStream && !self.token_loaded {
            self.token_loaded = true;
            return self.send(
                Pending::TokenLoad { initial: true },
                checkpoint::token_load_command(&self.checkpoints, &self.config.consumer),
            );
        }
        if let Some(resume_after) = self.watch.take() {
            if resume_after.is_none() {
                self.start_poll(true);
            }
            return SubscriptionStep::Watch { ns: self.ns.clone(), resume_after };
        }
        if let Some(work) = self.work.pop_front() {
            return self.deliver_or_fetch(work);
        }
        if !self.unresolved.is_empty() {
            let take = self.unresolved.len().min(self.config.page_size as usize);
            let heads: Vec<Head> = self.unresolved.drain(..take).collect();
            let names: Vec<String> = heads.iter().map(|h| h.stream.clone()).collect();
            let cmd = checkpoint::load_command(&self.checkpoints, &self.config.consumer, &names);
            return self.send(Pending::Checkpoints(heads), cmd);
        }
        if let Some(poll) = self.poll.take() {
            let cmd = self.page_command(&poll);
            return self.send(Pending::Page(poll), cmd);
        }
        while let Some((token, news)) = self.notices.pop_front() {
            if token.is_some() {
                self.latest_token = token;
            }
            match news {
                News::Head { stream, position, carried } => {
                    if self.wants(&stream) {
                        self.push_head(Head { stream, position, carried });
                        return self.next();
                    }
                }
                News::Lookup { id } => {
                    self.stats.lookups += 1;
                    let cmd = Command::FindOne {
                        ns: self.ns.clone(),
                        filter: doc! { "_id": { "$eq": id } },
                        projection: Some(doc! { STREAM_NAME: 1, METADATA: 1 }),
                    };
                    return self.send(Pending::Lookup, cmd);
                }
                News::Poll => {
                    // Some stream changed: one poll answers every such notice queued.
                    self.notices.retain(|(_, n)| *n != News::Poll);
                    self.start_next_poll();
                    return self.next();
                }
                News::Nothing => {}
            }
        }
        if self.source == Source::ChangeStream && self.latest_token.is_some() && self.latest_token != self.saved_token {
            let token = self.latest_token.clone().unwrap_or_default();
            let cmd = checkpoint::token_save_command(
                &self.checkpoints,
                &self.config.consumer,
                &token,
                self.token_sequence,
                self.clock.now(),
            );
            return self.send(Pending::TokenSave(token), cmd);
        }
        if self.source == Source::Polling && self.idle_reported {
            self.idle_reported = false;
            self.start_next_poll();
            return self.next();
        }
        self.idle_reported = true;
        SubscriptionStep::Idle
    }

    /// The reply to the command last returned by [`Subscription::next`].
    pub fn feed(&mut self, reply: Reply) {
        let State::Awaiting(pending) = std::mem::replace(&mut self.state, State::Ready) else {
            self.failure = Some(misuse("feed() called with no command outstanding"));
            self.state = State::Failed;
            return;
        };
        if let Err(e) = self.on_reply(pending, reply) {
            self.failure = Some(e);
            self.state = State::Failed;
        }
    }

    /// The handler is done with the batch last delivered: its checkpoint moves next.
    pub fn ack(&mut self) -> Result<(), Error> {
        match std::mem::replace(&mut self.state, State::Ready) {
            State::Delivered(work, to) => {
                let cmd = checkpoint::advance_command(
                    &self.checkpoints,
                    &self.config.consumer,
                    &work.head.stream,
                    work.checkpoint,
                    to,
                    self.clock.now(),
                );
                self.state = State::Awaiting(Pending::Advance(work, to));
                self.outgoing = Some(cmd);
                Ok(())
            }
            other => {
                self.state = other;
                Err(misuse("ack() called with no batch delivered"))
            }
        }
    }

    /// A change event from the change stream [`SubscriptionStep::Watch`] asked for.
    pub fn on_change(&mut self, change: Document) {
        self.stats.notices += 1;
        let token = change.get_document("_id").ok().cloned();
        let news = change::news(&change, &self.ns, self.layout);
        self.notices.push_back((token, news));
        self.idle_reported = false;
    }

    /// The error a failed change stream is reported as: 286 ChangeStreamHistoryLost (and
    /// 280 ChangeStreamFatalError, a token the server cannot read) as
    /// [`SubscriptionError::HistoryLost`], whose recovery is [`Subscription::restart`];
    /// 40573 (not a replica set) and 238 (no `$changeStream` at all) as
    /// [`SubscriptionError::ChangeStreamsUnsupported`];
    /// anything else as the server's error.
    pub fn watch_failed(&self, code: i32, message: String) -> Error {
        use crate::engine::change_feed::{CHANGE_STREAM_FATAL_ERROR, CHANGE_STREAM_HISTORY_LOST};
        match code {
            CHANGE_STREAM_HISTORY_LOST | CHANGE_STREAM_FATAL_ERROR => {
                SubscriptionError::HistoryLost { consumer: self.config.consumer.clone(), message }.into()
            }
            // 40573: "The $changeStream stage is only supported on replica sets"; 238
            // NotImplemented from servers without the stage at all (FerretDB).
            40573 | crate::command::codes::NOT_IMPLEMENTED => {
                SubscriptionError::ChangeStreamsUnsupported { message }.into()
            }
            _ => Error::Server { code, message },
        }
    }

    /// After the change stream could not resume ([`SubscriptionError::HistoryLost`]):
    /// forget the resume token, ask for a new change stream from now, and catch up by
    /// sweeping every stream (exact, thanks to the per-stream checkpoints).
    pub fn restart(&mut self) {
        self.notices.clear();
        self.latest_token = None;
        self.saved_token = None;
        self.watch = Some(None);
        if matches!(self.state, State::Failed) {
            self.state = State::Ready;
        }
    }

    fn send(&mut self, pending: Pending, cmd: Command) -> SubscriptionStep {
        self.state = State::Awaiting(pending);
        SubscriptionStep::Send(cmd)
    }

    fn fail(&mut self, e: Error) -> SubscriptionStep {
        self.state = State::Failed;
        SubscriptionStep::Failed(e)
    }

    fn wants(&self, stream: &str) -> bool {
        match &self.config.stream_type {
            None => true,
            Some(t) => self.store.config().stream_name(stream).is_ok_and(|n| n.stream_type() == t),
        }
    }

    /// Queues news of a stream, merged with news of it already queued (one piece of work
    /// per stream, so a stream's batches never overtake each other).
    fn push_head(&mut self, head: Head) {
        if let Some(w) = self.work.iter_mut().find(|w| w.head.stream == head.stream) {
            w.head.position = w.head.position.max(head.position);
            return;
        }
        if let Some(h) = self.unresolved.iter_mut().find(|h| h.stream == head.stream) {
            if head.position > h.position {
                *h = head;
            }
            return;
        }
        self.unresolved.push(head);
    }

    /// The next poll: incremental, or every `sweep_every`th a sweep.
    fn start_next_poll(&mut self) {
        let sweep = self.stats.polls.is_multiple_of(u64::from(self.config.sweep_every));
        self.start_poll(sweep);
    }

    fn start_poll(&mut self, sweep: bool) {
        self.stats.polls += 1;
        if sweep {
            self.stats.sweeps += 1;
        }
        let lookback = self.config.lookback_ms;
        let since = match sweep {
            true => None,
            false => self.newest.map(|t| DateTime::from_millis(t.timestamp_millis().saturating_sub(lookback))),
        };
        self.poll = Some(Poll { sweep: sweep || since.is_none(), since, after: None });
    }

    /// One page of stream heads: a sweep pages by name; an incremental poll by
    /// (`metadata.updatedAt`, name) from `since`, so a stream updated while the pages are
    /// read moves to a later page and is still seen.
    fn page_command(&self, poll: &Poll) -> Command {
        let mut parts: Vec<Document> = self.type_filter.iter().cloned().collect();
        let sort = match poll.sweep {
            true => {
                if let Some((_, name)) = &poll.after {
                    parts.push(doc! { STREAM_NAME: { "$gt": name.as_str() } });
                }
                doc! { STREAM_NAME: 1 }
            }
            false => {
                match &poll.after {
                    Some((Some(at), name)) => parts.push(doc! { "$or": [
                        { UPDATED_AT_PATH: { "$gt": *at } },
                        { UPDATED_AT_PATH: { "$eq": *at }, STREAM_NAME: { "$gt": name.as_str() } },
                    ] }),
                    _ => {
                        if let Some(since) = poll.since {
                            parts.push(doc! { UPDATED_AT_PATH: { "$gte": since } });
                        }
                    }
                }
                doc! { UPDATED_AT_PATH: 1, STREAM_NAME: 1 }
            }
        };
        let filter = match parts.len() {
            0 => Document::new(),
            1 => parts.pop().unwrap_or_default(),
            _ => doc! { "$and": parts },
        };
        Command::Find {
            ns: self.ns.clone(),
            filter,
            projection: Some(doc! { STREAM_NAME: 1, METADATA: 1 }),
            sort: Some(sort),
            skip: 0,
            limit: u64::from(self.config.page_size),
        }
    }

    /// Delivers the next events of `work` from what a change event carried, or reads them.
    fn deliver_or_fetch(&mut self, mut work: Work) -> SubscriptionStep {
        let want = u64::from(self.config.batch_size).min(work.head.position - work.checkpoint) as usize;
        let first = work.checkpoint + 1;
        let start = work.head.carried.iter().position(|e| e.metadata.stream_position == first);
        if let Some(start) = start {
            let run = work.head.carried[start..]
                .iter()
                .enumerate()
                .take_while(|(i, e)| e.metadata.stream_position == first + *i as u64)
                .count();
            if run >= want || (work.fetched && run > 0) {
                let take = run.min(want);
                let events: Vec<RecordedEvent> = work.head.carried.drain(start..start + take).collect();
                if !work.fetched {
                    self.stats.carried += 1;
                }
                return self.deliver(work, events);
            }
        }
        work.head.carried.clear();
        let stream = match self.store.config().stream_name(&work.head.stream) {
            Ok(s) => s,
            Err(e) => return self.fail(e.into()),
        };
        let shape = Shape::Slice { skip: work.checkpoint, limit: u64::from(self.config.batch_size) };
        let fetch = Fetch::new(self.ns.clone(), stream, self.layout, shape);
        let cmd = fetch.command();
        self.send(Pending::Fetch(work, fetch), cmd)
    }

    fn deliver(&mut self, work: Work, events: Vec<RecordedEvent>) -> SubscriptionStep {
        let to = work.checkpoint + events.len() as u64;
        let batch = Batch { stream: work.head.stream.clone(), after: work.checkpoint, events };
        self.stats.batches += 1;
        self.stats.events += batch.events.len() as u64;
        self.state = State::Delivered(work, to);
        SubscriptionStep::Deliver(batch)
    }

    fn on_reply(&mut self, pending: Pending, reply: Reply) -> Result<(), Error> {
        if let (Reply::ServerError { code, message }, false) = (&reply, matches!(pending, Pending::Fetch(..))) {
            return Err(Error::Server { code: *code, message: message.clone() });
        }
        match (pending, reply) {
            (Pending::Setup, Reply::Acknowledged) => Ok(()),
            (Pending::TokenLoad { initial }, Reply::Found(doc)) => {
                let (token, sequence) = checkpoint::token_loaded(doc.as_ref());
                self.token_sequence = sequence;
                self.saved_token = token.clone();
                if initial {
                    self.latest_token = token.clone();
                    self.watch = Some(token);
                }
                Ok(())
            }
            (Pending::TokenSave(token), reply) => match checkpoint::advanced(reply) {
                Advanced::Moved => {
                    self.token_sequence += 1;
                    self.saved_token = Some(token);
                    Ok(())
                }
                Advanced::Conflict => {
                    // Another instance stored a token: learn its sequence, then go on.
                    self.stats.conflicts += 1;
                    self.saved_token = self.latest_token.clone();
                    self.token_loaded = true;
                    self.outgoing_token_reload();
                    Ok(())
                }
                Advanced::Failed(other) => Err(unexpected("storing the resume token", &other)),
            },
            (Pending::Page(mut poll), Reply::FoundMany(docs)) => {
                let full = docs.len() as u64 >= u64::from(self.config.page_size);
                for d in &docs {
                    let (Ok(stream), Some(position)) = (d.get_str(STREAM_NAME), document_position(d)) else { continue };
                    let at = d.get_document(METADATA).ok().and_then(|m| m.get_datetime("updatedAt").ok()).copied();
                    if let Some(at) = at {
                        self.newest = Some(self.newest.map_or(at, |n| n.max(at)));
                    }
                    poll.after = Some((at, stream.to_owned()));
                    if self.wants(stream) {
                        self.push_head(Head { stream: stream.to_owned(), position, carried: Vec::new() });
                    }
                }
                if full {
                    self.poll = Some(poll);
                }
                Ok(())
            }
            (Pending::Checkpoints(heads), Reply::FoundMany(docs)) => {
                let known: Vec<(&str, u64)> = checkpoint::loaded(&docs).collect();
                for head in heads {
                    let checkpoint = known.iter().find(|(s, _)| *s == head.stream).map_or(0, |(_, p)| *p);
                    if head.position > checkpoint {
                        self.work.push_back(Work { head, checkpoint, fetched: false });
                    }
                }
                Ok(())
            }
            (Pending::Lookup, Reply::Found(doc)) => {
                if let Some(d) = doc {
                    if let (Ok(stream), Some(position)) = (d.get_str(STREAM_NAME), document_position(&d)) {
                        if self.wants(stream) {
                            self.push_head(Head { stream: stream.to_owned(), position, carried: Vec::new() });
                        }
                    }
                }
                Ok(())
            }
            (Pending::Fetch(mut work, mut fetch), reply) => {
                match fetch.on_reply(reply, "reading a subscribed stream") {
                    Fetched::Retry(cmd) => {
                        self.state = State::Awaiting(Pending::Fetch(work, fetch));
                        self.outgoing = Some(cmd);
                        Ok(())
                    }
                    Fetched::Failed(e) => Err(e),
                    Fetched::Document(None) => Ok(()),
                    Fetched::Document(Some(doc)) => {
                        let read = crate::ops::ReadResult::from_document(&work.head.stream, self.layout, Some(doc))?;
                        work.head.position = work.head.position.max(read.current_stream_version);
                        let first = work.checkpoint + 1;
                        let events: Vec<RecordedEvent> = read
                            .events
                            .into_iter()
                            .enumerate()
                            .take_while(|(i, e)| e.metadata.stream_position == first + *i as u64)
                            .map(|(_, e)| e)
                            .collect();
                        if !events.is_empty() {
                            work.head.carried = events;
                            work.fetched = true;
                            self.work.push_front(work);
                        }
                        Ok(())
                    }
                }
            }
            (Pending::Advance(mut work, to), reply) => match checkpoint::advanced(reply) {
                Advanced::Moved => {
                    work.checkpoint = to;
                    work.fetched = false;
                    if work.head.position > to {
                        self.work.push_front(work);
                    }
                    Ok(())
                }
                Advanced::Conflict => {
                    self.stats.conflicts += 1;
                    work.head.carried.clear();
                    self.push_head(work.head);
                    Ok(())
                }
                Advanced::Failed(other) => Err(unexpected("advancing a checkpoint", &other)),
            },
            (pending, other) => Err(unexpected(describe(&pending), &other)),
        }
    }

    fn outgoing_token_reload(&mut self) {
        self.state = State::Awaiting(Pending::TokenLoad { initial: false });
        self.outgoing = Some(checkpoint::token_load_command(&self.checkpoints, &self.config.consumer));
    }
}

fn describe(pending: &Pending) -> &'static str {
    match pending {
        Pending::Setup => "creating the subscription's indexes",
        Pending::Page(_) => "polling for updated streams",
        Pending::Checkpoints(_) => "reading checkpoints",
        Pending::Fetch(..) => "reading a subscribed stream",
        Pending::Advance(..) => "advancing a checkpoint",
        Pending::Lookup => "looking up a changed stream",
        Pending::TokenLoad { .. } => "reading the resume token",
        Pending::TokenSave(_) => "storing the resume token",
    }
}

fn misuse(message: &str) -> Error {
    Error::Misuse { message: message.to_owned() }
}
