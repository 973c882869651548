//! Reading a stream, whole or a range of positions.

use bson::{Bson, Document};
use serde::{Deserialize, Serialize};

use crate::command::{Namespace, Reply};
use crate::error::Error;
use crate::event::RecordedEvent;
use crate::expected::ExpectedVersion;
use crate::layout::{document_position, Layout, StoreConfig};
use crate::name::StreamName;
use crate::ops::fetch::{Fetch, Fetched, Shape};
use crate::ops::outbox::Outbox;
use crate::ops::{Operation, Step};

/// Which events to read: inclusive 1-based positions.
///
/// `from` defaults to 1 (0 is read as 1), `to` to the end; `max_count` caps the number
/// of events. `to < from` is an [`Error::InvalidRange`]; a range past the end, or
/// `max_count: 0`, reads no events but still reports the stream's position.
///
/// ```
/// use streamdoc_core::ops::ReadRange;
///
/// let r = ReadRange { from: Some(2), to: Some(10), max_count: Some(3) };
/// assert_eq!(r.positions().unwrap(), Some((2, 4)));
/// assert_eq!(ReadRange::default().positions().unwrap(), Some((1, u64::MAX)));
/// assert!(ReadRange { from: Some(5), to: Some(3), max_count: None }.positions().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadRange {
    /// First position to read (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<u64>,
    /// Last position to read (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<u64>,
    /// At most this many events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_count: Option<u64>,
}

impl ReadRange {
    /// The whole stream.
    pub fn all() -> Self {
        Self::default()
    }

    /// The inclusive positions to read, `None` when the range is empty.
    pub fn positions(&self) -> Result<Option<(u64, u64)>, Error> {
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if to < from {
                return Err(Error::InvalidRange { from, to });
            }
        }
        let first = self.from.unwrap_or(1).max(1);
        let mut last = self.to.unwrap_or(u64::MAX);
        if let Some(max) = self.max_count {
            if max == 0 {
                return Ok(None);
            }
            last = last.min(first.saturating_add(max - 1));
        }
        Ok((last >= first).then_some((first, last)))
    }

    fn shape(&self) -> Result<Shape, Error> {
        Ok(match self.positions()? {
            None => Shape::Head,
            Some((1, u64::MAX)) => Shape::Whole,
            Some((first, last)) => Shape::Slice { skip: first - 1, limit: last - first + 1 },
        })
    }
}

/// A stream as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadResult {
    /// The position of the stream's last event (0 when it does not exist).
    pub current_stream_version: u64,
    /// Whether the stream document exists.
    pub stream_exists: bool,
    /// The events in the range, in order.
    pub events: Vec<RecordedEvent>,
}

impl ReadResult {
    /// Decodes a stream document (or its absence).
    pub(crate) fn from_document(stream: &str, layout: Layout, doc: Option<Document>) -> Result<Self, Error> {
        let Some(doc) = doc else {
            return Ok(Self { current_stream_version: 0, stream_exists: false, events: Vec::new() });
        };
        let corrupt = |reason: String| Error::CorruptDocument { stream: stream.to_owned(), reason };
        let position = document_position(&doc).ok_or_else(|| corrupt("no integral metadata.streamPosition".into()))?;
        let events = match doc.get(layout.events_field()) {
            None | Some(Bson::Null) => Vec::new(),
            Some(Bson::Array(items)) => {
                items.iter().map(|item| layout.decode_event(stream, item).map_err(corrupt)).collect::<Result<_, _>>()?
            }
            Some(_) => return Err(corrupt(format!("`{}` is not an array", layout.events_field()))),
        };
        Ok(Self { current_stream_version: position, stream_exists: true, events })
    }
}

/// The read operation: one [`crate::Command::FindOne`] (with a `$slice` projection for
/// a range), and a second one fetching the whole document when the server answers
/// 238 NotImplemented to `$slice`, sliced locally.
#[derive(Debug, Clone)]
pub struct Read {
    stream: String,
    layout: Layout,
    /// Where the reader expects the stream: a typed conflict when it is elsewhere.
    expected: ExpectedVersion,
    /// True when reading the archive collection instead of the live one.
    from_archive: bool,
    fetch: Option<Fetch>,
    /// For a segmented store, the read across segments (instead of `fetch`).
    segments: Option<crate::ops::segments::SegmentRead>,
    outbox: Outbox<ReadResult>,
}

