//! Whether a stream exists, and in which state: live, sealed or archived.

use bson::{doc, Document};
use serde::{Deserialize, Serialize};

use crate::command::{Command, Reply};
use crate::error::Error;
use crate::layout::{
    document_position, document_predecessor, Seal, StoreConfig, ARCHIVED_AT_PATH, PREDECESSOR_PATH, SEALED_AT_PATH,
    SEGMENT, STREAM_POSITION_PATH, SUCCESSOR_PATH,
};
use crate::name::StreamName;
use crate::ops::fetch::stream_filter;
use crate::ops::outbox::{unexpected, Outbox};
use crate::ops::{Operation, Step};

/// Where a stream is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum StreamState {
    /// No document holds the stream.
    Missing,
    /// The stream takes appends.
    Live,
    /// An archive has sealed it (no more appends); its events are still in the live
    /// collection until the archive finishes.
    Sealed,
    /// Its events are in the archive; the live collection keeps a tombstone.
    Archived,
}

/// The stream a successor continues, and where it was closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamLink {
    /// The predecessor's name.
    pub stream_name: String,
    /// The position it was closed at.
    pub stream_position: u64,
}

/// What [`crate::EventStore::stream_status`] reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamStatus {
    /// Live, sealed, archived, or missing.
    pub state: StreamState,
    /// The position of the stream's last event (0 when missing).
    pub stream_position: u64,
    /// The stream that continues this one, when it was closed into one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub successor: Option<String>,
    /// The stream this one continues, when it was started by closing the books.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predecessor: Option<StreamLink>,
}

impl StreamStatus {
    /// True when the stream's events are readable in the live collection (live or
    /// sealed): what `stream_exists` answers.
    pub fn exists(&self) -> bool {
        matches!(self.state, StreamState::Live | StreamState::Sealed)
    }

    /// The status a stream document (the head segment of a segmented stream) says.
    pub(crate) fn of(doc: Option<&Document>) -> StreamStatus {
        let Some(doc) = doc else {
            return StreamStatus {
                state: StreamState::Missing,
                stream_position: 0,
                successor: None,
                predecessor: None,
            };
        };
        let seal = Seal::of(doc);
        let state = match (seal.sealed, seal.archived) {
            (_, true) => StreamState::Archived,
            // A sealed segment of a segmented stream is full, not archived.
            (true, false) if !doc.contains_key(SEGMENT) => StreamState::Sealed,
            _ => StreamState::Live,
        };
        StreamStatus {
            state,
            stream_position: document_position(doc).unwrap_or(0),
            successor: seal.successor,
            predecessor: document_predecessor(doc)
                .map(|(stream_name, stream_position)| StreamLink { stream_name, stream_position }),
        }
    }
}

/// One [`Command::FindOne`] projecting the position and the seal fields (for a
/// segmented store, a [`Command::Find`] of the last segment).
#[derive(Debug, Clone)]
pub struct Exists {
    outbox: Outbox<StreamStatus>,
}

impl Exists {
    /// Prepares the check; invalid input is returned by the first `next()`.
    pub(crate) fn new(config: &StoreConfig, stream: StreamName) -> Self {
        let mut outbox = Outbox::Finished;
        let projection = doc! {
            "_id": 1,
            SEGMENT: 1,
            STREAM_POSITION_PATH: 1,
            SEALED_AT_PATH: 1,
            ARCHIVED_AT_PATH: 1,
            SUCCESSOR_PATH: 1,
            PREDECESSOR_PATH: 1,
        };
        match config.namespace(&stream) {
            Ok(ns) if config.segmented() => outbox.send(Command::Find {
                ns,
                filter: stream_filter(&stream),
                projection: Some(projection),
                sort: Some(doc! { SEGMENT: -1 }),
                skip: 0,
                limit: 1,
            }),
            Ok(ns) => {
                outbox.send(Command::FindOne { ns, filter: stream_filter(&stream), projection: Some(projection) })
            }
            Err(e) => outbox.finish(Err(e.into())),
        }
        Self { outbox }
    }
}

impl Operation for Exists {
    type Output = StreamStatus;

    fn next(&mut self) -> Step<Result<StreamStatus, Error>> {
        self.outbox.next()
    }

    fn feed(&mut self, reply: Reply) {
        if !self.outbox.accept_reply() {
            return;
        }
        let result = match reply {
            Reply::Found(doc) => Ok(StreamStatus::of(doc.as_ref())),
            Reply::FoundMany(docs) => Ok(StreamStatus::of(docs.first())),
            Reply::ServerError { code, message } => Err(Error::Server { code, message }),
            other => Err(unexpected(self.describe_step(), &other)),
        };
        self.outbox.finish(result);
    }

    fn describe_step(&self) -> &'static str {
        "checking whether the stream exists"
    }
}
