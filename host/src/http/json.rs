//! The JSON of the API: how request JSON becomes BSON, and stored BSON becomes JSON.
//!
//! Event `data` and `metadata` are read as plain JSON: every key is kept verbatim
//! (keys starting with `$` or containing `.` are data, not Extended JSON), integers
//! become Int32 when they fit and Int64 otherwise (as the MongoDB Node.js driver does),
//! other numbers Double. They are written back as relaxed Extended JSON, which for
//! values that came in as JSON is the same JSON. `/streams/{name}/document` gives the
//! stored document as canonical Extended JSON, losslessly.

use bson::{Bson, Document};
use serde_json::{Map, Value};
use streamdoc_core::{ReadResult, RecordedEvent};

/// A JSON value as BSON, keys verbatim.
pub fn to_bson(value: &Value) -> Bson {
    match value {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i32::try_from(i).map(Bson::Int32).unwrap_or(Bson::Int64(i)),
            (None, Some(f)) => Bson::Double(f),
            (None, None) => Bson::Null,
        },
        Value::String(s) => Bson::String(s.clone()),
        Value::Array(items) => Bson::Array(items.iter().map(to_bson).collect()),
        Value::Object(map) => Bson::Document(to_document(map)),
    }
}

/// A JSON object as a BSON document, keys verbatim and in order.
pub fn to_document(map: &Map<String, Value>) -> Document {
    map.iter().map(|(k, v)| (k.clone(), to_bson(v))).collect()
}

/// A BSON document as relaxed Extended JSON.
pub fn relaxed(doc: &Document) -> Value {
    Bson::Document(doc.clone()).into_relaxed_extjson()
}

/// A BSON document as canonical Extended JSON.
pub fn canonical(doc: &Document) -> Value {
    Bson::Document(doc.clone()).into_canonical_extjson()
}

/// One event of a read: `{type, data, metadata: {...caller, eventId, streamName,
/// streamPosition, recordedAt}}`.
pub fn event(event: &RecordedEvent) -> Value {
    let mut metadata = match relaxed(&event.metadata) {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    metadata.insert("eventId".into(), event.id.clone().into());
    metadata.insert("streamName".into(), event.stream_name.clone().into());
    metadata.insert("streamPosition".into(), event.stream_position.into());
    if let Some(at) = event.recorded_at {
        let text = at.try_to_rfc3339_string().map(Value::from).unwrap_or_else(|_| at.timestamp_millis().into());
        metadata.insert("recordedAt".into(), text);
    }
    serde_json::json!({ "type": event.event_type, "data": relaxed(&event.data), "metadata": metadata })
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
