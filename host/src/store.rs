//! The asynchronous event store facade: core's [`streamdoc_core::EventStore`] API,
//! awaited.

use bson::Document;
use streamdoc_core::ops::{ArchiveResult, CloseResult, RebuildAllResult, RebuildResult, StreamStatus, Summary};
use streamdoc_core::projection::{ProjectionQuery, ReadModel};
use streamdoc_core::{
    AggregateResult, AppendResult, Error, ExecutorError, ExpectedVersion, NewEvent, ReadRange, ReadResult,
    RecordedEvent, StoreConfig, StoreContext,
};

use crate::clock::{RandomIds, SystemClock};
use crate::driver::{self, AsyncExecutor, SharedEngine};
use crate::mongo::MongoExecutor;
use crate::store_executor::StoreExecutor;
use crate::ConnectError;

/// An event store over an [`AsyncExecutor`]: a live MongoDB ([`MongoExecutor`], the
/// default), core's in-memory engine ([`SharedEngine`]), or either one chosen at run
/// time ([`StoreExecutor`], see [`EventStore::into_any`]).
///
/// Every operation is built by core (a [`StoreContext`]) and driven by
/// [`driver::run`]; the store adds nothing but the `await`. Cloning is cheap, and clones
/// share the connection and the store's cache: which collections have their unique
/// index (created once per collection per store, on its first append), and where the
/// store last saw each stream (so that an `Any` or `StreamExists` append to a stream
/// still where this store left it is one round trip, not two).
///
/// ```no_run
/// use bson::doc;
/// use streamdoc_core::{Error, ExpectedVersion, NewEvent, ReadRange, StoreConfig};
/// use streamdoc_host::EventStore;
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let store = EventStore::connect("mongodb://127.0.0.1:27017", StoreConfig::new("shop")).await?;
/// let placed = NewEvent::new("OrderPlaced", doc! { "total": 42 });
/// store.append_to_stream("order:42", vec![placed], ExpectedVersion::NoStream).await?;
///
/// let stale = store.append_to_stream("order:42", vec![NewEvent::new("OrderPaid", doc! {})], ExpectedVersion::NoStream).await;
/// assert!(matches!(stale, Err(Error::ConcurrencyConflict { actual: Some(1), .. })));
///
/// let read = store.read_stream("order:42", ReadRange::all()).await?;
/// assert_eq!(read.events[0].event_type, "OrderPlaced");
/// store.close().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct EventStore<E = MongoExecutor> {
    ctx: StoreContext,
    executor: E,
}

impl EventStore<MongoExecutor> {
    /// Connects to `uri` with the system clock and random event ids. The store owns the
    /// client: [`EventStore::close`] shuts it down. Logs a warning when the server does
    /// not guarantee optimistic concurrency (see [`crate::ServerInfo::concurrency_warning`]).
    pub async fn connect(uri: &str, config: StoreConfig) -> Result<Self, ConnectError> {
        let ctx = real_time_context(config).map_err(ConnectError::InvalidConfig)?;
        Ok(Self::new(ctx, MongoExecutor::connect(uri).await?))
    }

    /// A store on an existing client, which stays the caller's: [`EventStore::close`]
    /// leaves it open.
    pub async fn with_client(client: mongodb::Client, config: StoreConfig) -> Result<Self, ConnectError> {
        let ctx = real_time_context(config).map_err(ConnectError::InvalidConfig)?;
        Ok(Self::new(ctx, MongoExecutor::with_client(client).await?))
    }

    /// Shuts the client down if the store created it ([`EventStore::connect`]); leaves a
    /// caller's client open. Clones share the client: close the last one.
    pub async fn close(self) {
        self.executor.close().await;
    }
}

impl EventStore<SharedEngine> {
    /// A store on a fresh in-memory engine, with the system clock and random event ids.
    ///
    /// ```
    /// use bson::doc;
    /// use streamdoc_core::{ExpectedVersion, NewEvent, StoreConfig};
    /// use streamdoc_host::EventStore;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = EventStore::in_memory(StoreConfig::new("shop")).unwrap();
    /// let r = store.append_to_stream("cart:1", vec![NewEvent::new("Opened", doc! {})], ExpectedVersion::Any).await.unwrap();
    /// assert!(r.created_new_stream);
    /// assert!(store.stream_exists("cart:1").await.unwrap());
    /// # });
    /// ```
    pub fn in_memory(config: StoreConfig) -> Result<Self, Error> {
        Ok(Self::new(real_time_context(config)?, SharedEngine::new(0)))
    }
}

