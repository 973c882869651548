//! What a subscription hands to its handler.

use serde::{Deserialize, Serialize};

use crate::event::RecordedEvent;

/// Events of one stream, in order, right after the consumer's checkpoint of it.
///
/// The handler acknowledges a batch when it is done with it; the checkpoint then moves
/// to [`Batch::last_position`]. A batch that was delivered but not acknowledged
/// (the process stopped, the handler failed) is delivered again: at least once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    /// The stream.
    pub stream: String,
    /// The checkpoint the batch follows: its first event is at `after + 1`.
    pub after: u64,
    /// The events, at positions `after + 1 ..= after + events.len()`.
    pub events: Vec<RecordedEvent>,
}

impl Batch {
    /// The position of the batch's last event: the checkpoint once acknowledged.
    pub fn last_position(&self) -> u64 {
        self.after + self.events.len() as u64
    }
}
