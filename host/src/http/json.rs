//! The JSON of the API: how request JSON becomes BSON, and stored BSON becomes JSON.
//!
//! Event `data` and `metadata` are read as plain JSON by core's rule
//! ([`streamdoc_core::json`]): every key is kept verbatim (keys starting with `$` or
//! containing `.` are data, not Extended JSON); a number is an Int32 when its value is
//! an integer in Int32 range, an Int64 when it is another integer in Int64 range, else
//! a Double — exactly as the JavaScript package stores a `number`. Events are written
//! back in core's recorded-event shape (`{type, data, metadata}`, the system fields in
//! `metadata`) as relaxed Extended JSON, which for values that came in as JSON is the
//! same JSON. `/streams/{name}/document` gives the stored document as canonical
//! Extended JSON, losslessly.

use bson::{Bson, Document};
use serde_json::Value;
use streamdoc_core::{ReadResult, RecordedEvent};

pub use streamdoc_core::json::to_document;

/// A BSON document as relaxed Extended JSON.
pub fn relaxed(doc: &Document) -> Value {
    Bson::Document(doc.clone()).into_relaxed_extjson()
}

/// A BSON document as canonical Extended JSON.
pub fn canonical(doc: &Document) -> Value {
    Bson::Document(doc.clone()).into_canonical_extjson()
}

/// One event of a read: core's recorded-event shape, as relaxed Extended JSON.
pub fn event(event: &RecordedEvent) -> Value {
    relaxed(&event.to_document())
}

/// A read: `{streamName, currentStreamVersion, streamExists, events}`.
pub fn read(stream: &str, read: &ReadResult) -> Value {
    serde_json::json!({
        "streamName": stream,
        "currentStreamVersion": read.current_stream_version,
        "streamExists": read.stream_exists,
        "events": read.events.iter().map(event).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use bson::doc;
    use serde_json::json;

    use super::*;

    #[test]
    fn keys_are_data_and_numbers_keep_their_kind() {
        let input = json!({ "$set": 1, "a.b": 2_147_483_648_i64, "f": 1.5, "n": null, "l": [true, "x"] });
        let doc = to_document(input.as_object().unwrap());
        assert_eq!(doc, doc! { "$set": 1, "a.b": 2_147_483_648_i64, "f": 1.5, "n": null, "l": [true, "x"] });
        assert_eq!(relaxed(&doc), input);
        assert_eq!(canonical(&doc! { "n": 1_i64 }), json!({ "n": { "$numberLong": "1" } }));
    }
}