/// A context with the system clock and random event ids.
fn real_time_context(config: StoreConfig) -> Result<StoreContext, Error> {
    StoreContext::new(config, SystemClock, RandomIds)
}

impl<E: AsyncExecutor> EventStore<E> {
    /// A store running `ctx`'s operations on `executor` (to inject a clock and an id
    /// generator, or another executor).
    pub fn new(ctx: StoreContext, executor: E) -> Self {
        Self { ctx, executor }
    }

    /// A consumer of this store's new events, to [`run`](crate::Subscriber::run): at
    /// least once, in order within each stream, from checkpoints in the database (see
    /// [`streamdoc_core::subscription`]). With [`Source::Auto`](streamdoc_core::subscription::Source::Auto)
    /// it watches a change stream where the server has them and polls elsewhere.
    pub fn subscriber(&self, config: streamdoc_core::subscription::SubscriptionConfig) -> crate::Subscriber<E>
    where
        E: Clone,
    {
        crate::Subscriber {
            ctx: self.ctx.clone(),
            executor: self.executor.clone(),
            config,
            poll_interval: std::time::Duration::from_millis(100),
            on_history_lost: crate::OnHistoryLost::default(),
        }
    }

    /// Appends `events` if the stream is where `expected` says; a
    /// [`Error::ConcurrencyConflict`] otherwise. After [`Error::Unavailable`] with an
    /// unknown outcome, retry with the same event ids: an append that had been applied
    /// reports success.
    pub async fn append_to_stream(
        &self,
        stream: &str,
        events: Vec<NewEvent>,
        expected: ExpectedVersion,
    ) -> Result<AppendResult, Error> {
        driver::run(&mut self.ctx.append(stream, events, expected)?, &self.executor).await
    }

    /// Reads the events of `range`.
    pub async fn read_stream(&self, stream: &str, range: ReadRange) -> Result<ReadResult, Error> {
        driver::run(&mut self.ctx.read(stream, range)?, &self.executor).await
    }

    /// Reads the events of `range` if the stream is where `expected` says; otherwise a
    /// [`Error::ConcurrencyConflict`] with its actual position. One round trip.
    pub async fn read_stream_expecting(
        &self,
        stream: &str,
        range: ReadRange,
        expected: ExpectedVersion,
    ) -> Result<ReadResult, Error> {
        driver::run(&mut self.ctx.read_expecting(stream, range, expected)?, &self.executor).await
    }

    /// Folds the whole stream with `evolve`, starting from `initial`.
    pub async fn aggregate_stream<S: Send>(
        &self,
        stream: &str,
        initial: S,
        evolve: impl FnMut(S, &RecordedEvent) -> S + Send,
    ) -> Result<AggregateResult<S>, Error> {
        driver::run(&mut self.ctx.aggregate(stream, initial, evolve)?, &self.executor).await
    }

    /// Whether the stream's events are in the live collection (false for a missing or an
    /// archived stream: [`EventStore::stream_status`] tells which).
    pub async fn stream_exists(&self, stream: &str) -> Result<bool, Error> {
        Ok(driver::run(&mut self.ctx.exists(stream)?, &self.executor).await?.exists())
    }

    /// Whether the stream is live, sealed, archived or missing, with its position and the
    /// streams it continues or is continued by: one `findOne` of a few fields.
    ///
    /// ```
    /// use bson::doc;
    /// use streamdoc_core::ops::StreamState;
    /// use streamdoc_core::{ExpectedVersion, NewEvent, StoreConfig};
    /// use streamdoc_host::EventStore;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = EventStore::in_memory(StoreConfig::new("shop")).unwrap();
    /// assert_eq!(store.stream_status("order:1").await.unwrap().state, StreamState::Missing);
    /// store.append_to_stream("order:1", vec![NewEvent::new("Placed", doc! {})], ExpectedVersion::NoStream).await.unwrap();
    /// let status = store.stream_status("order:1").await.unwrap();
    /// assert_eq!((status.state, status.stream_position), (StreamState::Live, 1));
    /// # });
    /// ```
    pub async fn stream_status(&self, stream: &str) -> Result<StreamStatus, Error> {
        driver::run(&mut self.ctx.exists(stream)?, &self.executor).await
    }

