//! The synchronous event store facade.

use crate::context::StoreContext;
use crate::driver::{self, Executor};
use crate::engine::Engine;
use crate::error::Error;
use crate::event::{NewEvent, RecordedEvent};
use crate::expected::ExpectedVersion;
use crate::ids::{SeededIds, SteppingClock};
use crate::layout::StoreConfig;
use crate::ops::{
    AggregateResult, AppendResult, ArchiveResult, CloseResult, ReadRange, ReadResult, RebuildAllResult, RebuildResult,
    StreamStatus, Summary,
};
use crate::projection::{ProjectionQuery, ReadModel};

/// 2026-01-01T00:00:00Z, where the in-memory store's default clock starts.
pub const DEFAULT_CLOCK_START_MS: i64 = 1_767_225_600_000;

/// An event store over a synchronous executor (by default, the in-memory engine).
///
/// ```
/// use bson::doc;
/// use streamdoc_core::{Error, EventStore, ExpectedVersion, NewEvent, ReadRange};
///
/// let mut store = EventStore::in_memory();
/// let placed = NewEvent::new("OrderPlaced", doc! { "total": 42 });
/// let r = store.append_to_stream("order:1", vec![placed], ExpectedVersion::NoStream).unwrap();
/// assert_eq!(r.next_expected_stream_version, 1);
///
/// let stale = store.append_to_stream("order:1", vec![NewEvent::new("OrderPaid", doc! {})], ExpectedVersion::Exact(0));
/// assert!(matches!(stale, Err(Error::ConcurrencyConflict { actual: Some(1), .. })));
///
/// let read = store.read_stream("order:1", ReadRange::all()).unwrap();
/// assert_eq!(read.events[0].event_type, "OrderPlaced");
/// ```
#[derive(Debug)]
pub struct EventStore<E = Engine> {
    ctx: StoreContext,
    executor: E,
}

impl EventStore<Engine> {
    /// A store on a fresh in-memory engine, database `streamdoc`, default layout, a
    /// clock stepping 1 ms per reading from [`DEFAULT_CLOCK_START_MS`] and seeded event
    /// ids: fully deterministic. Use [`EventStore::new`] to inject a real clock.
    pub fn in_memory() -> Self {
        let ctx = StoreContext::new(
            StoreConfig::new("streamdoc"),
            SteppingClock::new(DEFAULT_CLOCK_START_MS, 1),
            SeededIds::new(0),
        )
        .unwrap_or_else(|_| unreachable!("the default configuration is valid"));
        Self { ctx, executor: Engine::new(0) }
    }
}

impl<E: Executor> EventStore<E> {
    /// A store running `ctx`'s operations on `executor`.
    pub fn new(ctx: StoreContext, executor: E) -> Self {
        Self { ctx, executor }
    }

    /// Appends `events` if the stream is where `expected` says.
    pub fn append_to_stream(
        &mut self,
        stream: &str,
        events: Vec<NewEvent>,
        expected: ExpectedVersion,
    ) -> Result<AppendResult, Error> {
        driver::run(&mut self.ctx.append(stream, events, expected)?, &mut self.executor)
    }

    /// Reads the events of `range`.
    pub fn read_stream(&mut self, stream: &str, range: ReadRange) -> Result<ReadResult, Error> {
        driver::run(&mut self.ctx.read(stream, range)?, &mut self.executor)
    }

