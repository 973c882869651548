//! The typed errors of every operation.

use serde::{Deserialize, Serialize};

use crate::expected::ExpectedVersion;
use crate::layout::ConfigError;
use crate::name::StreamNameError;
use crate::projection::QueryError;
use crate::subscription::SubscriptionError;

/// Why one event of an append is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum InvalidEvent {
    /// The event type is empty.
    #[error("the event type is empty")]
    EmptyType,
    /// The event id is the empty string.
    #[error("the event id is empty")]
    EmptyId,
    /// Two events of the append share an id.
    #[error("the event id {id:?} appears twice in the append")]
    DuplicateId { id: String },
    /// Caller metadata uses a key the store writes itself.
    #[error("metadata key {key:?} is written by the store and cannot be set by the caller")]
    ReservedMetadataKey { key: String },
    /// The event's `data` or `metadata` nests deeper than [`crate::limits::MAX_VALUE_DEPTH`].
    #[error("the event's {field} nests deeper than {limit} levels")]
    TooDeep { field: String, limit: usize },
}

/// A failure reported by an executor instead of a server reply: the command may or
/// may not have reached the server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[error("{message}{}", if *.outcome_unknown { " (the write may have been applied)" } else { "" })]
#[serde(rename_all = "camelCase")]
pub struct ExecutorError {
    /// What went wrong (a timeout, a dropped connection, a JS exception, ...).
    pub message: String,
    /// True when a write may have been applied: retry with the same event ids, and an
    /// append that already happened is reported as a success.
    pub outcome_unknown: bool,
}

/// Every way an operation can fail.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all_fields = "camelCase")]
pub enum Error {
    /// The stream name is malformed.
    #[error("invalid stream name: {0}")]
    InvalidStreamName(StreamNameError),
    /// The store configuration cannot place the stream.
    #[error("invalid configuration: {0}")]
    InvalidConfig(ConfigError),
    /// An append with no events; nothing is written (no empty stream is created).
    #[error("an append to {stream} must carry at least one event")]
    EmptyAppend { stream: String },
    /// One event of an append is invalid; nothing is written.
    #[error("event {index} of the append to {stream} is invalid: {reason}")]
    InvalidEvent { stream: String, index: usize, reason: InvalidEvent },
    /// The stream was not where the append expected it.
    #[error("concurrency conflict on {stream}: expected {expected}, actual {}", match actual { Some(n) => n.to_string(), None => "no stream".into() })]
    ConcurrencyConflict { stream: String, expected: ExpectedVersion, actual: Option<u64> },
    /// The append would grow the stream document past the server's document limit;
    /// the stream is unchanged.
    #[error("appending to {stream} would grow its document past {limit_bytes} bytes; the stream is unchanged. Close the books (close_stream: archive it and continue in a successor seeded with a summary) or store streams as segments (StoreConfig::with_segments)")]
    StreamTooLarge { stream: String, limit_bytes: u64 },
    /// The stream is archived (or being archived): nothing more is appended to it, and it
    /// is read from the archive. `successor` names the stream that continues it, when it
    /// was closed into one.
    #[error("{stream} is archived at position {position}{}", match successor { Some(s) => format!(" and continues in {s}"), None => String::new() })]
    StreamArchived { stream: String, position: u64, successor: Option<String> },
    /// A read range whose end lies before its start.
    #[error("invalid read range: to ({to}) is before from ({from})")]
    InvalidRange { from: u64, to: u64 },
    /// An `Any`/`StreamExists` append lost the race for its position too many times.
    #[error("gave up appending to {stream} after {attempts} attempts lost the race for the position")]
    Contention { stream: String, attempts: u32 },
    /// A stored document does not have the shape of a stream document.
    #[error("the document of {stream} is not a valid stream document: {reason}")]
    CorruptDocument { stream: String, reason: String },
    /// A projection's `evolve` failed (or returned a state nested too deep); nothing
    /// is written.
    #[error("projection {projection:?} failed on {stream}: {message}")]
    Projection { stream: String, projection: String, message: String },
    /// A query over read models is malformed or unsupported; nothing is sent.
    #[error("invalid read model query: {0}")]
    InvalidQuery(QueryError),
    /// A subscription cannot run, or its change stream cannot resume.
    #[error("subscription: {0}")]
    Subscription(SubscriptionError),
    /// The server refused a command for a reason the operation does not handle.
    #[error("server error {code}: {message}")]
    Server { code: i32, message: String },
    /// The executor gave a reply that does not answer the command sent.
    #[error("unexpected reply while {step}: {reply}")]
    UnexpectedReply { step: String, reply: String },
    /// The executor could not get an answer from the server.
    #[error("server unavailable: {0}")]
    Unavailable(ExecutorError),
    /// An operation was driven against its contract (e.g. `next()` twice without `feed`).
    #[error("operation misuse: {message}")]
    Misuse { message: String },
}

