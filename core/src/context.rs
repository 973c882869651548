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
use crate::name::StreamName;
use crate::ops::{Aggregate, Append, Exists, FetchDocument, Read, ReadRange, StoreCache};

/// Builds operations for one store.
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

    /// The configuration.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// What the store remembers between operations: the collections whose index it has
    /// ensured, and where it last saw each stream.
    pub fn cache(&self) -> &StoreCache {
        &self.cache
    }

    /// An append; `now` is read from the clock.
    pub fn append(&self, stream: &str, events: Vec<NewEvent>, expected: ExpectedVersion) -> Result<Append, Error> {
        let stream = StreamName::parse(stream)?;
        Ok(Append::new(&self.config, &self.cache, stream, events, expected, self.clock.now(), self.ids.as_ref()))
    }

    /// A read of `range`.
    pub fn read(&self, stream: &str, range: ReadRange) -> Result<Read, Error> {
        Ok(Read::new(&self.config, StreamName::parse(stream)?, range))
    }

    /// An existence check.
    pub fn exists(&self, stream: &str) -> Result<Exists, Error> {
        Ok(Exists::new(&self.config, StreamName::parse(stream)?))
    }

    /// A fetch of the stream's document as stored (no decoding).
    pub fn document(&self, stream: &str) -> Result<FetchDocument, Error> {
        Ok(FetchDocument::new(&self.config, StreamName::parse(stream)?))
    }

    /// A fold of the whole stream.
    pub fn aggregate<S, F: FnMut(S, &RecordedEvent) -> S>(
        &self,
        stream: &str,
        initial: S,
        evolve: F,
    ) -> Result<Aggregate<S, F>, Error> {
        Ok(Aggregate::new(&self.config, StreamName::parse(stream)?, initial, evolve))
    }
}
