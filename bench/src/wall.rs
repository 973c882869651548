//! Where the 16 MiB wall falls: a stream filled on core's engine (which refuses what
//! MongoDB would refuse) until one more event no longer fits.

use bson::doc;
use streamdoc_core::{Error, EventStore, ExpectedVersion, NewEvent};

use crate::BenchError;

/// The events that fit in one stream document when each event's data is `data_bytes`
/// of BSON, and the bytes one event takes in the document.
#[derive(Debug, Clone, Copy)]
pub struct Wall {
    /// The size of each event's data, in BSON bytes.
    pub data_bytes: usize,
    /// The most events one document holds.
    pub events: u64,
    /// The document's bytes per event at the wall.
    pub bytes_per_event: f64,
}

/// An event whose data is exactly `bytes` of BSON (one string field; at least 20).
fn event(bytes: usize) -> NewEvent {
    // { payload: "<n x>" }: 4 (length) + 1 (type) + 8 ("payload\0") + 4 (string length) + n + 1 + 1 (end).
    NewEvent::new("Recorded", doc! { "payload": "x".repeat(bytes.saturating_sub(19)) })
}

/// Fills a stream with events of `data_bytes` until the next one is refused as too large.
pub fn measure(data_bytes: usize) -> Result<Wall, BenchError> {
    let mut store = EventStore::in_memory();
    let name = "wall:1";
    let mut events = 0u64;
    let mut batch = 4_096usize;
    while batch > 0 {
        match store.append_to_stream(name, (0..batch).map(|_| event(data_bytes)).collect(), ExpectedVersion::Any) {
            Ok(r) => events = r.next_expected_stream_version,
            Err(Error::StreamTooLarge { .. }) => batch /= 2,
            Err(e) => return Err(e.into()),
        }
    }
    let bytes = streamdoc_core::limits::MAX_DOCUMENT_BYTES as f64;
    Ok(Wall { data_bytes, events, bytes_per_event: bytes / events.max(1) as f64 })
}