impl Read {
    /// Prepares a read; invalid input is returned by the first `next()`.
    pub(crate) fn new(config: &StoreConfig, stream: StreamName, range: ReadRange, expected: ExpectedVersion) -> Self {
        Self::from(config, stream, range, expected, false)
    }

    /// A read of the live collection, or with `from_archive` of the archive collection.
    pub(crate) fn from(
        config: &StoreConfig,
        stream: StreamName,
        range: ReadRange,
        expected: ExpectedVersion,
        from_archive: bool,
    ) -> Self {
        let mut op = Self {
            stream: stream.as_str().to_owned(),
            layout: config.layout,
            expected,
            from_archive,
            fetch: None,
            segments: None,
            outbox: Outbox::Finished,
        };
        if config.segmented() && !from_archive {
            match range.positions().and_then(|positions| Ok((positions, config.namespace(&stream)?))) {
                Ok((positions, ns)) => {
                    let mut read = crate::ops::segments::SegmentRead::new(
                        ns,
                        stream,
                        config.layout,
                        positions,
                        config.segment_bytes.unwrap_or(1),
                    );
                    op.outbox.send(read.start());
                    op.segments = Some(read);
                }
                Err(e) => op.outbox.finish(Err(e)),
            }
            return op;
        }
        let ns = |stream: &StreamName| match from_archive {
            true => config.archive_namespace(stream),
            false => config.namespace(stream),
        };
        match range.shape().and_then(|shape| Ok((shape, ns(&stream)?))) {
            Ok((shape, ns)) => op.start(ns, stream, shape),
            Err(e) => op.outbox.finish(Err(e)),
        }
        op
    }

    fn start(&mut self, ns: Namespace, stream: StreamName, shape: Shape) {
        let fetch = Fetch::new(ns, stream, self.layout, shape);
        self.outbox.send(fetch.command());
        self.fetch = Some(fetch);
    }
}

impl Operation for Read {
    type Output = ReadResult;

    fn next(&mut self) -> Step<Result<ReadResult, Error>> {
        self.outbox.next()
    }

    fn feed(&mut self, reply: Reply) {
        if !self.outbox.accept_reply() {
            return;
        }
        if let Some(read) = self.segments.as_mut() {
            match read.on_reply(reply, "reading the stream's segments") {
                crate::ops::segments::SegmentStep::Send(cmd) => self.outbox.send(cmd),
                crate::ops::segments::SegmentStep::Done(Ok(doc)) => self.on_document(doc),
                crate::ops::segments::SegmentStep::Done(Err(e)) => self.outbox.finish(Err(e)),
            }
            return;
        }
        let Some(fetch) = self.fetch.as_mut() else { return };
        match fetch.on_reply(reply, "reading the stream") {
            Fetched::Document(doc) => self.on_document(doc),
            Fetched::Retry(cmd) => self.outbox.send(cmd),
            Fetched::Failed(e) => self.outbox.finish(Err(e)),
        }
    }

    fn describe_step(&self) -> &'static str {
        "reading the stream"
    }
}

impl Read {
    /// The stream document as read (already cut to the range).
    fn on_document(&mut self, doc: Option<Document>) {
        {
            {
                let seal = doc.as_ref().map(crate::layout::Seal::of).unwrap_or_default();
                if seal.archived && !self.from_archive {
                    let position = doc.as_ref().and_then(document_position).unwrap_or(0);
                    let stream = self.stream.clone();
                    let successor = seal.successor;
                    return self.outbox.finish(Err(Error::StreamArchived { stream, position, successor }));
                }
                let result = ReadResult::from_document(&self.stream, self.layout, doc).and_then(|read| {
                    if self.expected.accepts(read.stream_exists, read.current_stream_version) {
                        Ok(read)
                    } else {
                        Err(Error::ConcurrencyConflict {
                            stream: self.stream.clone(),
                            expected: self.expected,
                            actual: read.stream_exists.then_some(read.current_stream_version),
                        })
                    }
                });
                self.outbox.finish(result);
            }
        }
    }
}
