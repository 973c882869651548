//! The arguments and results of the store's and the simulator's operations, between
//! JavaScript and core's types: events, expected versions, read ranges, results, and
//! operations described as data.

use js_sys::{Array, Object};
use streamdoc_core::limits::MAX_VALUE_DEPTH;
use streamdoc_core::ops::{ArchiveResult, CloseResult, ReadRange, RebuildResult, StreamState, StreamStatus};
use streamdoc_core::{
    AppendResult, Error, ExpectedVersion, InvalidEvent, NewEvent, OpOutput, OpSpec, ReadResult, RecordedEvent,
};
use wasm_bindgen::{JsCast, JsValue};

use crate::js::{check_options, get, is_absent, optional_u64, set, string_field, type_error};
use crate::values::{document_to_js, to_document, ValueError, Values};
pub use crate::versions::{expected_to_js, expected_version};

/// The keys an event to append may have. `kind` is Emmett's message kind: only
/// `"Event"`, which says nothing more (every appended message is an event).
pub(crate) const EVENT_KEYS: [&str; 5] = ["type", "data", "metadata", "id", "kind"];

/// The options of `appendToStream`.
pub(crate) const APPEND_OPTIONS: [&str; 1] = ["expectedStreamVersion"];

/// Event `data` or `metadata` (`field`). Past the depth limit it is core's own refusal,
/// as core's validation would give it (so every layer reports the same error); a value
/// that cannot be stored at all is a `TypeError`.
fn optional_document(v: &JsValue, field: &str, at: (&str, usize)) -> Result<bson::Document, JsValue> {
    if is_absent(v) {
        return Ok(bson::Document::new());
    }
    let (stream, index) = at;
    to_document(v, &format!("event {index} {field}"), MAX_VALUE_DEPTH).map_err(|e| match e {
        ValueError::TooDeep { limit, .. } => {
            let reason = InvalidEvent::TooDeep { field: field.to_owned(), limit };
            crate::error::to_js(&Error::InvalidEvent { stream: stream.to_owned(), index, reason })
        }
        invalid => type_error(invalid),
    })
}

/// One event of an append to `stream`: `{ type, data?, metadata?, id?, kind? }`.
fn new_event(e: &JsValue, stream: &str, index: usize) -> Result<NewEvent, JsValue> {
    event_as(e, stream, index, &format!("event {index}"))
}

/// The summary event of `closeStream`, the first event of `successor` (`what` names it
/// in messages).
pub fn summary_event(e: &JsValue, successor: &str, what: &str) -> Result<NewEvent, JsValue> {
    event_as(e, successor, 0, what)
}

/// Event `index` of an append to `stream`, called `what` in messages.
fn event_as(e: &JsValue, stream: &str, index: usize, what: &str) -> Result<NewEvent, JsValue> {
    if !e.is_object() || Array::is_array(e) {
        return Err(type_error(format!("{what} must be an object {{ type, data?, metadata?, id? }}")));
    }
    check_options(e, &EVENT_KEYS, what)?;
    let kind = get(e, "kind");
    if !is_absent(&kind) && kind.as_string().as_deref() != Some("Event") {
        return Err(type_error(format!("{what}: `kind` may only be \"Event\"")));
    }
    let event_type = string_field(e, "type", what).map_err(type_error)?;
    let data = optional_document(&get(e, "data"), "data", (stream, index))?;
    let metadata = optional_document(&get(e, "metadata"), "metadata", (stream, index))?;
    let id = get(e, "id");
    let id = if is_absent(&id) {
        None
    } else {
        Some(id.as_string().ok_or_else(|| type_error(format!("{what}: `id` must be a string")))?)
    };
    Ok(NewEvent { id, event_type, data, metadata })
}

/// The events of an append to `stream`.
pub fn new_events(v: &JsValue, stream: &str) -> Result<Vec<NewEvent>, JsValue> {
    if !Array::is_array(v) {
        return Err(type_error("events must be an array"));
    }
    let array: &Array = v.unchecked_ref();
    array.iter().enumerate().map(|(i, e)| new_event(&e, stream, i)).collect()
}

