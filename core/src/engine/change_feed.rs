//! The engine's change feed: what a MongoDB change stream (`collection.watch()`) would
//! report for the engine's writes, in MongoDB's change-event shapes.
//!
//! Off by default (an engine that nobody watches keeps no log). Once enabled with
//! [`Engine::enable_change_feed`](super::Engine::enable_change_feed), every write that
//! changes a document records one event, in commit order:
//!
//! ```text
//! { _id: { _data: "<resume token>" }, operationType: "insert" | "update" | "replace" | "delete",
//!   clusterTime: Timestamp(0, n), ns: { db, coll }, documentKey: { _id },
//!   fullDocument: {..}                                   // insert and replace
//!   updateDescription: { updatedFields, removedFields, truncatedArrays } }   // update
//! ```
//!
//! `updatedFields` is the delta MongoDB 5.0+ reports: a changed scalar or subdocument
//! field by its dotted path, elements appended to an array as `path.<index>` (a `$push`
//! of one event to `events` is `"events.3": {...}`), any other array change as the whole
//! array. A write that changes nothing (`modifiedCount: 0`) records nothing, as the
//! server writes no oplog entry for it.
//!
//! The log keeps the last `capacity` events, as an oplog keeps a window: resuming from a
//! token older than that fails with 286 `ChangeStreamHistoryLost`, MongoDB's answer when
//! the resume point has rolled off the oplog.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use bson::{doc, Bson, Document, Timestamp};

use crate::command::Namespace;

/// How many change events a feed keeps by default (its oplog window): what the host's
/// and the package's engines enable.
pub const DEFAULT_CAPACITY: usize = 100_000;

/// MongoDB's `ChangeStreamHistoryLost`: the resume point is no longer in the oplog.
pub const CHANGE_STREAM_HISTORY_LOST: i32 = 286;
/// MongoDB's `ChangeStreamFatalError`: a resume token the server cannot use at all.
pub const CHANGE_STREAM_FATAL_ERROR: i32 = 280;

/// Why a change stream cannot be opened or read: MongoDB's code and message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("server error {code}: {message}")]
pub struct FeedError {
    /// [`CHANGE_STREAM_HISTORY_LOST`] or [`CHANGE_STREAM_FATAL_ERROR`].
    pub code: i32,
    /// The server's message.
    pub message: String,
}

/// The log of change events, shared by the engine (which writes it) and its cursors.
///
/// ```
/// use bson::doc;
/// use streamdoc_core::engine::Engine;
/// use streamdoc_core::{Command, Namespace};
///
/// let mut engine = Engine::new(1);
/// let feed = engine.enable_change_feed(100);
/// let ns = Namespace::new("app", "order");
/// let mut cursor = feed.watch(&ns, None).unwrap();
/// engine.execute(&Command::InsertOne { ns: ns.clone(), document: doc! { "_id": 1, "events": [] } });
/// engine.execute(&Command::UpdateOne {
///     ns: ns.clone(),
///     filter: doc! { "_id": 1 },
///     update: doc! { "$push": { "events": { "type": "Placed" } } },
///     upsert: false,
/// });
/// let changes = cursor.next_batch().unwrap();
/// assert_eq!(changes[0].get_str("operationType").unwrap(), "insert");
/// let update = changes[1].get_document("updateDescription").unwrap();
/// assert_eq!(update.get_document("updatedFields").unwrap(), &doc! { "events.0": { "type": "Placed" } });
/// assert!(cursor.next_batch().unwrap().is_empty());
/// ```
#[derive(Debug, Clone)]
pub struct ChangeFeed {
    log: Arc<Mutex<Log>>,
}

#[derive(Debug, Clone)]
struct Log {
    /// The retained events, oldest first, with their sequence numbers.
    events: VecDeque<(u64, Namespace, Document)>,
    /// The sequence number the next event gets (the first is 1).
    next: u64,
    capacity: usize,
}

/// A cursor over a [`ChangeFeed`], as `watch()` opens it: events of one collection
/// after a point.
#[derive(Debug, Clone)]
pub struct ChangeCursor {
    log: Arc<Mutex<Log>>,
    ns: Namespace,
    /// The sequence number of the last event returned (or skipped).
    after: u64,
}

/// The resume token of the event with sequence number `seq`.
fn token(seq: u64) -> Document {
    doc! { "_data": format!("{seq:016X}") }
}

