//! Injected sources of time and identity.
//!
//! Core never reads a clock or a random source. Whatever needs "now", a fresh event
//! id or a fresh ObjectId takes it from one of these traits, so a seeded run is
//! reproducible bit for bit. Real clocks and random ids live in the host and the
//! wasm bindings.

use bson::oid::ObjectId;
use bson::DateTime;

/// Something that tells the time, in milliseconds since the Unix epoch.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime;
}

/// Something that invents event ids.
pub trait IdGenerator: Send + Sync {
    /// A fresh event id, unique within the store.
    fn next_event_id(&self) -> String;
}

/// A clock that starts at a fixed instant and advances by a fixed step on every call.
///
/// ```
/// use streamdoc_core::{Clock, SteppingClock};
///
/// let clock = SteppingClock::new(1_000, 10);
/// assert_eq!(clock.now().timestamp_millis(), 1_000);
/// assert_eq!(clock.now().timestamp_millis(), 1_010);
/// ```
#[derive(Debug)]
pub struct SteppingClock {
    next: std::sync::atomic::AtomicI64,
    step: i64,
}

impl SteppingClock {
    /// Starts at `start_ms` and advances by `step_ms` per reading (0: a frozen clock).
    pub fn new(start_ms: i64, step_ms: i64) -> Self {
        Self { next: std::sync::atomic::AtomicI64::new(start_ms), step: step_ms }
    }
}

impl Clock for SteppingClock {
    fn now(&self) -> DateTime {
        DateTime::from_millis(self.next.fetch_add(self.step, std::sync::atomic::Ordering::Relaxed))
    }
}

/// A deterministic generator of UUID-shaped (version 4 layout) event ids, from a seed.
///
/// ```
/// use streamdoc_core::{IdGenerator, SeededIds};
///
/// let a = SeededIds::new(7);
/// let b = SeededIds::new(7);
/// assert_eq!(a.next_event_id(), b.next_event_id());
/// assert_eq!(a.next_event_id().len(), 36);
/// ```
#[derive(Debug)]
pub struct SeededIds {
    state: std::sync::atomic::AtomicU64,
}

impl SeededIds {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: std::sync::atomic::AtomicU64::new(seed) }
    }
}

impl IdGenerator for SeededIds {
    fn next_event_id(&self) -> String {
        let s = self.state.fetch_add(2, std::sync::atomic::Ordering::Relaxed);
        uuid_from_words(splitmix64(s), splitmix64(s.wrapping_add(1)))
    }
}

/// splitmix64: a tiny, well-mixed, deterministic 64-bit generator step.
pub(crate) fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn uuid_from_words(hi: u64, lo: u64) -> String {
    let hi = (hi & !0xF000) | 0x4000; // version 4
    let lo = (lo & !(0b11 << 62)) | (0b10 << 62); // RFC 4122 variant

    // 8-4-4-4-12 hex digits, written directly: an id is made for every event.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for digit in 0..32 {
        if matches!(digit, 8 | 12 | 16 | 20) {
            out.push('-');
        }
        let (word, nth) = if digit < 16 { (hi, digit) } else { (lo, digit - 16) };
        out.push(char::from(HEX[((word >> (60 - 4 * nth)) & 0xF) as usize]));
    }
    out
}

/// A deterministic ObjectId source for the in-memory engine: a fixed 4-byte
/// timestamp, 5 bytes derived from the seed, and a 3-byte counter, as the ObjectId
/// spec lays them out.
#[derive(Debug, Clone)]
pub struct ObjectIdGenerator {
    prefix: [u8; 9],
    counter: u32,
}

impl ObjectIdGenerator {
    /// A generator whose sequence is fixed by `seed`.
    pub fn seeded(seed: u64) -> Self {
        let mix = splitmix64(seed).to_be_bytes();
        let mut prefix = [0u8; 9];
        // 2026-01-01T00:00:00Z as the timestamp part: a plausible, fixed value.
        prefix[..4].copy_from_slice(&1_767_225_600u32.to_be_bytes());
        prefix[4..].copy_from_slice(&mix[..5]);
        Self { prefix, counter: 0 }
    }

    /// The next ObjectId. After 2^24 ids the 5 seed bytes advance, as a new process would.
    pub fn next_id(&mut self) -> ObjectId {
        if self.counter == 1 << 24 {
            self.counter = 0;
            let bumped = u64::from_be_bytes([
                0,
                0,
                0,
                self.prefix[4],
                self.prefix[5],
                self.prefix[6],
                self.prefix[7],
                self.prefix[8],
            ]) + 1;
            self.prefix[4..].copy_from_slice(&bumped.to_be_bytes()[3..]);
        }
        let mut bytes = [0u8; 12];
        bytes[..9].copy_from_slice(&self.prefix);
        bytes[9..].copy_from_slice(&self.counter.to_be_bytes()[1..]);
        self.counter += 1;
        ObjectId::from_bytes(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_uuid_shaped() {
        assert_eq!(
            uuid_from_words(0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210),
            "01234567-89ab-4def-bedc-ba9876543210"
        );
        assert_eq!(uuid_from_words(0, 0), "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn object_ids_are_distinct_and_reproducible() {
        let mut a = ObjectIdGenerator::seeded(1);
        let mut b = ObjectIdGenerator::seeded(1);
        let first = a.next_id();
        assert_eq!(first, b.next_id());
        assert_ne!(first, a.next_id());
    }

    #[test]
    fn event_ids_look_like_v4_uuids() {
        let id = SeededIds::new(0).next_event_id();
        assert_eq!(id.as_bytes()[14], b'4');
        assert!(matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
    }
}