    /// Moves the stream to the archive collection if it is where `expected` says
    /// ([`streamdoc_core::ops::Archive`] has the steps): sealed first, so that an append
    /// racing the archive either lands before it, and is archived with the stream, or
    /// fails with [`Error::StreamArchived`]. The live collection keeps a tombstone.
    /// Interrupted anywhere, it is finished by running it again; archiving an archived
    /// stream again returns the same result.
    ///
    /// ```
    /// use bson::doc;
    /// use streamdoc_core::{Error, ExpectedVersion, NewEvent, ReadRange, StoreConfig};
    /// use streamdoc_host::EventStore;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = EventStore::in_memory(StoreConfig::new("shop")).unwrap();
    /// store.append_to_stream("order:1", vec![NewEvent::new("Placed", doc! {})], ExpectedVersion::NoStream).await.unwrap();
    /// let archived = store.archive_stream("order:1", ExpectedVersion::Exact(1)).await.unwrap();
    /// assert_eq!((archived.stream_position, archived.successor), (1, None));
    /// let late = store.append_to_stream("order:1", vec![NewEvent::new("Paid", doc! {})], ExpectedVersion::Any).await;
    /// assert!(matches!(late, Err(Error::StreamArchived { position: 1, .. })));
    /// let read = store.read_archived_stream("order:1", ReadRange::all()).await.unwrap();
    /// assert_eq!(read.events[0].event_type, "Placed");
    /// # });
    /// ```
    pub async fn archive_stream(&self, stream: &str, expected: ExpectedVersion) -> Result<ArchiveResult, Error> {
        driver::run(&mut self.ctx.archive(stream, expected)?, &self.executor).await
    }

    /// Reads `range` of an archived stream from the archive collection (a stream that is
    /// not archived reads as no stream).
    pub async fn read_archived_stream(&self, stream: &str, range: ReadRange) -> Result<ReadResult, Error> {
        driver::run(&mut self.ctx.read_archived(stream, range)?, &self.executor).await
    }

    /// Closes the books: archives `stream` (where `expected` says) and starts `successor`,
    /// which must not exist, with `summary` as its first event
    /// ([`streamdoc_core::ops::CloseStream`] has the steps). The successor records its
    /// predecessor, the archived stream its successor ([`EventStore::stream_status`]).
    ///
    /// ```
    /// use bson::doc;
    /// use streamdoc_core::ops::{StreamState, Summary};
    /// use streamdoc_core::{ExpectedVersion, NewEvent, ReadRange, StoreConfig};
    /// use streamdoc_host::EventStore;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = EventStore::in_memory(StoreConfig::new("bank")).unwrap();
    /// let deposits = vec![NewEvent::new("Deposited", doc! { "amount": 5 }), NewEvent::new("Deposited", doc! { "amount": 7 })];
    /// store.append_to_stream("account:2026", deposits, ExpectedVersion::NoStream).await.unwrap();
    /// let opening = Summary::Event(NewEvent::new("OpeningBalance", doc! { "amount": 12 }));
    /// let closed = store.close_stream("account:2026", ExpectedVersion::Exact(2), "account:2027", opening).await.unwrap();
    /// assert_eq!((closed.closed_at, closed.next_expected_stream_version), (2, 1));
    /// let next = store.read_stream("account:2027", ReadRange::all()).await.unwrap();
    /// assert_eq!(next.events[0].event_type, "OpeningBalance");
    /// let old = store.stream_status("account:2026").await.unwrap();
    /// assert_eq!((old.state, old.successor.as_deref()), (StreamState::Archived, Some("account:2027")));
    /// # });
    /// ```
    pub async fn close_stream(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        successor: &str,
        summary: Summary,
    ) -> Result<CloseResult, Error> {
        driver::run(&mut self.ctx.close_stream(stream, expected, successor, summary)?, &self.executor).await
    }

