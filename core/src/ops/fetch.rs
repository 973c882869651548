//! Fetching a stream document, or a slice of its events, with the fallback for
//! servers that do not implement `$slice` projections.

use bson::{doc, Bson, Document};

use crate::command::{codes, Command, Namespace, Reply};
use crate::error::Error;
use crate::layout::{Layout, METADATA, STREAM_NAME};
use crate::name::StreamName;

/// Which part of the stream document to fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// The whole document.
    Whole,
    /// `streamName` and `metadata` only: existence and position.
    Head,
    /// `streamName`, `metadata`, and the events at array indexes `skip..skip+limit`.
    Slice { skip: u64, limit: u64 },
}

/// How a fetch ended.
#[derive(Debug)]
pub(crate) enum Fetched {
    /// The document (already sliced), or `None` when the stream does not exist.
    Document(Option<Document>),
    /// Send this command and pass its reply to [`Fetch::on_reply`] again.
    Retry(Command),
    /// The fetch failed.
    Failed(Error),
}

/// A `findOne` by stream name, shaped by [`Shape`].
#[derive(Debug, Clone)]
pub(crate) struct Fetch {
    ns: Namespace,
    stream: StreamName,
    layout: Layout,
    shape: Shape,
    /// True once the server refused `$slice` and the whole document was requested.
    slicing_locally: bool,
}

/// `$slice` arguments are 32-bit on the server; no array in a 16 MiB document is
/// longer than that, so clamping loses nothing.
fn slice_arg(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The filter selecting a stream's document.
pub(crate) fn stream_filter(stream: &StreamName) -> Document {
    doc! { STREAM_NAME: { "$eq": stream.as_str() } }
}

impl Fetch {
    pub(crate) fn new(ns: Namespace, stream: StreamName, layout: Layout, shape: Shape) -> Self {
        Self { ns, stream, layout, shape, slicing_locally: false }
    }

    /// The first command of the fetch.
    pub(crate) fn command(&self) -> Command {
        let projection = match (self.shape, self.slicing_locally) {
            (Shape::Whole, _) | (Shape::Slice { .. }, true) => None,
            (Shape::Head, _) => Some(doc! { STREAM_NAME: 1, METADATA: 1 }),
            (Shape::Slice { skip, limit }, false) => Some(doc! {
                STREAM_NAME: 1,
                METADATA: 1,
                self.layout.events_field(): { "$slice": [slice_arg(skip), slice_arg(limit.max(1))] },
            }),
        };
        Command::FindOne { ns: self.ns.clone(), filter: stream_filter(&self.stream), projection }
    }

    /// Interprets the reply to [`Fetch::command`].
    pub(crate) fn on_reply(&mut self, reply: Reply, step: &str) -> Fetched {
        match reply {
            Reply::Found(doc) => Fetched::Document(doc.map(|d| self.slice_locally(d))),
            Reply::ServerError { code: codes::NOT_IMPLEMENTED, .. }
                if matches!(self.shape, Shape::Slice { .. }) && !self.slicing_locally =>
            {
                self.slicing_locally = true;
                Fetched::Retry(self.command())
            }
            Reply::ServerError { code, message } => Fetched::Failed(Error::Server { code, message }),
            other => Fetched::Failed(super::outbox::unexpected(step, &other)),
        }
    }

    /// After the fallback, applies the slice the server could not.
    fn slice_locally(&self, mut doc: Document) -> Document {
        if let (Shape::Slice { skip, limit }, true) = (self.shape, self.slicing_locally) {
            if let Some(Bson::Array(events)) = doc.get_mut(self.layout.events_field()) {
                let start = usize::try_from(skip).unwrap_or(usize::MAX).min(events.len());
                let end = start.saturating_add(usize::try_from(limit).unwrap_or(usize::MAX)).min(events.len());
                *events = events.drain(start..end).collect();
            }
        }
        doc
    }
}