/// A stream name argument.
pub fn stream_name(v: &JsValue) -> Result<String, JsValue> {
    v.as_string().ok_or_else(|| type_error("streamName must be a string"))
}

/// The arguments of `appendToStream`: stream name, events, expected version.
pub type AppendArguments = (String, Vec<NewEvent>, ExpectedVersion);

/// The arguments of `appendToStream`, read property by property (the path that reports
/// every error; [`crate::encoded_append`] is the fast one).
pub fn append_arguments(stream: &JsValue, events: &JsValue, options: &JsValue) -> Result<AppendArguments, JsValue> {
    let stream = stream_name(stream)?;
    let events = new_events(events, &stream)?;
    check_options(options, &APPEND_OPTIONS, "appendToStream options")?;
    let expected = expected_version(&get(options, "expectedStreamVersion"))?;
    Ok((stream, events, expected))
}

/// `{ from?, to?, maxCount? }` of `readStream` (or a simulated read, whose other keys
/// the caller checks).
pub fn read_range(options: &JsValue, what: &str) -> Result<ReadRange, JsValue> {
    Ok(ReadRange {
        from: optional_u64(options, "from", what)?,
        to: optional_u64(options, "to", what)?,
        max_count: optional_u64(options, "maxCount", what)?,
    })
}

// ---------------------------------------------------------------- results

#[wasm_bindgen::prelude::wasm_bindgen(module = "/js/append.js")]
extern "C" {
    #[wasm_bindgen(js_name = appendResult)]
    fn append_result_object(next_expected_stream_version: u64, created_new_stream: bool) -> JsValue;
}

/// `{ nextExpectedStreamVersion, createdNewStream }`, built in one call.
pub fn append_result(r: &AppendResult) -> JsValue {
    append_result_object(r.next_expected_stream_version, r.created_new_stream)
}

/// A recorded event in core's one shape: `{ type, data, metadata: { ...caller,
/// eventId, streamName, streamPosition, recordedAt } }`.
pub fn recorded_event(e: &RecordedEvent, mode: Values) -> JsValue {
    document_to_js(&e.to_document(), mode)
}

/// `{ currentStreamVersion, streamExists, events }`.
pub fn read_result(r: &ReadResult, mode: Values) -> JsValue {
    let object = Object::new();
    set(&object, "currentStreamVersion", &JsValue::from(r.current_stream_version));
    set(&object, "streamExists", &JsValue::from_bool(r.stream_exists));
    let events: Array = r.events.iter().map(|e| recorded_event(e, mode)).collect();
    set(&object, "events", &events);
    object.into()
}

/// `{ state, streamPosition, successor?, predecessor?: { streamName, streamPosition } }`
/// of `streamStatus` (positions as `bigint`; absent links are absent keys, as in core's
/// serde form).
pub fn stream_status(s: &StreamStatus) -> JsValue {
    let object = Object::new();
    let state = match s.state {
        StreamState::Missing => "missing",
        StreamState::Live => "live",
        StreamState::Sealed => "sealed",
        StreamState::Archived => "archived",
    };
    set(&object, "state", &JsValue::from_str(state));
    set(&object, "streamPosition", &JsValue::from(s.stream_position));
    if let Some(successor) = &s.successor {
        set(&object, "successor", &JsValue::from_str(successor));
    }
    if let Some(link) = &s.predecessor {
        let predecessor = Object::new();
        set(&predecessor, "streamName", &JsValue::from_str(&link.stream_name));
        set(&predecessor, "streamPosition", &JsValue::from(link.stream_position));
        set(&object, "predecessor", &predecessor);
    }
    object.into()
}