    /// The stream's document exactly as stored (identity, metadata, events, projections;
    /// nothing decoded), or `None` when the stream does not exist.
    ///
    /// ```
    /// use bson::doc;
    /// use streamdoc_core::{ExpectedVersion, NewEvent, StoreConfig};
    /// use streamdoc_host::EventStore;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let store = EventStore::in_memory(StoreConfig::new("shop")).unwrap();
    /// assert_eq!(store.stream_document("order:7").await.unwrap(), None);
    /// store.append_to_stream("order:7", vec![NewEvent::new("Placed", doc! {})], ExpectedVersion::NoStream).await.unwrap();
    /// let stored = store.stream_document("order:7").await.unwrap().unwrap();
    /// assert_eq!(stored.get_str("streamName").unwrap(), "order:7");
    /// assert_eq!(stored.get_document("metadata").unwrap().get_i64("streamPosition").unwrap(), 1);
    /// # });
    /// ```
    pub async fn stream_document(&self, stream: &str) -> Result<Option<Document>, Error> {
        driver::run(&mut self.ctx.document(stream)?, &self.executor).await
    }

    /// The stream's read model of `projection` (`None`: no stream, or no read model):
    /// one `findOne` reduced to `projections.<projection>`. Reading needs no
    /// registered projection; any read model stored in the document is found.
    ///
    /// ```
    /// use bson::{doc, Document};
    /// use streamdoc_core::projection::InlineProjection;
    /// use streamdoc_core::{ExpectedVersion, NewEvent, StoreConfig};
    /// use streamdoc_host::EventStore;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let total = InlineProjection::new("total", ["ItemAdded"], |state: Option<Document>, event| {
    ///     let sum = state.unwrap_or_default().get_i64("sum").unwrap_or(0) + event.data.get_i64("price").unwrap_or(0);
    ///     Ok(Some(doc! { "sum": sum }))
    /// });
    /// let store = EventStore::in_memory(StoreConfig::new("shop").with_projection(total)).unwrap();
    /// let add = |price: i64| NewEvent::new("ItemAdded", doc! { "price": price });
    /// store.append_to_stream("cart:1", vec![add(10), add(5)], ExpectedVersion::NoStream).await.unwrap();
    /// let model = store.read_model("cart:1", "total").await.unwrap().expect("written with the events");
    /// assert_eq!(model.state(), doc! { "sum": 15_i64 });
    /// assert_eq!(model.metadata().stream_position, 2);
    /// assert_eq!(store.read_model("cart:2", "total").await.unwrap(), None);
    /// # });
    /// ```
    pub async fn read_model(&self, stream: &str, projection: &str) -> Result<Option<ReadModel>, Error> {
        driver::run(&mut self.ctx.read_model(stream, projection)?, &self.executor).await
    }

    /// The read models `query` finds, in its order (ties, and no sort, by stream name):
    /// on the collection's first use by this store its indexes, then one `find`.
    ///
    /// ```
    /// use bson::doc;
    /// use streamdoc_core::projection::{InlineProjection, ProjectionQuery};
    /// use streamdoc_core::{ExpectedVersion, NewEvent, StoreConfig};
    /// use streamdoc_host::EventStore;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let status = InlineProjection::new("status", ["Opened", "Closed"], |_, e| {
    ///     Ok(Some(doc! { "open": e.event_type == "Opened" }))
    /// });
    /// let store = EventStore::in_memory(StoreConfig::new("desk").with_projection(status)).unwrap();
    /// for (id, event) in [("1", "Opened"), ("2", "Closed"), ("3", "Opened")] {
    ///     let stream = format!("ticket:{id}");
    ///     store.append_to_stream(&stream, vec![NewEvent::new(event, doc! {})], ExpectedVersion::NoStream).await.unwrap();
    /// }
    /// let open = ProjectionQuery::new("ticket", "status").filter(doc! { "open": true });
    /// let found = store.find_read_models(open.clone()).await.unwrap();
    /// assert_eq!(found.iter().map(|m| m.stream_name.as_str()).collect::<Vec<_>>(), ["ticket:1", "ticket:3"]);
    /// let first = store.find_read_model(open.clone()).await.unwrap().unwrap();
    /// assert_eq!(first.stream_name, "ticket:1");
    /// assert_eq!(store.count_read_models(open).await.unwrap(), 2);
    /// # });
    /// ```
    pub async fn find_read_models(&self, query: ProjectionQuery) -> Result<Vec<ReadModel>, Error> {
        driver::run(&mut self.ctx.query_models(query, false), &self.executor).await?.into_models()
    }

    /// The first read model `query` finds (its limit set to 1).
    pub async fn find_read_model(&self, query: ProjectionQuery) -> Result<Option<ReadModel>, Error> {
        Ok(self.find_read_models(query.limit(1)).await?.into_iter().next())
    }

