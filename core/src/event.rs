//! Events: what a caller appends ([`NewEvent`]) and what a read returns ([`RecordedEvent`]).

use bson::{DateTime, Document};
use serde::{Deserialize, Serialize};

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

/// An event as stored in a stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedEvent {
    /// The event id (`eventId`, or `messageId` in the Emmett layout).
    pub id: String,
    /// The event type.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The payload.
    pub data: Document,
    /// Caller metadata, without the system fields.
    pub metadata: Document,
    /// The stream the event belongs to.
    pub stream_name: String,
    /// 1-based position in the stream.
    pub stream_position: u64,
    /// When the append was made (absent in streams written by Emmett).
    pub recorded_at: Option<DateTime>,
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
