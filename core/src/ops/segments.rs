//! Segmented streams: the commands that find a stream's segments, and the reading of a
//! range across them.
//!
//! A segmented stream is stored as documents `{ streamName, segment: k, events, metadata:
//! { streamPosition, segmentStart, segmentBytes, sealedAt? } }`. Segment `k` holds the
//! events after position `segmentStart` up to `streamPosition`; every segment but the
//! last is sealed, and each starts where the one before ends, so the segments tile the
//! positions 1..=n. Appends go to the open (last) segment with the usual position
//! filter; [`crate::ops::Append`] rolls over to a new one.

use bson::{doc, Bson, Document};

use crate::command::{Command, Namespace, Reply};
use crate::error::Error;
use crate::layout::{
    document_position, document_segment, position_to_bson, Layout, Seal, METADATA, SEGMENT, SEGMENT_START_PATH,
    STREAM_NAME, STREAM_POSITION_PATH,
};
use crate::name::StreamName;
use crate::ops::fetch::stream_filter;
use crate::ops::read::ReadResult;

/// The bytes of segments one `find` of a read asks for: what keeps a reply well under the
/// wire's message limit on every server (MongoDB cuts batches at 16 MiB itself; some
/// servers answer with one message of any size, which the driver refuses past 48 MB).
const PAGE_BYTES: u64 = 12 * 1024 * 1024;

/// How often a read retries when the segments it got do not tile (a roll-over ran
/// between the server's reads of two segments) before it reports the stream corrupt.
const MAX_READ_ATTEMPTS: u32 = 8;

/// The last segment of a stream, without its events.
pub(crate) fn head_command(ns: Namespace, stream: &StreamName) -> Command {
    Command::Find {
        ns,
        filter: stream_filter(stream),
        projection: Some(doc! { STREAM_NAME: 1, SEGMENT: 1, METADATA: 1 }),
        sort: Some(doc! { SEGMENT: -1 }),
        skip: 0,
        limit: 1,
    }
}

/// The segment holding `position`.
pub(crate) fn holding_command(ns: Namespace, stream: &StreamName, position: u64) -> Command {
    let mut filter = stream_filter(stream);
    filter.insert(SEGMENT_START_PATH, doc! { "$lt": position_to_bson(position) });
    filter.insert(STREAM_POSITION_PATH, doc! { "$gte": position_to_bson(position) });
    Command::FindOne { ns, filter, projection: None }
}

/// The events at positions `first..=last` of the segments in `docs` (each holding its
/// events' positions in their metadata).
fn events_between(layout: Layout, docs: impl IntoIterator<Item = Document>, first: u64, last: u64) -> Vec<Bson> {
    let start_of = |doc: &Document| document_segment(doc).map_or(0, |(_, start, _)| start);
    let mut events = Vec::new();
    for mut doc in docs {
        let start = start_of(&doc);
        if let Some(Bson::Array(items)) = doc.remove(layout.events_field()) {
            events.extend(
                items.into_iter().zip(start + 1..).filter(|(_, p)| (first..=last).contains(p)).map(|(item, _)| item),
            );
        }
    }
    events
}

/// A segment cut down to the events of `base + 1 ..= base + count` and reporting the
/// stream's position `actual`: what an append's check after a conflict reads.
pub(crate) fn as_slice_of(mut doc: Document, layout: Layout, base: u64, count: u64, actual: u64) -> Document {
    let events = events_between(layout, [doc.clone()], base + 1, base + count);
    doc.insert(layout.events_field(), events);
    if let Ok(metadata) = doc.get_document_mut(METADATA) {
        metadata.insert("streamPosition", position_to_bson(actual));
        // A full segment is sealed; the stream is not.
        metadata.remove("sealedAt");
    }
    doc
}

/// What a segmented read does next.
// Consumed at once; boxing the command would allocate per step.
#[allow(clippy::large_enum_variant)]
pub(crate) enum SegmentStep {
    /// Send this command, feed its reply.
    Send(Command),
    /// The stream as read (its events in the range), or why not.
    Done(Result<Option<Document>, Error>),
}

/// Reading positions `first..=last` of a segmented stream: one [`Command::Find`] of the
/// segments that overlap them, sorted by segment (whole segments outside the range are
/// skipped by the server); a second one for the stream's position when the range ends
/// before the open segment. The result is a single stream document holding the events
/// of the range, so the rest of a read is the same for both storages.
#[derive(Debug, Clone)]
pub(crate) struct SegmentRead {
    ns: Namespace,
    stream: StreamName,
    layout: Layout,
    /// `None`: no events, only the position.
    range: Option<(u64, u64)>,
    /// Segments per `find`.
    page: u64,
    attempts: u32,
    /// The segments of the range read so far (pages before the last).
    collected: Vec<Document>,
    /// The segments of the range, kept while the head is read.
    found: Option<Vec<Document>>,
}

impl SegmentRead {
    pub(crate) fn new(
        ns: Namespace,
        stream: StreamName,
        layout: Layout,
        range: Option<(u64, u64)>,
        segment_bytes: u64,
    ) -> Self {
        let page = (PAGE_BYTES / segment_bytes.max(1)).max(1);
        Self { ns, stream, layout, range, page, attempts: 0, collected: Vec::new(), found: None }
    }

