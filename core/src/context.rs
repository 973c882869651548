//! Everything a store needs except its executor: configuration, the index registry,
//! the clock and the id generator. Sync and async facades share it, so the ops they
//! build are identical.

use std::fmt;
use std::sync::Arc;

use crate::error::Error;
use crate::event::{NewEvent, RecordedEvent};
use crate::expected::ExpectedVersion;
use crate::ids::{Clock, IdGenerator};
use crate::layout::StoreConfig;
use crate::ops::{
    Aggregate, AnyOp, Append, Archive, CloseStream, Exists, FetchDocument, OpSpec, QueryModels, Read, ReadModelOp,
    ReadRange, Rebuild, RebuildAll, StoreCache, Summary,
};
use crate::projection::ProjectionQuery;

/// Builds operations for one store: the one place that turns a request into an
/// operation, for the facades, the simulator and the scenario runners alike.
///
/// ```
/// use streamdoc_core::{SeededIds, SteppingClock, StoreConfig, StoreContext};
///
/// let ctx = StoreContext::new(StoreConfig::new("app"), SteppingClock::new(0, 1), SeededIds::new(1)).unwrap();
/// assert!(ctx.read("order:1", Default::default()).is_ok());
/// assert!(ctx.read("no-colon", Default::default()).is_err());
/// ```
#[derive(Clone)]
pub struct StoreContext {
    config: StoreConfig,
    cache: StoreCache,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
}

impl fmt::Debug for StoreContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoreContext").field("config", &self.config).field("cache", &self.cache).finish_non_exhaustive()
    }
}

impl StoreContext {
    /// Validates `config` and keeps the clock and id generator.
    pub fn new(
        config: StoreConfig,
        clock: impl Clock + 'static,
        ids: impl IdGenerator + 'static,
    ) -> Result<Self, Error> {
        Self::with_shared(config, Arc::new(clock), Arc::new(ids))
    }