impl Error {
    /// Every kind of error, as [`Error::kind`] names them: the list the other layers
    /// (the JavaScript classes, the HTTP problem types) are checked against.
    pub const KINDS: [&'static str; 17] = [
        "InvalidStreamName",
        "InvalidConfig",
        "EmptyAppend",
        "InvalidEvent",
        "ConcurrencyConflict",
        "StreamTooLarge",
        "StreamArchived",
        "InvalidRange",
        "Contention",
        "CorruptDocument",
        "Projection",
        "InvalidQuery",
        "Subscription",
        "Server",
        "UnexpectedReply",
        "Unavailable",
        "Misuse",
    ];

    /// A stable name for the kind of error, as in the scenario corpus and the JS API.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidStreamName(_) => "InvalidStreamName",
            Error::InvalidConfig(_) => "InvalidConfig",
            Error::EmptyAppend { .. } => "EmptyAppend",
            Error::InvalidEvent { .. } => "InvalidEvent",
            Error::ConcurrencyConflict { .. } => "ConcurrencyConflict",
            Error::StreamTooLarge { .. } => "StreamTooLarge",
            Error::StreamArchived { .. } => "StreamArchived",
            Error::InvalidRange { .. } => "InvalidRange",
            Error::Contention { .. } => "Contention",
            Error::CorruptDocument { .. } => "CorruptDocument",
            Error::Projection { .. } => "Projection",
            Error::InvalidQuery(_) => "InvalidQuery",
            Error::Subscription(_) => "Subscription",
            Error::Server { .. } => "Server",
            Error::UnexpectedReply { .. } => "UnexpectedReply",
            Error::Unavailable(_) => "Unavailable",
            Error::Misuse { .. } => "Misuse",
        }
    }

    /// The write would grow `stream`'s document past the server's document limit.
    pub(crate) fn stream_too_large(stream: &str) -> Error {
        Error::StreamTooLarge { stream: stream.to_owned(), limit_bytes: crate::limits::MAX_DOCUMENT_BYTES as u64 }
    }

    /// One error of every kind, in [`Error::KINDS`] order: what the other layers' tests
    /// map one by one (each to a JavaScript class, an HTTP problem type, ...).
    ///
    /// ```
    /// use streamdoc_core::Error;
    ///
    /// let kinds: Vec<&str> = Error::examples().iter().map(Error::kind).collect();
    /// assert_eq!(kinds, Error::KINDS);
    /// ```
    pub fn examples() -> Vec<Error> {
        let s = || "s".to_owned();
        vec![
            Error::InvalidStreamName(StreamNameError::EmptyType { name: s() }),
            Error::InvalidConfig(ConfigError::InvalidDatabase { name: s(), why: s() }),
            Error::EmptyAppend { stream: s() },
            Error::InvalidEvent { stream: s(), index: 0, reason: InvalidEvent::EmptyType },
            Error::ConcurrencyConflict { stream: s(), expected: ExpectedVersion::Any, actual: None },
            Error::StreamTooLarge { stream: s(), limit_bytes: 1 },
            Error::StreamArchived { stream: s(), position: 1, successor: None },
            Error::InvalidRange { from: 2, to: 1 },
            Error::Contention { stream: s(), attempts: 1 },
            Error::CorruptDocument { stream: s(), reason: s() },
            Error::Projection { stream: s(), projection: s(), message: s() },
            Error::InvalidQuery(QueryError::UnsupportedOperator { operator: "$where".into() }),
            Error::Subscription(SubscriptionError::StreamTypeRequired),
            Error::Server { code: 1, message: s() },
            Error::UnexpectedReply { step: s(), reply: s() },
            Error::Unavailable(ExecutorError { message: s(), outcome_unknown: false }),
            Error::Misuse { message: s() },
        ]
    }

    /// True for the errors a correct store reports under concurrency or bad input;
    /// True when the operation may or may not have been applied: the executor lost
    /// its reply (a retry with the same event ids tells which).
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, Error::Unavailable(ExecutorError { outcome_unknown: true, .. }))
    }

    /// false for those that mean a server, an executor or the store itself misbehaved.
    pub fn is_expected_outcome(&self) -> bool {
        !matches!(
            self,
            Error::CorruptDocument { .. } | Error::Server { .. } | Error::UnexpectedReply { .. } | Error::Misuse { .. }
        )
    }
}

impl From<StreamNameError> for Error {
    fn from(e: StreamNameError) -> Self {
        Error::InvalidStreamName(e)
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::InvalidConfig(e)
    }
}

impl From<QueryError> for Error {
    fn from(e: QueryError) -> Self {
        Error::InvalidQuery(e)
    }
}

impl From<SubscriptionError> for Error {
    fn from(e: SubscriptionError) -> Self {
        Error::Subscription(e)
    }
}

impl From<ExecutorError> for Error {
    fn from(e: ExecutorError) -> Self {
        Error::Unavailable(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_lists_every_variant_once() {
        let every = Error::examples();
        let kinds: Vec<&str> = every.iter().map(Error::kind).collect();
        assert_eq!(kinds, Error::KINDS);
        for e in &every {
            // The serde form's tag is the kind too.
            assert_eq!(serde_json::to_value(e).unwrap()["kind"], e.kind());
        }
    }
}
