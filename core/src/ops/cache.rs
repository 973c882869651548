//! What a store remembers between operations to save round trips: which collections
//! have their unique index, and where it last saw each stream.
//!
//! Nothing here is trusted. A remembered position is only a guess that an append with
//! no exact expected position (`Any`, `StreamExists`) tries first, in the same
//! conditional update it would send after reading the position: if the stream has
//! moved, the update matches nothing and the append reads the position as it would
//! have without the guess. A single writer appending to its streams thus needs one
//! round trip per append instead of two, and a stale guess costs one extra update.

use std::sync::{Arc, Mutex};

use crate::det::DetHashMap;
use crate::ops::index::IndexRegistry;

/// How many stream positions a store remembers. When full, it forgets them all and
/// starts again: the guesses are an optimisation, and a bounded map keeps a store that
/// touches millions of streams from growing without limit.
pub const POSITION_HINT_CAPACITY: usize = 1 << 16;

/// The last position a store saw for each stream (by stream name), shared by every
/// operation of the store.
///
/// ```
/// use streamdoc_core::ops::PositionHints;
///
/// let hints = PositionHints::new();
/// hints.record("order:1", 3);
/// assert_eq!(hints.get("order:1"), Some(3));
/// hints.forget("order:1");
/// assert_eq!(hints.get("order:1"), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PositionHints {
    positions: Arc<Mutex<DetHashMap<String, u64>>>,
}

impl PositionHints {
    /// No hints.
    pub fn new() -> Self {
        Self::default()
    }

    /// The position last seen for `stream`.
    pub fn get(&self, stream: &str) -> Option<u64> {
        self.positions.lock().ok().and_then(|p| p.get(stream).copied())
    }

    /// Remembers that `stream` was at `position` (0: it did not exist).
    pub fn record(&self, stream: &str, position: u64) {
        let Ok(mut p) = self.positions.lock() else { return };
        if let Some(known) = p.get_mut(stream) {
            *known = position;
            return;
        }
        if p.len() >= POSITION_HINT_CAPACITY {
            p.clear();
        }
        p.insert(stream.to_owned(), position);
    }

    /// Forgets what was seen of `stream`.
    pub fn forget(&self, stream: &str) {
        if let Ok(mut p) = self.positions.lock() {
            p.remove(stream);
        }
    }

    /// How many streams are remembered.
    pub fn len(&self) -> usize {
        self.positions.lock().map(|p| p.len()).unwrap_or(0)
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// An independent copy (for a cloned simulation).
    pub fn snapshot(&self) -> PositionHints {
        let positions = self.positions.lock().map(|p| p.clone()).unwrap_or_default();
        PositionHints { positions: Arc::new(Mutex::new(positions)) }
    }
}

/// Everything a store remembers between operations; clones share it.
///
/// ```
/// use streamdoc_core::ops::StoreCache;
///
/// let cache = StoreCache::new();
/// let shared = cache.clone();
/// shared.positions.record("order:1", 2);
/// assert_eq!(cache.positions.get("order:1"), Some(2));
/// assert_eq!(cache.snapshot().positions.get("order:1"), Some(2));
/// ```
#[derive(Debug, Clone, Default)]
pub struct StoreCache {
    /// Collections whose unique `streamName` index this store has seen acknowledged.
    pub indexes: IndexRegistry,
    /// Where this store last saw each stream.
    pub positions: PositionHints,
    /// The read models this store last saw (or wrote), per stream.
    pub read_models: crate::projection::ReadModelCache,
}

impl StoreCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// An independent copy (for a cloned simulation).
    pub fn snapshot(&self) -> StoreCache {
        StoreCache {
            indexes: self.indexes.snapshot(),
            positions: self.positions.snapshot(),
            read_models: self.read_models.snapshot(),
        }
    }
}

/// The cache an operation holds. The operation writes through to its store's cache;
/// a clone of the operation (a simulation branching in the middle of it) gets its own
/// copy, so that what one branch learns never leaks into another.
#[derive(Debug)]
pub(crate) struct OpCache(pub(crate) StoreCache);

impl Clone for OpCache {
    fn clone(&self) -> Self {
        OpCache(self.0.snapshot())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_map_starts_again() {
        let hints = PositionHints::new();
        for i in 0..POSITION_HINT_CAPACITY {
            hints.record(&format!("s:{i}"), 1);
        }
        assert_eq!(hints.len(), POSITION_HINT_CAPACITY);
        hints.record("s:0", 2);
        assert_eq!(hints.len(), POSITION_HINT_CAPACITY, "updating a known stream keeps the rest");
        hints.record("new:1", 1);
        assert_eq!(hints.len(), 1, "a new stream in a full map clears it");
        assert_eq!(hints.get("new:1"), Some(1));
        assert_eq!(hints.get("s:0"), None);
    }

    #[test]
    fn snapshots_are_independent() {
        let hints = PositionHints::new();
        hints.record("a:1", 1);
        let copy = hints.snapshot();
        hints.record("a:1", 2);
        assert_eq!(copy.get("a:1"), Some(1));
        assert_eq!(hints.get("a:1"), Some(2));
    }
}
