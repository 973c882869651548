//! What a subscription is: who consumes, what, from which source, in what sizes.

use serde::{Deserialize, Serialize};

/// Where a subscription learns of new events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// A change stream where the server has them (a replica set), polling elsewhere:
    /// the executor decides from the server's `hello` ([`Source::resolve`]).
    #[default]
    Auto,
    /// A change stream on the stream collection (`collection.watch`): push, and across
    /// streams the server's commit order.
    ChangeStream,
    /// Polling the stream collection for streams whose `metadata.updatedAt` moved:
    /// works on any server, no order across streams.
    Polling,
}

impl Source {
    /// The source to use on a server that does (`true`) or does not have change streams.
    ///
    /// ```
    /// use streamdoc_core::subscription::Source;
    ///
    /// assert_eq!(Source::Auto.resolve(true), Source::ChangeStream);
    /// assert_eq!(Source::Auto.resolve(false), Source::Polling);
    /// assert_eq!(Source::Polling.resolve(true), Source::Polling);
    /// ```
    pub fn resolve(self, change_streams: bool) -> Source {
        match (self, change_streams) {
            (Source::Auto, true) => Source::ChangeStream,
            (Source::Auto, false) => Source::Polling,
            (chosen, _) => chosen,
        }
    }
}

/// The default collection of checkpoints, in the store's database.
pub const CHECKPOINTS_COLLECTION: &str = "streamdoc_checkpoints";

/// A consumer and what it consumes.
///
/// ```
/// use streamdoc_core::subscription::{Source, SubscriptionConfig};
///
/// let config = SubscriptionConfig::new("billing").stream_type("order").batch_size(50).source(Source::Polling);
/// assert_eq!(config.consumer, "billing");
/// assert!(config.validate().is_ok());
/// assert!(SubscriptionConfig::new("").validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SubscriptionConfig {
    /// The consumer's name: its checkpoints are its own. Two processes with one name
    /// are two instances of one consumer and share (never fork) its checkpoints.
    pub consumer: String,
    /// Only streams of this type; `None`: every stream of a single-collection store.
    pub stream_type: Option<String>,
    /// Where new events are learnt of.
    pub source: Source,
    /// At most this many events in one delivered batch (one stream's, in order).
    pub batch_size: u32,
    /// At most this many stream heads per polling page.
    pub page_size: u32,
    /// How far before the newest `updatedAt` it has seen an incremental poll looks
    /// again, in milliseconds: the clock skew tolerated between writers.
    pub lookback_ms: i64,
    /// Every this many polls, one sweeps every stream instead of the recently updated
    /// ones (the first poll always does), catching any write a skewed clock hid.
    pub sweep_every: u32,
    /// The collection of checkpoints, in the store's database.
    pub checkpoints: String,
}

impl Default for SubscriptionConfig {
    fn default() -> Self {
        Self {
            consumer: String::new(),
            stream_type: None,
            source: Source::Auto,
            batch_size: 100,
            page_size: 100,
            lookback_ms: 5_000,
            sweep_every: 60,
            checkpoints: CHECKPOINTS_COLLECTION.to_owned(),
        }
    }
}

impl SubscriptionConfig {
    /// A consumer named `consumer` with the defaults.
    pub fn new(consumer: impl Into<String>) -> Self {
        Self { consumer: consumer.into(), ..Self::default() }
    }

    /// Only streams of `stream_type`.
    pub fn stream_type(mut self, stream_type: impl Into<String>) -> Self {
        self.stream_type = Some(stream_type.into());
        self
    }

    /// Sets the source.
    pub fn source(mut self, source: Source) -> Self {
        self.source = source;
        self
    }

    /// Sets the largest batch.
    pub fn batch_size(mut self, events: u32) -> Self {
        self.batch_size = events;
        self
    }

    /// Sets the polling page size.
    pub fn page_size(mut self, streams: u32) -> Self {
        self.page_size = streams;
        self
    }

    /// Checks the names and sizes.
    pub fn validate(&self) -> Result<(), SubscriptionError> {
        let invalid = |why: &str| SubscriptionError::InvalidConfig { why: why.to_owned() };
        if self.consumer.is_empty() || self.consumer.len() > 200 || self.consumer.contains('\0') {
            return Err(invalid("the consumer name must be 1 to 200 bytes without NUL"));
        }
        if self.batch_size == 0 || self.page_size == 0 || self.sweep_every == 0 {
            return Err(invalid("batchSize, pageSize and sweepEvery must be at least 1"));
        }
        if self.lookback_ms < 0 {
            return Err(invalid("lookbackMs cannot be negative"));
        }
        if self.checkpoints.is_empty()
            || self.checkpoints.contains(['$', '\0'])
            || self.checkpoints.starts_with("system.")
        {
            return Err(invalid("the checkpoints collection name is invalid"));
        }
        Ok(())
    }
}

/// Why a subscription cannot run, or what it ran into.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum SubscriptionError {
    /// The consumer name, a size or the checkpoints collection is unusable.
    #[error("invalid subscription: {why}")]
    InvalidConfig { why: String },
    /// The store keeps each stream type in its own collection, so a subscription must
    /// name the type it reads (one collection), or the store must use one collection.
    #[error("a subscription to a store with a collection per stream type must name a stream type")]
    StreamTypeRequired,
    /// A custom resolver places streams by name: no collection holds all of a type.
    #[error("subscriptions need a storage that places streams by type; a custom resolver places them by name")]
    CustomStorage,
    /// Another instance of the consumer moved the checkpoint first; nothing was
    /// overwritten (the subscription re-reads it and goes on).
    #[error("another instance of {consumer:?} advanced the checkpoint of {stream} past {expected}")]
    CheckpointConflict { consumer: String, stream: String, expected: u64 },
    /// The change stream's resume point is no longer in the oplog (286
    /// ChangeStreamHistoryLost). Recovery: [`Subscription::restart`](super::Subscription::restart)
    /// opens a new change stream and catches up by polling; the per-stream checkpoints
    /// make that exact.
    #[error("the change stream of {consumer:?} cannot resume: {message}")]
    HistoryLost { consumer: String, message: String },
    /// The server has no change streams (standalone, FerretDB) and one was asked for.
    #[error("the server has no change streams (it is not a replica set): {message}")]
    ChangeStreamsUnsupported { message: String },
}