    /// The first command.
    pub(crate) fn start(&mut self) -> Command {
        self.attempts += 1;
        self.found = None;
        self.collected.clear();
        self.page_command()
    }

    /// The `find` of the next page of segments: those after the ones collected.
    fn page_command(&self) -> Command {
        let Some((first, last)) = self.range else { return head_command(self.ns.clone(), &self.stream) };
        let mut filter = stream_filter(&self.stream);
        if let Some(k) = self.collected.last().and_then(document_segment).map(|(k, _, _)| k) {
            filter.insert(SEGMENT, doc! { "$gt": position_to_bson(k) });
        }
        if first > 1 {
            filter.insert(STREAM_POSITION_PATH, doc! { "$gte": position_to_bson(first) });
        }
        if last < u64::MAX {
            filter.insert(SEGMENT_START_PATH, doc! { "$lt": position_to_bson(last) });
        }
        Command::Find {
            ns: self.ns.clone(),
            filter,
            projection: None,
            sort: Some(doc! { SEGMENT: 1 }),
            skip: 0,
            limit: self.page,
        }
    }

    pub(crate) fn on_reply(&mut self, reply: Reply, step: &str) -> SegmentStep {
        let docs = match reply {
            Reply::FoundMany(docs) => docs,
            Reply::ServerError { code, message } => return SegmentStep::Done(Err(Error::Server { code, message })),
            other => return SegmentStep::Done(Err(super::outbox::unexpected(step, &other))),
        };
        match (self.found.take(), self.range) {
            // The head, after segments that did not include it (or for a range of none).
            (found, _) if found.is_some() || self.range.is_none() => {
                let head = docs.into_iter().next();
                SegmentStep::Done(Ok(head.map(|head| self.assemble(found.unwrap_or_default(), &head))))
            }
            (_, Some(_)) => {
                let full_page = docs.len() as u64 >= self.page;
                let mut docs = docs;
                if !self.collected.is_empty() {
                    let mut all = std::mem::take(&mut self.collected);
                    all.append(&mut docs);
                    docs = all;
                }
                if !tiles(&docs) {
                    if self.attempts >= MAX_READ_ATTEMPTS {
                        let reason = "its segments do not tile its positions".to_owned();
                        let stream = self.stream.as_str().to_owned();
                        return SegmentStep::Done(Err(Error::CorruptDocument { stream, reason }));
                    }
                    return SegmentStep::Send(self.start());
                }
                let open = docs.last().is_some_and(|last| !Seal::of(last).sealed);
                if full_page && !open {
                    // More segments may follow.
                    self.collected = docs;
                    return SegmentStep::Send(self.page_command());
                }
                match docs.last() {
                    Some(last) if !Seal::of(last).sealed => {
                        let head = last.clone();
                        SegmentStep::Done(Ok(Some(self.assemble(docs, &head))))
                    }
                    _ => {
                        self.found = Some(docs);
                        SegmentStep::Send(head_command(self.ns.clone(), &self.stream))
                    }
                }
            }
            (_, None) => SegmentStep::Done(Ok(None)),
        }
    }

    /// One stream document: the head's identity and position, the range's events.
    fn assemble(&self, segments: Vec<Document>, head: &Document) -> Document {
        let (first, last) = self.range.unwrap_or((1, 0));
        let events = events_between(self.layout, segments, first, last);
        let mut doc = head.clone();
        doc.remove(SEGMENT);
        doc.insert(self.layout.events_field(), events);
        doc
    }
}

/// True when each segment starts where the one before it ends.
fn tiles(docs: &[Document]) -> bool {
    docs.windows(2).all(|pair| match (document_position(&pair[0]), document_segment(&pair[1])) {
        (Some(end), Some((_, start, _))) => start == end,
        _ => false,
    })
}

/// A segmented stream's segments as one stream document (for checks and tests): the
/// last segment's identity and position, every event in order. `None` when they do not
/// tile the positions from 0.
pub fn join_segments(layout: Layout, mut segments: Vec<Document>) -> Option<Document> {
    segments.sort_by_key(|d| document_segment(d).map(|(k, _, _)| k));
    let starts_at_zero = segments.first().and_then(document_segment).is_some_and(|(k, start, _)| k == 0 && start == 0);
    let numbered = segments.iter().enumerate().all(|(i, d)| document_segment(d).is_some_and(|(k, _, _)| k == i as u64));
    if !starts_at_zero || !numbered || !tiles(&segments) {
        return None;
    }
    let head = segments.last()?.clone();
    let read = SegmentRead::new(Namespace::new("", ""), StreamName::parse("_:_").ok()?, layout, Some((1, u64::MAX)), 1);
    Some(read.assemble(segments, &head))
}

impl ReadResult {
    /// Decodes a segmented stream's segments, joined ([`join_segments`]).
    pub fn from_segments(stream: &str, layout: Layout, segments: Vec<Document>) -> Result<Self, Error> {
        if segments.is_empty() {
            return Self::from_document(stream, layout, None);
        }
        let joined = join_segments(layout, segments).ok_or_else(|| Error::CorruptDocument {
            stream: stream.to_owned(),
            reason: "its segments do not tile its positions".into(),
        })?;
        Self::from_document(stream, layout, Some(joined))
    }
}