    /// How many read models `query` matches, its skip and limit applied: one
    /// `countDocuments` (after the collection's indexes, on its first use).
    pub async fn count_read_models(&self, query: ProjectionQuery) -> Result<u64, Error> {
        driver::run(&mut self.ctx.query_models(query, true), &self.executor).await?.into_count()
    }

    /// Recomputes `stream`'s read models (of `projection` only, when given) from its
    /// events, written at the position read (read again if an append moved it). The
    /// projections must be registered ([`StoreConfig::with_projection`]); otherwise an
    /// [`Error::InvalidConfig`] and nothing is sent.
    ///
    /// ```
    /// use bson::doc;
    /// use streamdoc_core::projection::InlineProjection;
    /// use streamdoc_core::{Error, ExpectedVersion, NewEvent, StoreConfig};
    /// use streamdoc_host::EventStore;
    ///
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let count = InlineProjection::new("count", ["Tick"], |state: Option<bson::Document>, _| {
    ///     Ok(Some(doc! { "n": state.and_then(|s| s.get_i32("n").ok()).unwrap_or(0) + 1 }))
    /// });
    /// let store = EventStore::in_memory(StoreConfig::new("clock").with_projection(count)).unwrap();
    /// let ticks = vec![NewEvent::new("Tick", doc! {}), NewEvent::new("Tick", doc! {})];
    /// store.append_to_stream("timer:1", ticks, ExpectedVersion::NoStream).await.unwrap();
    /// let rebuilt = store.rebuild_read_models("timer:1", Some("count")).await.unwrap();
    /// assert_eq!((rebuilt.stream_exists, rebuilt.stream_position), (true, 2));
    /// assert_eq!(store.rebuild_all_read_models("timer", None).await.unwrap().streams, 1);
    /// let unknown = store.rebuild_read_models("timer:1", Some("other")).await;
    /// assert!(matches!(unknown, Err(Error::InvalidConfig(_))));
    /// # });
    /// ```
    pub async fn rebuild_read_models(&self, stream: &str, projection: Option<&str>) -> Result<RebuildResult, Error> {
        driver::run(&mut self.ctx.rebuild(stream, projection)?, &self.executor).await
    }

    /// Recomputes the read models (of `projection` only, when given) of every stream of
    /// `stream_type`, one stream at a time, in pages of stream names.
    pub async fn rebuild_all_read_models(
        &self,
        stream_type: &str,
        projection: Option<&str>,
    ) -> Result<RebuildAllResult, Error> {
        driver::run(&mut self.ctx.rebuild_all(stream_type, projection), &self.executor).await
    }

    /// Whether the executor answers now ([`AsyncExecutor::ping`]): always on the
    /// in-memory engine; on MongoDB, whether the server answers a `ping` in time.
    pub async fn ping(&self) -> Result<(), ExecutorError> {
        self.executor.ping().await
    }

    /// The same store on an executor chosen at run time ([`StoreExecutor`]), keeping its
    /// context (configuration, cache, clock, ids). `From` does the same:
    /// `let any: EventStore<StoreExecutor> = store.into();`.
    ///
    /// ```
    /// use streamdoc_core::StoreConfig;
    /// use streamdoc_host::{EventStore, StoreExecutor};
    ///
    /// let store: EventStore<StoreExecutor> = EventStore::in_memory(StoreConfig::new("shop")).unwrap().into_any();
    /// assert_eq!(store.executor().kind(), "memory");
    /// ```
    pub fn into_any(self) -> EventStore<StoreExecutor>
    where
        E: Into<StoreExecutor>,
    {
        EventStore { ctx: self.ctx, executor: self.executor.into() }
    }

    /// The operation builder (configuration, cache, clock, ids).
    pub fn context(&self) -> &StoreContext {
        &self.ctx
    }

    /// The executor.
    pub fn executor(&self) -> &E {
        &self.executor
    }

    /// The executor, giving the store up.
    pub fn into_executor(self) -> E {
        self.executor
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;
    use streamdoc_core::{Engine, SeededIds, SteppingClock};

    use super::*;

    fn context() -> StoreContext {
        StoreContext::new(StoreConfig::new("app"), SteppingClock::new(0, 1), SeededIds::new(7)).unwrap()
    }

    /// The async loop drives the same operations as core's sync loop: same results, same
    /// stored documents.
    #[test]
    fn the_async_store_answers_as_the_sync_store_does() {
        let mut sync = streamdoc_core::EventStore::new(context(), Engine::new(0));
        let engine = SharedEngine::new(0);
        let store = EventStore::new(context(), engine.clone());
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let e = |t: &str| vec![NewEvent::new(t, doc! { "n": 1 })];
        runtime.block_on(async {
            for (stream, expected) in [
                ("order:1", ExpectedVersion::NoStream),
                ("order:1", ExpectedVersion::Exact(1)),
                ("order:1", ExpectedVersion::Exact(1)),
                ("order:2", ExpectedVersion::StreamExists),
                ("order:2", ExpectedVersion::Any),
            ] {
                assert_eq!(
                    store.append_to_stream(stream, e("E"), expected).await,
                    sync.append_to_stream(stream, e("E"), expected)
                );
            }
            let range = ReadRange { from: Some(2), ..ReadRange::default() };
            assert_eq!(store.read_stream("order:1", range).await, sync.read_stream("order:1", range));
            assert_eq!(store.stream_exists("order:3").await, sync.stream_exists("order:3"));
            let count = |n: u64, _: &RecordedEvent| n + 1;
            assert_eq!(store.aggregate_stream("order:1", 0, count).await, sync.aggregate_stream("order:1", 0, count));
            for stream in ["order:1", "order:3"] {
                assert_eq!(store.stream_status(stream).await, sync.stream_status(stream));
            }
            let summary = || Summary::Event(NewEvent::new("Summary", doc! { "n": 3 }));
            assert_eq!(
                store.close_stream("order:2", ExpectedVersion::Any, "order:9", summary()).await,
                sync.close_stream("order:2", ExpectedVersion::Any, "order:9", summary())
            );
            for expected in [ExpectedVersion::Exact(3), ExpectedVersion::Exact(2), ExpectedVersion::Any] {
                assert_eq!(store.archive_stream("order:1", expected).await, sync.archive_stream("order:1", expected));
            }
            for stream in ["order:1", "order:2", "order:9"] {
                assert_eq!(store.stream_status(stream).await, sync.stream_status(stream));
                let all = ReadRange::all();
                assert_eq!(store.read_archived_stream(stream, all).await, sync.read_archived_stream(stream, all));
                assert_eq!(store.read_stream(stream, all).await, sync.read_stream(stream, all));
            }
            assert!(store.stream_status("order:9").await.unwrap().predecessor.is_some());
            assert_eq!(store.read_archived_stream("order:1", ReadRange::all()).await.unwrap().events.len(), 2);
        });
        for (collection, documents) in [("order", 3), ("order_archive", 2)] {
            let ns = streamdoc_core::Namespace::new("app", collection);
            assert_eq!(engine.with_engine(|e| e.documents(&ns)), sync.executor().documents(&ns));
            assert_eq!(sync.executor().documents(&ns).len(), documents, "{collection}");
        }
    }

    /// The document is the one the engine holds, byte for byte; an unknown stream has
    /// none, and an invalid name is refused before any command.
    #[test]
    fn the_stream_document_is_the_stored_one() {
        let engine = SharedEngine::new(0);
        let store = EventStore::new(context(), engine.clone());
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        runtime.block_on(async {
            assert_eq!(store.stream_document("order:1").await, Ok(None));
            let events = vec![NewEvent::new("Placed", doc! { "total": 42 }), NewEvent::new("Paid", doc! {})];
            store.append_to_stream("order:1", events, ExpectedVersion::NoStream).await.unwrap();
            store
                .append_to_stream("order:2", vec![NewEvent::new("Placed", doc! {})], ExpectedVersion::NoStream)
                .await
                .unwrap();
            let stored = engine.with_engine(|e| e.documents(&streamdoc_core::Namespace::new("app", "order")));
            let first = stored.iter().find(|d| d.get_str("streamName").ok() == Some("order:1")).unwrap();
            let fetched = store.stream_document("order:1").await.unwrap().unwrap();
            assert_eq!(fetched.to_vec().unwrap(), first.to_vec().unwrap());
            assert_eq!(fetched.get_array("events").unwrap().len(), 2);
            assert!(matches!(store.stream_document("no-colon").await, Err(Error::InvalidStreamName(_))));
            assert_eq!(store.ping().await, Ok(()));
        });
    }

    #[test]
    fn an_invalid_configuration_is_refused_up_front() {
        assert!(matches!(EventStore::in_memory(StoreConfig::new("a.b")), Err(Error::InvalidConfig(_))));
    }
}