    /// Reads the events of `range` if the stream is where `expected` says; otherwise a
    /// [`Error::ConcurrencyConflict`] with its actual position.
    ///
    /// ```
    /// use streamdoc_core::{
    ///     Engine, Error, EventStore, ExpectedVersion, NewEvent, ReadRange, SeededIds, SteppingClock, StoreConfig,
    ///     StoreContext,
    /// };
    ///
    /// let ctx = StoreContext::new(StoreConfig::new("app"), SteppingClock::new(0, 1), SeededIds::new(1))?;
    /// let mut store = EventStore::new(ctx, Engine::new(1));
    /// store.append_to_stream("order:1", vec![NewEvent::new("Placed", bson::doc! {})], ExpectedVersion::NoStream)?;
    /// let read = store.read_stream_expecting("order:1", ReadRange::all(), ExpectedVersion::Exact(1))?;
    /// assert_eq!(read.events.len(), 1);
    /// let stale = store.read_stream_expecting("order:1", ReadRange::all(), ExpectedVersion::NoStream);
    /// assert!(matches!(stale, Err(Error::ConcurrencyConflict { actual: Some(1), .. })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn read_stream_expecting(
        &mut self,
        stream: &str,
        range: ReadRange,
        expected: ExpectedVersion,
    ) -> Result<ReadResult, Error> {
        driver::run(&mut self.ctx.read_expecting(stream, range, expected)?, &mut self.executor)
    }

    /// Folds the whole stream with `evolve`, starting from `initial`.
    pub fn aggregate_stream<S>(
        &mut self,
        stream: &str,
        initial: S,
        evolve: impl FnMut(S, &RecordedEvent) -> S,
    ) -> Result<AggregateResult<S>, Error> {
        driver::run(&mut self.ctx.aggregate(stream, initial, evolve)?, &mut self.executor)
    }

    /// Whether the stream's events are in the live collection (false for a missing or an
    /// archived stream: [`EventStore::stream_status`] tells which).
    pub fn stream_exists(&mut self, stream: &str) -> Result<bool, Error> {
        Ok(driver::run(&mut self.ctx.exists(stream)?, &mut self.executor)?.exists())
    }

    /// Whether the stream is live, sealed, archived or missing, with its position and the
    /// streams it continues or is continued by.
    pub fn stream_status(&mut self, stream: &str) -> Result<StreamStatus, Error> {
        driver::run(&mut self.ctx.exists(stream)?, &mut self.executor)
    }

    /// Moves the stream to the archive collection if it is where `expected` says
    /// ([`crate::ops::Archive`] has the steps and an example).
    pub fn archive_stream(&mut self, stream: &str, expected: ExpectedVersion) -> Result<ArchiveResult, Error> {
        driver::run(&mut self.ctx.archive(stream, expected)?, &mut self.executor)
    }

    /// Reads `range` of an archived stream from the archive collection.
    pub fn read_archived_stream(&mut self, stream: &str, range: ReadRange) -> Result<ReadResult, Error> {
        driver::run(&mut self.ctx.read_archived(stream, range)?, &mut self.executor)
    }

    /// Closes the books: archives `stream` (where `expected` says) and starts `successor`
    /// with `summary` ([`crate::ops::CloseStream`] has the steps and an example).
    pub fn close_stream(
        &mut self,
        stream: &str,
        expected: ExpectedVersion,
        successor: &str,
        summary: Summary,
    ) -> Result<CloseResult, Error> {
        driver::run(&mut self.ctx.close_stream(stream, expected, successor, summary)?, &mut self.executor)
    }

    /// The stream's read model of `projection` (`None`: no stream, or no read model).
    pub fn read_model(&mut self, stream: &str, projection: &str) -> Result<Option<ReadModel>, Error> {
        driver::run(&mut self.ctx.read_model(stream, projection)?, &mut self.executor)
    }

    /// The read models `query` finds, in its order (ties by stream name).
    ///
    /// ```
    /// use bson::doc;
    /// use streamdoc_core::projection::{InlineProjection, ProjectionQuery};
    /// use streamdoc_core::{Engine, EventStore, ExpectedVersion, NewEvent, SeededIds, SteppingClock, StoreConfig, StoreContext};
    ///
    /// let status = InlineProjection::new("status", ["Opened", "Closed"], |_, e| {
    ///     Ok(Some(doc! { "open": e.event_type == "Opened" }))
    /// });
    /// let ctx = StoreContext::new(StoreConfig::new("app").with_projection(status), SteppingClock::new(0, 1), SeededIds::new(1))?;
    /// let mut store = EventStore::new(ctx, Engine::new(1));
    /// for (id, event) in [("1", "Opened"), ("2", "Closed"), ("3", "Opened")] {
    ///     store.append_to_stream(&format!("ticket:{id}"), vec![NewEvent::new(event, doc! {})], ExpectedVersion::NoStream)?;
    /// }
    /// let open = ProjectionQuery::new("ticket", "status").filter(doc! { "open": true });
    /// let found = store.find_read_models(open.clone())?;
    /// assert_eq!(found.iter().map(|m| m.stream_name.as_str()).collect::<Vec<_>>(), ["ticket:1", "ticket:3"]);
    /// assert_eq!(store.count_read_models(open)?, 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn find_read_models(&mut self, query: ProjectionQuery) -> Result<Vec<ReadModel>, Error> {
        driver::run(&mut self.ctx.query_models(query, false), &mut self.executor)?.into_models()
    }

    /// The first read model `query` finds.
    pub fn find_read_model(&mut self, query: ProjectionQuery) -> Result<Option<ReadModel>, Error> {
        Ok(self.find_read_models(query.limit(1))?.into_iter().next())
    }

    /// How many read models `query` matches (its skip and limit applied).
    pub fn count_read_models(&mut self, query: ProjectionQuery) -> Result<u64, Error> {
        driver::run(&mut self.ctx.query_models(query, true), &mut self.executor)?.into_count()
    }

    /// Recomputes `stream`'s read models (of `projection` only, when given) from its events.
    pub fn rebuild_read_models(&mut self, stream: &str, projection: Option<&str>) -> Result<RebuildResult, Error> {
        driver::run(&mut self.ctx.rebuild(stream, projection)?, &mut self.executor)
    }

    /// Recomputes the read models of every stream of `stream_type`.
    pub fn rebuild_all_read_models(
        &mut self,
        stream_type: &str,
        projection: Option<&str>,
    ) -> Result<RebuildAllResult, Error> {
        driver::run(&mut self.ctx.rebuild_all(stream_type, projection), &mut self.executor)
    }

    /// The operation builder.
    pub fn context(&self) -> &StoreContext {
        &self.ctx
    }

    /// The executor (e.g. the engine, to inspect stored documents).
    pub fn executor(&self) -> &E {
        &self.executor
    }

    /// The executor, mutably.
    pub fn executor_mut(&mut self) -> &mut E {
        &mut self.executor
    }
}
