//! The read models a store last saw per stream, so that an append at a known position
//! evolves them without reading them first.

use std::sync::{Arc, Mutex};

use bson::Document;

use crate::det::DetHashMap;

/// How many streams' read models a store remembers; when full it forgets them all.
pub const READ_MODEL_CACHE_CAPACITY: usize = 1 << 12;

/// The states of a stream's read models at one position, by projection name (`None`:
/// no read model).
pub(crate) type States = Vec<(String, Option<Document>)>;

/// What a store remembers of its streams' read models. Like the position hints, nothing
/// here is trusted blindly: it is used only by an append that expects the stream at the
/// remembered position, whose conditional update fails if the stream has moved.
///
/// ```
/// use streamdoc_core::projection::ReadModelCache;
///
/// let cache = ReadModelCache::new();
/// assert!(cache.is_empty());
/// ```
#[derive(Debug, Clone, Default)]
pub struct ReadModelCache {
    streams: Arc<Mutex<DetHashMap<String, (u64, States)>>>,
}

impl ReadModelCache {
    /// Nothing remembered.
    pub fn new() -> Self {
        Self::default()
    }

    /// The states remembered for `stream` if they are those at `position`.
    pub(crate) fn at(&self, stream: &str, position: u64) -> Option<States> {
        let streams = self.streams.lock().ok()?;
        let (at, states) = streams.get(stream)?;
        (*at == position).then(|| states.clone())
    }

    /// Remembers the states of `stream` at `position`.
    pub(crate) fn record(&self, stream: &str, position: u64, states: States) {
        let Ok(mut streams) = self.streams.lock() else { return };
        if streams.len() >= READ_MODEL_CACHE_CAPACITY && !streams.contains_key(stream) {
            streams.clear();
        }
        streams.insert(stream.to_owned(), (position, states));
    }

    /// Forgets `stream`.
    pub(crate) fn forget(&self, stream: &str) {
        if let Ok(mut streams) = self.streams.lock() {
            streams.remove(stream);
        }
    }

    /// How many streams are remembered.
    pub fn len(&self) -> usize {
        self.streams.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An independent copy (for a cloned simulation).
    pub fn snapshot(&self) -> ReadModelCache {
        let streams = self.streams.lock().map(|s| s.clone()).unwrap_or_default();
        ReadModelCache { streams: Arc::new(Mutex::new(streams)) }
    }
}