/// The sequence number a resume token names.
fn token_seq(token: &Document) -> Option<u64> {
    let data = token.get_str("_data").ok()?;
    (data.len() == 16).then(|| u64::from_str_radix(data, 16).ok()).flatten()
}

impl ChangeFeed {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { log: Arc::new(Mutex::new(Log { events: VecDeque::new(), next: 1, capacity: capacity.max(1) })) }
    }

    /// An independent copy of the log (an engine clone watches its own writes).
    pub(crate) fn deep_clone(&self) -> Self {
        let log = self.log.lock().map(|l| l.clone()).unwrap_or_else(|e| e.into_inner().clone());
        Self { log: Arc::new(Mutex::new(log)) }
    }

    /// Opens a cursor on `ns`: from now, or after the event `resume_after` names. A token
    /// whose event is no longer retained is [`CHANGE_STREAM_HISTORY_LOST`]; one that
    /// names no event this feed ever produced, [`CHANGE_STREAM_FATAL_ERROR`].
    pub fn watch(&self, ns: &Namespace, resume_after: Option<&Document>) -> Result<ChangeCursor, FeedError> {
        let log = self.log.lock().map_err(|_| poisoned())?;
        let after = match resume_after {
            None => log.next - 1,
            Some(t) => {
                let seq = token_seq(t).filter(|&s| s < log.next).ok_or_else(|| FeedError {
                    code: CHANGE_STREAM_FATAL_ERROR,
                    message: "KeyString format error: the resume token was not produced by this server".into(),
                })?;
                let oldest = log.events.front().map_or(log.next, |(s, _, _)| *s);
                if seq + 1 < oldest {
                    return Err(FeedError {
                        code: CHANGE_STREAM_HISTORY_LOST,
                        message: "Resume of change stream was not possible, as the resume point may no longer be in the oplog.".into(),
                    });
                }
                seq
            }
        };
        Ok(ChangeCursor { log: Arc::clone(&self.log), ns: ns.clone(), after })
    }

    /// The resume token of the latest event (what a cursor opened now starts after).
    pub fn latest_token(&self) -> Document {
        token(self.log.lock().map_or(0, |l| l.next - 1))
    }

    pub(crate) fn record(&self, ns: &Namespace, mut event: Document) {
        let Ok(mut log) = self.log.lock() else { return };
        let seq = log.next;
        log.next += 1;
        let mut full = doc! {
            "_id": token(seq),
            "operationType": event.remove("operationType").unwrap_or(Bson::Null),
            "clusterTime": Timestamp { time: 0, increment: u32::try_from(seq).unwrap_or(u32::MAX) },
            "ns": { "db": ns.db.clone(), "coll": ns.collection.clone() },
        };
        full.extend(event);
        log.events.push_back((seq, ns.clone(), full));
        while log.events.len() > log.capacity {
            log.events.pop_front();
        }
    }
}

fn poisoned() -> FeedError {
    FeedError { code: 1, message: "the change feed is poisoned".into() }
}