/// `{ streamPosition, successor? }` of `archiveStream`.
pub fn archive_result(r: &ArchiveResult) -> JsValue {
    let object = Object::new();
    set(&object, "streamPosition", &JsValue::from(r.stream_position));
    if let Some(successor) = &r.successor {
        set(&object, "successor", &JsValue::from_str(successor));
    }
    object.into()
}

/// `{ closedAt, successor, nextExpectedStreamVersion }` of `closeStream`.
pub fn close_result(r: &CloseResult) -> JsValue {
    let object = Object::new();
    set(&object, "closedAt", &JsValue::from(r.closed_at));
    set(&object, "successor", &JsValue::from_str(&r.successor));
    set(&object, "nextExpectedStreamVersion", &JsValue::from(r.next_expected_stream_version));
    object.into()
}

/// Any operation's result, as the corresponding method returns it.
pub fn op_output(output: &OpOutput, mode: Values) -> JsValue {
    match output {
        OpOutput::Append(a) => append_result(a),
        OpOutput::Read(r) => read_result(r, mode),
        OpOutput::Exists { exists } => JsValue::from_bool(*exists),
        OpOutput::Status(s) => stream_status(s),
        OpOutput::Archive(a) => archive_result(a),
        OpOutput::CloseStream(c) => close_result(c),
        OpOutput::Rebuild(r) => rebuild_result(r),
        OpOutput::ReadModel { document } => document.as_ref().map_or(JsValue::NULL, |d| document_to_js(d, mode)),
    }
}

/// `{ streamExists, streamPosition }` of `rebuildReadModels`.
pub fn rebuild_result(r: &RebuildResult) -> JsValue {
    let object = Object::new();
    set(&object, "streamExists", &JsValue::from_bool(r.stream_exists));
    set(&object, "streamPosition", &JsValue::from(r.stream_position));
    object.into()
}

// ---------------------------------------------------------------- operations as data

/// An operation of a simulated client: `{ op: "append" | "read" | "exists" | "status" |
/// "archive" | "closeStream" | "rebuild" | "readModel", stream, ... }`.
pub fn op_spec(v: &JsValue) -> Result<OpSpec, JsValue> {
    let op = string_field(v, "op", "operation").map_err(type_error)?;
    let stream = string_field(v, "stream", "operation").map_err(type_error)?;
    let what = format!("operation {op:?}");
    Ok(match op.as_str() {
        "append" => {
            check_options(v, &["op", "stream", "events", "expected"], &what)?;
            let events = new_events(&get(v, "events"), &stream)?;
            OpSpec::Append { stream, events, expected: expected_version(&get(v, "expected"))? }
        }
        "read" => {
            check_options(v, &["op", "stream", "from", "to", "maxCount", "expected", "fromArchive"], &what)?;
            OpSpec::Read {
                stream,
                range: read_range(v, &what)?,
                expected: expected_version(&get(v, "expected"))?,
                from_archive: optional_bool(v, "fromArchive", &what)?,
            }
        }
        "exists" => {
            check_options(v, &["op", "stream"], &what)?;
            OpSpec::Exists { stream }
        }
        "status" => {
            check_options(v, &["op", "stream"], &what)?;
            OpSpec::Status { stream }
        }
        "archive" => {
            check_options(v, &["op", "stream", "expected"], &what)?;
            OpSpec::Archive { stream, expected: expected_version(&get(v, "expected"))? }
        }
        "closeStream" => {
            check_options(v, &["op", "stream", "successor", "summary", "expected"], &what)?;
            let successor = string_field(v, "successor", &what).map_err(type_error)?;
            let summary = summary_event(&get(v, "summary"), &successor, &format!("{what}: the summary"))?;
            OpSpec::CloseStream { stream, successor, summary, expected: expected_version(&get(v, "expected"))? }
        }
        "rebuild" => {
            check_options(v, &["op", "stream", "projection"], &what)?;
            OpSpec::Rebuild { stream, projection: crate::js::optional_string(v, "projection", "operation")? }
        }
        "readModel" => {
            check_options(v, &["op", "stream", "projection"], &what)?;
            OpSpec::ReadModel { stream, projection: string_field(v, "projection", &what).map_err(type_error)? }
        }
        other => {
            return Err(type_error(format!(
                "unknown operation {other:?}: expected append, read, exists, status, archive, closeStream, rebuild \
                 or readModel"
            )))
        }
    })
}

