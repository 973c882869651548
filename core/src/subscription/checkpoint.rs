//! Checkpoints: per (consumer, stream) the position of the last acknowledged event, and
//! per consumer the change stream's resume token.
//!
//! ```text
//! { _id, consumer: "billing", streamName: "order:42", position: Int64, updatedAt }
//! { _id, consumer: "billing", streamName: "", resumeToken: {..}, sequence: Int64, updatedAt }
//! ```
//!
//! A unique index on `{ consumer: 1, streamName: 1 }` makes each of them one document.
//! Every advance is conditional on the position it moves from: matched → advanced;
//! inserted (the first advance of a stream) → advanced; E11000 or no match → another
//! instance of the consumer moved it first, and nothing is overwritten. So two instances
//! never both advance one checkpoint, never move it backwards, and never insert two.
//! The empty stream name (never a valid stream name) holds the resume token, advanced
//! the same way on its `sequence`.

use bson::{doc, Bson, DateTime, Document};

use crate::command::{Command, Namespace, Reply};
use crate::layout::{position_from_bson, position_to_bson, STREAM_NAME};

/// The consumer field.
pub const CONSUMER: &str = "consumer";
/// The position field.
pub const POSITION: &str = "position";
/// The resume token field.
pub const RESUME_TOKEN: &str = "resumeToken";
/// The resume token's sequence field.
pub const SEQUENCE: &str = "sequence";
/// The unique index's name.
pub const CHECKPOINT_INDEX: &str = "consumer_1_streamName_1";
/// The stream name of the resume token's document.
pub const TOKEN_STREAM: &str = "";

/// The unique index on (consumer, stream).
pub(crate) fn index_command(ns: &Namespace) -> Command {
    Command::CreateIndex {
        ns: ns.clone(),
        keys: doc! { CONSUMER: 1, STREAM_NAME: 1 },
        name: CHECKPOINT_INDEX.to_owned(),
        unique: true,
    }
}

/// The checkpoints of `consumer` for `streams`.
pub(crate) fn load_command(ns: &Namespace, consumer: &str, streams: &[String]) -> Command {
    let names: Vec<Bson> = streams.iter().map(|s| Bson::String(s.clone())).collect();
    Command::Find {
        ns: ns.clone(),
        filter: doc! { CONSUMER: { "$eq": consumer }, STREAM_NAME: { "$in": names } },
        projection: Some(doc! { "_id": 0, STREAM_NAME: 1, POSITION: 1 }),
        sort: None,
        skip: 0,
        limit: 0,
    }
}

/// Reads the answer to [`load_command`]: (stream, position) pairs.
pub(crate) fn loaded(docs: &[Document]) -> impl Iterator<Item = (&str, u64)> {
    docs.iter().filter_map(|d| Some((d.get_str(STREAM_NAME).ok()?, d.get(POSITION).and_then(position_from_bson)?)))
}

/// Moves `consumer`'s checkpoint of `stream` from `from` to `to`.
pub(crate) fn advance_command(
    ns: &Namespace,
    consumer: &str,
    stream: &str,
    from: u64,
    to: u64,
    now: DateTime,
) -> Command {
    conditional_write(ns, consumer, stream, (POSITION, from, to), Document::new(), now)
}

/// The one shape of every checkpoint write: `counter` of `consumer`'s document for
/// `stream` moves from `from` to `to` (and `set` is written) only if it is still at
/// `from`; the first write (`from` 0) inserts, behind the unique index.
fn conditional_write(
    ns: &Namespace,
    consumer: &str,
    stream: &str,
    (counter, from, to): (&str, u64, u64),
    mut set: Document,
    now: DateTime,
) -> Command {
    set.insert(counter, position_to_bson(to));
    set.insert("updatedAt", now);
    Command::UpdateOne {
        ns: ns.clone(),
        filter: doc! {
            CONSUMER: { "$eq": consumer },
            STREAM_NAME: { "$eq": stream },
            counter: { "$eq": position_to_bson(from) },
        },
        update: doc! { "$set": set },
        upsert: from == 0,
    }
}

/// How a conditional checkpoint write ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Advanced {
    /// The checkpoint moved.
    Moved,
    /// Another instance moved it first.
    Conflict,
    /// The server refused the write.
    Failed(Reply),
}

/// Reads the reply to a conditional checkpoint write.
pub(crate) fn advanced(reply: Reply) -> Advanced {
    match reply {
        Reply::Updated { matched: 1, .. } | Reply::Updated { upserted_id: Some(_), .. } => Advanced::Moved,
        Reply::Updated { .. } | Reply::DuplicateKey { .. } => Advanced::Conflict,
        other => Advanced::Failed(other),
    }
}

/// The consumer's resume token document.
pub(crate) fn token_load_command(ns: &Namespace, consumer: &str) -> Command {
    Command::FindOne {
        ns: ns.clone(),
        filter: doc! { CONSUMER: { "$eq": consumer }, STREAM_NAME: { "$eq": TOKEN_STREAM } },
        projection: Some(doc! { "_id": 0, RESUME_TOKEN: 1, SEQUENCE: 1 }),
    }
}

/// Reads the answer to [`token_load_command`]: the token and its sequence (0: none).
pub(crate) fn token_loaded(doc: Option<&Document>) -> (Option<Document>, u64) {
    let Some(doc) = doc else { return (None, 0) };
    let token = doc.get_document(RESUME_TOKEN).ok().cloned();
    (token, doc.get(SEQUENCE).and_then(position_from_bson).unwrap_or(0))
}

/// Stores `token` as the consumer's resume token if its sequence is still `sequence`.
pub(crate) fn token_save_command(
    ns: &Namespace,
    consumer: &str,
    token: &Document,
    sequence: u64,
    now: DateTime,
) -> Command {
    let set = doc! { RESUME_TOKEN: token.clone() };
    conditional_write(ns, consumer, TOKEN_STREAM, (SEQUENCE, sequence, sequence + 1), set, now)
}
