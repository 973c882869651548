//! Creating the unique `streamName` index on the first use of each collection.

use std::sync::{Arc, Mutex};

use bson::doc;

use crate::command::{Command, Namespace};
use crate::det::DetHashSet;
use crate::layout::{SEGMENT, SEGMENT_INDEX, STREAM_NAME, STREAM_NAME_INDEX};

/// The collections a store has already made sure have their unique index.
///
/// Shared by every operation of one store (cheap to clone). An append whose collection
/// is not in the registry first sends [`Command::CreateIndex`]; once the server
/// acknowledges it the collection is recorded, so later appends go straight to the
/// write. Creating an index that exists is a no-op on the server, so two appends
/// racing to create it are harmless.
#[derive(Debug, Clone, Default)]
pub struct IndexRegistry {
    known: Arc<Mutex<DetHashSet<Namespace>>>,
}

impl IndexRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when the index of `ns` is known to exist.
    pub fn contains(&self, ns: &Namespace) -> bool {
        self.known.lock().map(|k| k.contains(ns)).unwrap_or(false)
    }

    /// Records that the index of `ns` exists.
    pub fn insert(&self, ns: Namespace) {
        if let Ok(mut k) = self.known.lock() {
            k.insert(ns);
        }
    }

    /// An independent registry holding the same collections (a deep copy, where
    /// `clone` shares).
    pub fn snapshot(&self) -> IndexRegistry {
        let known = self.known.lock().map(|k| k.clone()).unwrap_or_default();
        IndexRegistry { known: Arc::new(Mutex::new(known)) }
    }

    /// Adds every collection `other` knows.
    pub fn absorb(&self, other: &IndexRegistry) {
        if Arc::ptr_eq(&self.known, &other.known) {
            return;
        }
        let theirs = other.known.lock().map(|k| k.clone()).unwrap_or_default();
        if let Ok(mut k) = self.known.lock() {
            k.extend(theirs);
        }
    }

    /// Forgets every collection (e.g. after the database was dropped).
    pub fn clear(&self) {
        if let Ok(mut k) = self.known.lock() {
            k.clear();
        }
    }
}

/// The command creating the unique index on `streamName`.
pub(crate) fn create_index_command(ns: &Namespace) -> Command {
    Command::CreateIndex {
        ns: ns.clone(),
        keys: doc! { STREAM_NAME: 1 },
        name: STREAM_NAME_INDEX.to_owned(),
        unique: true,
    }
}

/// The command creating the unique index of a segmented collection, on
/// `(streamName, segment)`.
fn create_segment_index_command(ns: &Namespace) -> Command {
    Command::CreateIndex {
        ns: ns.clone(),
        keys: doc! { STREAM_NAME: 1, SEGMENT: 1 },
        name: SEGMENT_INDEX.to_owned(),
        unique: true,
    }
}

/// What a collection's first use by a store creates, in order: the unique `streamName`
/// index (`(streamName, segment)` when `segmented`), then the indexes `projections`
/// declare.
pub(crate) fn collection_index_commands(
    ns: &Namespace,
    segmented: bool,
    projections: &[crate::projection::InlineProjection],
) -> Vec<Command> {
    let first = if segmented { create_segment_index_command(ns) } else { create_index_command(ns) };
    let mut commands = vec![first];
    commands.extend(crate::projection::fold::index_commands(projections, ns));
    commands
}