/// An event to append as JavaScript: `{ id?, type, data, metadata }`.
fn new_event_to_js(e: &NewEvent, mode: Values) -> JsValue {
    let event = Object::new();
    if let Some(id) = &e.id {
        set(&event, "id", &JsValue::from_str(id));
    }
    set(&event, "type", &JsValue::from_str(&e.event_type));
    set(&event, "data", &document_to_js(&e.data, mode));
    set(&event, "metadata", &document_to_js(&e.metadata, mode));
    event.into()
}

/// An optional boolean property (absent: `false`).
fn optional_bool(v: &JsValue, key: &str, what: &str) -> Result<bool, JsValue> {
    let value = get(v, key);
    if is_absent(&value) {
        return Ok(false);
    }
    value.as_bool().ok_or_else(|| type_error(format!("{what}: `{key}` must be a boolean")))
}

/// An operation as JavaScript (the inverse of [`op_spec`]).
pub fn op_spec_to_js(spec: &OpSpec, mode: Values) -> JsValue {
    let object = Object::new();
    match spec {
        OpSpec::Append { stream, events, expected } => {
            set(&object, "op", &JsValue::from_str("append"));
            set(&object, "stream", &JsValue::from_str(stream));
            let array: Array = events.iter().map(|e| new_event_to_js(e, mode)).collect();
            set(&object, "events", &array);
            set(&object, "expected", &expected_to_js(*expected));
        }
        OpSpec::Read { stream, range, expected, from_archive } => {
            set(&object, "op", &JsValue::from_str("read"));
            set(&object, "stream", &JsValue::from_str(stream));
            if *expected != ExpectedVersion::Any {
                set(&object, "expected", &expected_to_js(*expected));
            }
            for (key, value) in [("from", range.from), ("to", range.to), ("maxCount", range.max_count)] {
                if let Some(n) = value {
                    set(&object, key, &JsValue::from(n));
                }
            }
            if *from_archive {
                set(&object, "fromArchive", &JsValue::TRUE);
            }
        }
        OpSpec::Exists { stream } => {
            set(&object, "op", &JsValue::from_str("exists"));
            set(&object, "stream", &JsValue::from_str(stream));
        }
        OpSpec::Status { stream } => {
            set(&object, "op", &JsValue::from_str("status"));
            set(&object, "stream", &JsValue::from_str(stream));
        }
        OpSpec::Archive { stream, expected } => {
            set(&object, "op", &JsValue::from_str("archive"));
            set(&object, "stream", &JsValue::from_str(stream));
            set(&object, "expected", &expected_to_js(*expected));
        }
        OpSpec::CloseStream { stream, successor, summary, expected } => {
            set(&object, "op", &JsValue::from_str("closeStream"));
            set(&object, "stream", &JsValue::from_str(stream));
            set(&object, "successor", &JsValue::from_str(successor));
            set(&object, "summary", &new_event_to_js(summary, mode));
            set(&object, "expected", &expected_to_js(*expected));
        }
        OpSpec::Rebuild { stream, projection } => {
            set(&object, "op", &JsValue::from_str("rebuild"));
            set(&object, "stream", &JsValue::from_str(stream));
            if let Some(name) = projection {
                set(&object, "projection", &JsValue::from_str(name));
            }
        }
        OpSpec::ReadModel { stream, projection } => {
            set(&object, "op", &JsValue::from_str("readModel"));
            set(&object, "stream", &JsValue::from_str(stream));
            set(&object, "projection", &JsValue::from_str(projection));
        }
    }
    object.into()
}
