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
// Consumed at once; boxing the command would allocate per retry.
#[allow(clippy::large_enum_variant)]
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

/// The `$slice: [skip, limit]` arguments, 32-bit as the server takes them. No array in a
/// 16 MiB document has 2³¹ elements, so clamping loses nothing; the limit is also kept
/// within `i32::MAX - skip`, which selects the same events on MongoDB and keeps servers
/// that add the two in 32 bits (mongo-java-server) from overflowing.
fn slice_args(skip: u64, limit: u64) -> [i32; 2] {
    let skip = i32::try_from(skip).unwrap_or(i32::MAX);
    let limit = i32::try_from(limit).unwrap_or(i32::MAX).min(i32::MAX - skip).max(1);
    [skip, limit]
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
                self.layout.events_field(): { "$slice": slice_args(skip, limit).to_vec() },
            }),
        };
        Command::FindOne { ns: self.ns.clone(), filter: stream_filter(&self.stream), projection }
    }

    /// Interprets the reply to [`Fetch::command`].
    pub(crate) fn on_reply(&mut self, reply: Reply, step: &str) -> Fetched {
        match reply {
            Reply::Found(doc) => Fetched::Document(doc.map(|d| self.slice_locally(d))),
            // 238: the server has no `$slice` (FerretDB). A code-less failure: the server
            // could not apply this `$slice` (mongo-java-server, for a skip past the end,
            // which MongoDB answers with an empty array). Either way the whole document
            // is fetched and sliced here, and the trace shows the second command.
            Reply::ServerError { code: codes::NOT_IMPLEMENTED | codes::UNKNOWN_ERROR, .. }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_arguments_never_sum_past_i32_max() {
        assert_eq!(slice_args(0, u64::MAX), [0, i32::MAX]);
        assert_eq!(slice_args(1, u64::MAX), [1, i32::MAX - 1]);
        assert_eq!(slice_args(5, 2), [5, 2]);
        assert_eq!(slice_args(3, 0), [3, 1], "a limit of 0 is refused by MongoDB");
        assert_eq!(slice_args(u64::MAX, u64::MAX), [i32::MAX, 1]);
    }

    fn slice_fetch() -> Fetch {
        let stream = StreamName::parse("order:1").unwrap();
        Fetch::new(Namespace::new("db", "order"), stream, Layout::Streamdoc, Shape::Slice { skip: 5, limit: 1 })
    }

    #[test]
    fn a_code_less_failure_of_a_slice_falls_back_to_the_whole_document_once() {
        let mut fetch = slice_fetch();
        let refused = || Reply::ServerError { code: codes::UNKNOWN_ERROR, message: "fromIndex(5) > toIndex(1)".into() };
        let Fetched::Retry(Command::FindOne { projection, .. }) = fetch.on_reply(refused(), "read") else {
            panic!("no fallback")
        };
        assert_eq!(projection, None, "the whole document");
        // The fallback is not retried again: a second failure is the read's error.
        assert!(matches!(fetch.on_reply(refused(), "read"), Fetched::Failed(Error::Server { code: 8, .. })));
    }

    #[test]
    fn other_server_errors_of_a_slice_are_not_hidden() {
        let mut fetch = slice_fetch();
        let reply = Reply::ServerError { code: 2, message: "bad value".into() };
        assert!(matches!(fetch.on_reply(reply, "read"), Fetched::Failed(Error::Server { code: 2, .. })));
    }
}
