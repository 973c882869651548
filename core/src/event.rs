//! Events: what a caller appends ([`NewEvent`]) and what a read returns ([`RecordedEvent`]).

use bson::{DateTime, Document};
use serde::{Deserialize, Serialize};

use crate::layout::Layout;

/// An event to append.
///
/// `id` identifies the event across retries: an append whose ids are already at the
/// expected positions is reported as a success, not a conflict. When `None`, the
/// store's [`crate::IdGenerator`] assigns one as the append is prepared.
///
/// ```
/// use bson::doc;
/// use streamdoc_core::NewEvent;
///
/// let e = NewEvent::new("OrderPlaced", doc! { "total": 42 }).with_id("e-1");
/// assert_eq!(e.id.as_deref(), Some("e-1"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewEvent {
    /// The event id; assigned by the store when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The event type, e.g. `OrderPlaced`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The payload.
    #[serde(default)]
    pub data: Document,
    /// Caller metadata, stored beside the system metadata (which it may not override).
    #[serde(default)]
    pub metadata: Document,
}

impl NewEvent {
    /// An event of `event_type` with `data`, no id (assigned on append) and no metadata.
    pub fn new(event_type: impl Into<String>, data: Document) -> Self {
        Self { id: None, event_type: event_type.into(), data, metadata: Document::new() }
    }

    /// Sets the event id.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the caller metadata.
    pub fn with_metadata(mut self, metadata: Document) -> Self {
        self.metadata = metadata;
        self
    }
}

/// An event as stored in a stream and read back.
///
/// Its shape is the event as the stream document holds it, and the one shape every
/// layer returns (the JavaScript package, the HTTP API, the scenario runners):
///
/// ```text
/// { type, data, metadata: { ...caller metadata, eventId, streamName, streamPosition, recordedAt } }
/// ```
///
/// The system fields sit inside `metadata`, beside the caller's, as Emmett applications
/// read them (`event.metadata.streamPosition`); in the Emmett layout the id is
/// `messageId`. `streamPosition` is an Int64, `recordedAt` a datetime (absent from
/// events written by Emmett). The serde form is that document:
///
/// ```
/// use bson::doc;
/// use streamdoc_core::{EventStore, ExpectedVersion, NewEvent, ReadRange};
///
/// let mut store = EventStore::in_memory();
/// let placed = NewEvent::new("OrderPlaced", doc! { "total": 42 }).with_id("e-1").with_metadata(doc! { "by": "ann" });
/// store.append_to_stream("order:1", vec![placed], ExpectedVersion::NoStream).unwrap();
/// let event = &store.read_stream("order:1", ReadRange::all()).unwrap().events[0];
/// assert_eq!((event.metadata.event_id.as_str(), event.metadata.stream_position), ("e-1", 1));
///
/// let stored = bson::serialize_to_document(event).unwrap();
/// let metadata = stored.get_document("metadata").unwrap();
/// assert_eq!(metadata.keys().collect::<Vec<_>>(), ["by", "eventId", "streamName", "streamPosition", "recordedAt"]);
/// assert_eq!(metadata.get_i64("streamPosition").unwrap(), 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    /// The event type.
    pub event_type: String,
    /// The payload.
    pub data: Document,
    /// The system fields and the caller's metadata.
    pub metadata: RecordedMetadata,
}

/// The metadata of a [`RecordedEvent`]: what the store wrote, and what the caller gave.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedMetadata {
    /// The event id (`eventId`, or `messageId` in the Emmett layout).
    pub event_id: String,
    /// The stream the event belongs to (`streamName`).
    pub stream_name: String,
    /// The event's 1-based position in the stream (`streamPosition`).
    pub stream_position: u64,
    /// When the append was made (`recordedAt`; `None` in streams written by Emmett).
    pub recorded_at: Option<DateTime>,
    /// The caller's metadata, as appended (stored before the system fields).
    pub custom: Document,
    /// The layout the event was read with, which names the id field.
    pub layout: Layout,
}

impl RecordedEvent {
    /// The event as its stream document holds it (see the [type documentation](Self)).
    pub fn to_document(&self) -> Document {
        self.metadata.layout.recorded_document(self)
    }

    /// Reads an event in its stored shape (the inverse of [`RecordedEvent::to_document`]);
    /// the layout is the one whose id field the metadata holds.
    pub fn from_document(stored: &Document) -> Result<Self, String> {
        crate::layout::decode_stored_event(stored)
    }
}

impl Serialize for RecordedEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_document().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RecordedEvent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let stored = Document::deserialize(deserializer)?;
        Self::from_document(&stored).map_err(serde::de::Error::custom)
    }
}

/// An event whose id is fixed, ready to be stored: every retry of a write carries
/// the same ids.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PreparedEvent {
    pub(crate) id: String,
    pub(crate) event_type: String,
    pub(crate) data: Document,
    pub(crate) metadata: Document,
}
