//! The real clock and random event ids: what core leaves to its hosts.

use bson::DateTime;
use streamdoc_core::{Clock, IdGenerator};

/// The system clock, in milliseconds.
///
/// ```
/// use streamdoc_core::Clock;
/// use streamdoc_host::SystemClock;
///
/// assert!(SystemClock.now().timestamp_millis() > 1_700_000_000_000);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime {
        DateTime::now()
    }
}

/// Random version-4 UUIDs as event ids.
///
/// ```
/// use streamdoc_core::IdGenerator;
/// use streamdoc_host::RandomIds;
///
/// let (a, b) = (RandomIds.next_event_id(), RandomIds.next_event_id());
/// assert_ne!(a, b);
/// assert_eq!(a.len(), 36);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct RandomIds;

impl IdGenerator for RandomIds {
    fn next_event_id(&self) -> String {
        bson::Uuid::new().to_string()
    }
}
