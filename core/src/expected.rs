//! The expected position of a stream before an append: the optimistic-concurrency check.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What the caller believes about the stream before appending.
///
/// In JSON (the scenario corpus, the HTTP API) it is `"any"`, `"noStream"`,
/// `"streamExists"` or a non-negative integer.
///
/// | variant | round trips to an existing stream | check |
/// |---|---|---|
/// | `Any` | 1 if the store last saw the stream where it still is, else 2 (see below) | none |
/// | `NoStream` | 1 | the stream has no events (no document, or position 0) |
/// | `StreamExists` | 1 if the store last saw the stream where it still is, else 2 (see below) | the stream document exists |
/// | `Exact(n)` | 1 | the stream's position is `n`; `Exact(0)` is `NoStream` |
///
/// `Any` and `StreamExists` name no position, so the append finds one. When the store
/// remembers where it last saw the stream ([`crate::ops::PositionHints`]), it first
/// sends the conditional update at that position: if the stream is still there, that
/// is the only round trip. Otherwise it reads the position, then writes: 2 round trips
/// for a stream the store has not seen (one more, the update that matched nothing, when
/// another writer moved it since), and a read and a write again for each race lost, up
/// to [`crate::StoreConfig::max_attempts`] times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ExpectedVersion {
    /// No check.
    #[default]
    Any,
    /// The stream must not exist yet.
    NoStream,
    /// The stream must exist.
    StreamExists,
    /// The stream's last event must be at exactly this position (0: no events yet).
    Exact(u64),
}

impl ExpectedVersion {
    /// True when a stream that `exists` at `position` is where this expectation says: what
    /// a read with an expected version checks. A stream that does not exist is at
    /// position 0, so `Exact(0)` accepts it.
    ///
    /// ```
    /// use streamdoc_core::ExpectedVersion;
    ///
    /// assert!(ExpectedVersion::Any.accepts(false, 0));
    /// assert!(ExpectedVersion::NoStream.accepts(false, 0));
    /// assert!(!ExpectedVersion::NoStream.accepts(true, 1));
    /// assert!(ExpectedVersion::StreamExists.accepts(true, 3));
    /// assert!(!ExpectedVersion::StreamExists.accepts(false, 0));
    /// assert!(ExpectedVersion::Exact(3).accepts(true, 3));
    /// assert!(!ExpectedVersion::Exact(2).accepts(true, 3));
    /// assert!(ExpectedVersion::Exact(0).accepts(false, 0));
    /// ```
    pub fn accepts(self, exists: bool, position: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => !exists,
            ExpectedVersion::StreamExists => exists,
            ExpectedVersion::Exact(n) => n == if exists { position } else { 0 },
        }
    }

    /// The position an append must find, when the expectation names one.
    pub fn exact_position(self) -> Option<u64> {
        match self {
            ExpectedVersion::NoStream => Some(0),
            ExpectedVersion::Exact(n) => Some(n),
            ExpectedVersion::Any | ExpectedVersion::StreamExists => None,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("noStream"),
            ExpectedVersion::StreamExists => f.write_str("streamExists"),
            ExpectedVersion::Exact(n) => write!(f, "{n}"),
        }
    }
}

impl Serialize for ExpectedVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ExpectedVersion::Exact(n) => s.serialize_u64(*n),
            other => s.serialize_str(&other.to_string()),
        }
    }
}

impl<'de> Deserialize<'de> for ExpectedVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(ExpectedVersion::Exact(n)),
            Raw::Word(w) => match w.as_str() {
                "any" => Ok(ExpectedVersion::Any),
                "noStream" => Ok(ExpectedVersion::NoStream),
                "streamExists" => Ok(ExpectedVersion::StreamExists),
                other => Err(serde::de::Error::custom(format!(
                    "expected version must be a non-negative integer, \"any\", \"noStream\" or \"streamExists\", not {other:?}"
                ))),
            },
        }
    }
}