    /// As [`StoreContext::new`], with a clock and generator shared with others.
    pub fn with_shared(config: StoreConfig, clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Result<Self, Error> {
        config.validate()?;
        Ok(Self { config, cache: StoreCache::new(), clock, ids })
    }

    /// The clock appends read.
    pub(crate) fn clock(&self) -> &dyn Clock {
        self.clock.as_ref()
    }

    /// The clock, shared (a subscription stamps its checkpoints with it).
    pub(crate) fn shared_clock(&self) -> Arc<dyn Clock> {
        Arc::clone(&self.clock)
    }

    /// Where events given without an id get one.
    pub(crate) fn ids(&self) -> &dyn IdGenerator {
        self.ids.as_ref()
    }

    /// The configuration.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// What the store remembers between operations: the collections whose index it has
    /// ensured, and where it last saw each stream.
    pub fn cache(&self) -> &StoreCache {
        &self.cache
    }

    /// A copy that shares the configuration, the clock and the id generator but remembers
    /// on its own: its cache starts as a copy of this one's (a simulation branching).
    pub fn fork(&self) -> StoreContext {
        self.with_cache(self.cache.snapshot())
    }

    /// This context with `cache` as what it remembers.
    pub fn with_cache(&self, cache: StoreCache) -> StoreContext {
        StoreContext { cache, ..self.clone() }
    }

    /// An append; `now` is read from the clock, missing event ids from the generator.
    pub fn append(&self, stream: &str, events: Vec<NewEvent>, expected: ExpectedVersion) -> Result<Append, Error> {
        self.build_append(stream, events, expected, self.clock.as_ref(), self.ids.as_ref())
    }

    /// An operation described as data, with this store's clock and id generator.
    ///
    /// ```
    /// use streamdoc_core::ops::AnyOp;
    /// use streamdoc_core::{OpSpec, SeededIds, SteppingClock, StoreConfig, StoreContext};
    ///
    /// let ctx = StoreContext::new(StoreConfig::new("app"), SteppingClock::new(0, 1), SeededIds::new(1)).unwrap();
    /// let op = ctx.prepare(&OpSpec::Exists { stream: "order:1".into() }).unwrap();
    /// assert!(matches!(op, AnyOp::Exists(_)));
    /// assert!(ctx.prepare(&OpSpec::Exists { stream: "order".into() }).is_err());
    /// ```
    pub fn prepare(&self, spec: &OpSpec) -> Result<AnyOp, Error> {
        self.prepare_with(spec, self.clock.as_ref(), self.ids.as_ref())
    }

    /// As [`StoreContext::prepare`], reading the time (only an append does) from `clock`
    /// and the ids of events given without one from `ids` (the simulator's, so that
    /// every interleaving assigns the same).
    pub fn prepare_with(&self, spec: &OpSpec, clock: &dyn Clock, ids: &dyn IdGenerator) -> Result<AnyOp, Error> {
        Ok(match spec {
            OpSpec::Append { stream, events, expected } => {
                AnyOp::Append(self.build_append(stream, events.clone(), *expected, clock, ids)?)
            }
            OpSpec::Read { stream, range, expected, from_archive: false } => {
                AnyOp::Read(self.read_expecting(stream, *range, *expected)?)
            }
            OpSpec::Read { stream, range, expected, from_archive: true } => {
                let name = self.config.stream_name(stream)?;
                AnyOp::Read(Read::from(&self.config, name, *range, *expected, true))
            }
            OpSpec::Exists { stream } => AnyOp::Exists(self.exists(stream)?),
            OpSpec::Status { stream } => AnyOp::Status(self.exists(stream)?),
            OpSpec::Archive { stream, expected } => AnyOp::Archive(self.archive_with(stream, *expected, clock)?),
            OpSpec::CloseStream { stream, successor, summary, expected } => AnyOp::CloseStream(Box::new(
                self.close_with(stream, *expected, successor, Summary::Event(summary.clone()), clock)?,
            )),
            OpSpec::Rebuild { stream, projection } => AnyOp::Rebuild(self.rebuild(stream, projection.as_deref())?),
            OpSpec::ReadModel { stream, projection } => AnyOp::ReadModel(self.read_model(stream, projection)?),
        })
    }

    fn build_append(
        &self,
        stream: &str,
        events: Vec<NewEvent>,
        expected: ExpectedVersion,
        clock: &dyn Clock,
        ids: &dyn IdGenerator,
    ) -> Result<Append, Error> {
        let stream = self.config.stream_name(stream)?;
        Ok(Append::new(&self.config, &self.cache, stream, events, expected, clock.now(), ids))
    }

    /// A read of `range`.
    pub fn read(&self, stream: &str, range: ReadRange) -> Result<Read, Error> {
        self.read_expecting(stream, range, ExpectedVersion::Any)
    }

    /// A read of `range` that fails with [`Error::ConcurrencyConflict`] (the stream's
    /// actual position in it) unless the stream is where `expected` says, as Emmett's
    /// `readStream(name, { expectedStreamVersion })` does. Still one round trip.
    pub fn read_expecting(&self, stream: &str, range: ReadRange, expected: ExpectedVersion) -> Result<Read, Error> {
        Ok(Read::new(&self.config, self.config.stream_name(stream)?, range, expected))
    }

    /// A read of `range` from the archive collection (a stream archived by
    /// [`StoreContext::archive`] or [`StoreContext::close_stream`]).
    pub fn read_archived(&self, stream: &str, range: ReadRange) -> Result<Read, Error> {
        Ok(Read::from(&self.config, self.config.stream_name(stream)?, range, ExpectedVersion::Any, true))
    }

    /// An archive of `stream`, if it is where `expected` says; `now` is read from the
    /// clock.
    pub fn archive(&self, stream: &str, expected: ExpectedVersion) -> Result<Archive, Error> {
        self.archive_with(stream, expected, self.clock.as_ref())
    }

    fn archive_with(&self, stream: &str, expected: ExpectedVersion, clock: &dyn Clock) -> Result<Archive, Error> {
        let stream = self.config.stream_name(stream)?;
        Ok(Archive::new(&self.config, &self.cache, stream, expected, None, clock.now()))
    }

    /// Closing the books on `stream` (where `expected` says) into `successor`, which
    /// starts with `summary`.
    pub fn close_stream(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        successor: &str,
        summary: Summary,
    ) -> Result<CloseStream, Error> {
        self.close_with(stream, expected, successor, summary, self.clock.as_ref())
    }

    fn close_with(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        successor: &str,
        summary: Summary,
        clock: &dyn Clock,
    ) -> Result<CloseStream, Error> {
        let (stream, successor) = (self.config.stream_name(stream)?, self.config.stream_name(successor)?);
        Ok(CloseStream::new(&self.config, &self.cache, stream, successor, expected, summary, clock.now()))
    }

    /// An existence check (as an operation, it also reports the stream's status).
    pub fn exists(&self, stream: &str) -> Result<Exists, Error> {
        Ok(Exists::new(&self.config, self.config.stream_name(stream)?))
    }

    /// A fetch of the stream's document as stored (no decoding).
    pub fn document(&self, stream: &str) -> Result<FetchDocument, Error> {
        Ok(FetchDocument::new(&self.config, self.config.stream_name(stream)?))
    }

    /// A fold of the whole stream.
    pub fn aggregate<S, F: FnMut(S, &RecordedEvent) -> S>(
        &self,
        stream: &str,
        initial: S,
        evolve: F,
    ) -> Result<Aggregate<S, F>, Error> {
        self.aggregate_expecting(stream, ExpectedVersion::Any, initial, evolve)
    }

    /// A fold of the whole stream that fails with [`Error::ConcurrencyConflict`] unless
    /// the stream is where `expected` says (see [`StoreContext::read_expecting`]).
    pub fn aggregate_expecting<S, F: FnMut(S, &RecordedEvent) -> S>(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        initial: S,
        evolve: F,
    ) -> Result<Aggregate<S, F>, Error> {
        Ok(Aggregate::new(&self.config, self.config.stream_name(stream)?, expected, initial, evolve))
    }

    /// A read of `stream`'s read model of `projection`.
    pub fn read_model(&self, stream: &str, projection: &str) -> Result<ReadModelOp, Error> {
        Ok(ReadModelOp::new(&self.config, self.config.stream_name(stream)?, projection))
    }

    /// A query over read models: a find, or with `count` a count.
    pub fn query_models(&self, query: ProjectionQuery, count: bool) -> QueryModels {
        QueryModels::new(&self.config, &self.cache, query, count)
    }

    /// A rebuild of `stream`'s read models (of `projection` only, when given).
    pub fn rebuild(&self, stream: &str, projection: Option<&str>) -> Result<Rebuild, Error> {
        Ok(Rebuild::new(&self.config, &self.cache, self.config.stream_name(stream)?, projection))
    }

    /// A rebuild of the read models of every stream of `stream_type`.
    pub fn rebuild_all(&self, stream_type: &str, projection: Option<&str>) -> RebuildAll {
        RebuildAll::new(&self.config, &self.cache, stream_type, projection)
    }
}