impl ChangeCursor {
    /// The events recorded since the last batch (empty when there are none), at most
    /// 1,000. Fails with 286 when events were dropped before this cursor read them.
    pub fn next_batch(&mut self) -> Result<Vec<Document>, FeedError> {
        let log = self.log.lock().map_err(|_| poisoned())?;
        let oldest = log.events.front().map_or(log.next, |(s, _, _)| *s);
        if self.after + 1 < oldest {
            return Err(FeedError {
                code: CHANGE_STREAM_HISTORY_LOST,
                message: "the change stream fell off the oplog before it was read".into(),
            });
        }
        let mut out = Vec::new();
        let after = self.after;
        for (seq, ns, event) in log.events.iter().skip_while(|(s, _, _)| *s <= after) {
            self.after = *seq;
            if *ns == self.ns {
                out.push(event.clone());
                if out.len() == 1000 {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The collection it watches.
    pub fn namespace(&self) -> &Namespace {
        &self.ns
    }

    /// The resume token of the last event this cursor has passed (its "post-batch
    /// resume token").
    pub fn resume_token(&self) -> Document {
        token(self.after)
    }
}

/// The change event of an insert (or an upsert that inserted).
pub(crate) fn insert_event(doc: &Document) -> Document {
    doc! {
        "operationType": "insert",
        "documentKey": { "_id": doc.get("_id").cloned().unwrap_or(Bson::Null) },
        "fullDocument": doc.clone(),
    }
}

/// The change event of a replacement.
pub(crate) fn replace_event(doc: &Document) -> Document {
    let mut event = insert_event(doc);
    event.insert("operationType", "replace");
    event
}

/// The change event of a delete.
pub(crate) fn delete_event(id: Bson) -> Document {
    doc! { "operationType": "delete", "documentKey": { "_id": id } }
}

/// The change event of an update from `before` to `after`.
pub(crate) fn update_event(before: &Document, after: &Document) -> Document {
    let mut updated = Document::new();
    let mut removed = Vec::new();
    diff("", before, after, &mut updated, &mut removed);
    doc! {
        "operationType": "update",
        "documentKey": { "_id": after.get("_id").cloned().unwrap_or(Bson::Null) },
        "updateDescription": {
            "updatedFields": updated,
            "removedFields": removed.into_iter().map(Bson::String).collect::<Vec<_>>(),
            "truncatedArrays": Vec::<Bson>::new(),
        },
    }
}

fn diff(prefix: &str, before: &Document, after: &Document, updated: &mut Document, removed: &mut Vec<String>) {
    for (key, value) in after {
        let path = format!("{prefix}{key}");
        match (before.get(key), value) {
            (Some(old), new) if old == new => {}
            (Some(Bson::Document(old)), Bson::Document(new)) => diff(&format!("{path}."), old, new, updated, removed),
            (Some(Bson::Array(old)), Bson::Array(new)) if new.len() > old.len() && new[..old.len()] == old[..] => {
                for (i, item) in new.iter().enumerate().skip(old.len()) {
                    updated.insert(format!("{path}.{i}"), item.clone());
                }
            }
            _ => {
                updated.insert(path, value.clone());
            }
        }
    }
    for key in before.keys() {
        if !after.contains_key(key) {
            removed.push(format!("{prefix}{key}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_report_the_delta_as_mongodb_does() {
        let before = doc! { "_id": 1, "events": [1], "metadata": { "streamPosition": 1_i64, "at": 5 }, "gone": 1 };
        let after =
            doc! { "_id": 1, "events": [1, 2, 3], "metadata": { "streamPosition": 3_i64, "at": 5 }, "new": { "x": 1 } };
        let event = update_event(&before, &after);
        let description = event.get_document("updateDescription").unwrap();
        assert_eq!(
            description.get_document("updatedFields").unwrap(),
            &doc! { "events.1": 2, "events.2": 3, "metadata.streamPosition": 3_i64, "new": { "x": 1 } }
        );
        assert_eq!(description.get_array("removedFields").unwrap(), &vec![Bson::String("gone".into())]);
        // An array that shrank or changed in place is reported whole.
        let event = update_event(&doc! { "a": [1, 2] }, &doc! { "a": [3] });
        assert_eq!(
            event.get_document("updateDescription").unwrap().get_document("updatedFields").unwrap(),
            &doc! { "a": [3] }
        );
    }

    #[test]
    fn cursors_resume_after_a_token_and_lose_history_past_the_capacity() {
        let feed = ChangeFeed::new(2);
        let ns = Namespace::new("a", "b");
        let other = Namespace::new("a", "c");
        for i in 0..3 {
            feed.record(&ns, insert_event(&doc! { "_id": i }));
        }
        feed.record(&other, insert_event(&doc! { "_id": 9 }));
        // Retained: events 3 (ns) and 4 (other).
        let after_two = token(2);
        let mut cursor = feed.watch(&ns, Some(&after_two)).unwrap();
        let batch = cursor.next_batch().unwrap();
        assert_eq!(batch.len(), 1, "only this collection's events");
        assert_eq!(batch[0].get_document("fullDocument").unwrap(), &doc! { "_id": 2 });
        assert_eq!(cursor.resume_token(), token(4));
        let lost = feed.watch(&ns, Some(&token(1))).unwrap_err();
        assert!(matches!(lost, FeedError { code: CHANGE_STREAM_HISTORY_LOST, .. }));
        let bogus = feed.watch(&ns, Some(&doc! { "_data": "zz" })).unwrap_err();
        assert!(matches!(bogus, FeedError { code: CHANGE_STREAM_FATAL_ERROR, .. }));
        // A cursor that falls behind the window is told so, never silently skipped ahead.
        let mut slow = feed.watch(&ns, None).unwrap();
        for i in 10..13 {
            feed.record(&ns, insert_event(&doc! { "_id": i }));
        }
        assert!(matches!(slow.next_batch(), Err(FeedError { code: CHANGE_STREAM_HISTORY_LOST, .. })));
    }
}
