//! Every conversion between JavaScript values and core's types.
//!
//! BSON values cross the boundary as plain JavaScript:
//!
//! - **In** (event data and metadata, documents in executor replies): `number` is an
//!   Int32 when it is an integer in Int32 range (not `-0`), a Double otherwise (as the
//!   Node.js driver does); `bigint` is an Int64; `Date` a UTC datetime; `Uint8Array`
//!   generic binary; `string`, `boolean`, `null`, arrays and plain objects as
//!   themselves; `undefined` properties are left out. An object with an Extended JSON
//!   type key (`{ $numberLong: "5" }`, `{ $date: ... }`, `{ $oid: ... }`, ...) is read as
//!   Extended JSON (canonical or relaxed) by the `bson` crate, so every BSON type can
//!   be written and canonical Extended JSON round-trips exactly.
//! - **Out**: with `values: "native"` (the default) Int32 and Double become `number`,
//!   Int64 `bigint`, datetimes `Date`, generic binary `Uint8Array`, and other types
//!   their canonical Extended JSON object; with `values: "canonical"` every value is
//!   canonical Extended JSON (`{ $numberInt: "42" }`), lossless. Stored documents and
//!   commands are always canonical Extended JSON.

use bson::{Bson, Document};
use js_sys::{Array, Object, Reflect};
use serde::{Deserialize, Serialize};
use streamdoc_core::ops::ReadRange;
use streamdoc_core::{
    AppendResult, Command, Engine, ExpectedVersion, Namespace, NewEvent, OpOutput, OpSpec, ReadResult, RecordedEvent,
    Reply,
};
use wasm_bindgen::{JsCast, JsValue};

use crate::error::type_error;

/// How BSON values are given back to JavaScript.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Values {
    /// `number`, `bigint`, `Date`, `Uint8Array`; canonical Extended JSON for the rest.
    #[default]
    Native,
    /// Canonical Extended JSON for every value (lossless).
    Canonical,
}

/// Extended JSON keys that make an object a typed value rather than a document (the
/// append fast path, js/append.js, has the same list).
pub const EXTENDED_JSON_KEYS: [&str; 17] = [
    "$oid",
    "$symbol",
    "$numberInt",
    "$numberLong",
    "$numberDouble",
    "$numberDecimal",
    "$binary",
    "$uuid",
    "$code",
    "$timestamp",
    "$regularExpression",
    "$regex",
    "$dbPointer",
    "$date",
    "$minKey",
    "$maxKey",
    "$undefined",
];

// ---------------------------------------------------------------- JSON and properties

/// A JSON value as a plain JavaScript value (objects, not `Map`s).
pub fn json_to_js(value: &serde_json::Value) -> JsValue {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

/// A property of `target` (`undefined` when `target` is not an object).
pub fn get(target: &JsValue, key: &str) -> JsValue {
    if !target.is_object() && !target.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Sets a property (on an object we created, so it cannot fail).
pub fn set(target: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

fn is_absent(v: &JsValue) -> bool {
    v.is_undefined() || v.is_null()
}

/// A required string property.
pub fn string_field(target: &JsValue, key: &str, what: &str) -> Result<String, String> {
    get(target, key).as_string().ok_or_else(|| format!("{what}: `{key}` must be a string"))
}

/// A non-negative integer given as `bigint` or `number`.
pub fn to_u64(v: &JsValue, what: &str) -> Result<u64, JsValue> {
    if v.is_bigint() {
        return u64::try_from(v.clone())
            .map_err(|_| type_error(format!("{what} must be a non-negative 64-bit integer")));
    }
    v.as_f64()
        .and_then(number_to_u64)
        .ok_or_else(|| type_error(format!("{what} must be a non-negative integer (bigint or number)")))
}

/// A `number` that is a safe non-negative integer.
fn number_to_u64(n: f64) -> Option<u64> {
    (n >= 0.0 && n.fract() == 0.0 && n <= 9_007_199_254_740_991.0).then_some(n as u64)
}

fn optional_u64(options: &JsValue, key: &str) -> Result<Option<u64>, JsValue> {
    let v = get(options, key);
    if is_absent(&v) {
        Ok(None)
    } else {
        to_u64(&v, key).map(Some)
    }
}

// ---------------------------------------------------------------- JS -> BSON

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    type TextEncoder;
    #[wasm_bindgen(constructor)]
    fn new() -> TextEncoder;
    #[wasm_bindgen(method)]
    fn encode(this: &TextEncoder, s: &js_sys::JsString) -> js_sys::Uint8Array;
}

/// Strings longer than this (UTF-16 units) are encoded by the platform's `TextEncoder`
/// in one native call rather than by the glue's character loop (16 MiB events).
const LONG_STRING: u32 = 64 * 1024;

/// A JavaScript string as a Rust one.
fn to_string(s: &js_sys::JsString) -> Option<String> {
    if s.length() > LONG_STRING {
        String::from_utf8(TextEncoder::new().encode(s).to_vec()).ok()
    } else {
        s.as_string()
    }
}

/// A `number` as BSON: Int32 when it is an integer in range (not `-0`), else Double.
fn number_to_bson(n: f64) -> Bson {
    let int32 =
        n.fract() == 0.0 && n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX) && !(n == 0.0 && n.is_sign_negative());
    if int32 {
        Bson::Int32(n as i32)
    } else {
        Bson::Double(n)
    }
}

/// A JavaScript value as BSON (see the module documentation).
pub fn to_bson(v: &JsValue) -> Result<Bson, String> {
    if let Some(s) = v.dyn_ref::<js_sys::JsString>() {
        return to_string(s).map(Bson::String).ok_or_else(|| "an unreadable string".to_owned());
    }
    if let Some(n) = v.as_f64() {
        return Ok(number_to_bson(n));
    }
    if let Some(b) = v.as_bool() {
        return Ok(Bson::Boolean(b));
    }
    if v.is_null() || v.is_undefined() {
        return Ok(Bson::Null);
    }
    if v.is_bigint() {
        return i64::try_from(v.clone()).map(Bson::Int64).map_err(|_| "a bigint outside the Int64 range".to_owned());
    }
    if Array::is_array(v) {
        let array: &Array = v.unchecked_ref();
        return array.iter().map(|item| to_bson(&item)).collect::<Result<Vec<_>, _>>().map(Bson::Array);
    }
    if let Some(date) = v.dyn_ref::<js_sys::Date>() {
        let ms = date.get_time();
        if !ms.is_finite() {
            return Err("an invalid Date".into());
        }
        return Ok(Bson::DateTime(bson::DateTime::from_millis(ms as i64)));
    }
    if let Some(bytes) = v.dyn_ref::<js_sys::Uint8Array>() {
        return Ok(Bson::Binary(bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes: bytes.to_vec() }));
    }
    if v.is_object() {
        let object: &Object = v.unchecked_ref();
        let keys = Object::keys(object);
        let extended = keys.iter().any(|k| k.as_string().is_some_and(|k| EXTENDED_JSON_KEYS.contains(&k.as_str())));
        if extended {
            let json: serde_json::Value =
                serde_wasm_bindgen::from_value(v.clone()).map_err(|e| format!("invalid Extended JSON: {e}"))?;
            return Bson::try_from(json).map_err(|e| format!("invalid Extended JSON: {e}"));
        }
        return document_from_keys(object, &keys).map(Bson::Document);
    }
    Err(format!("a value of type {} cannot be stored", v.js_typeof().as_string().unwrap_or_default()))
}

fn document_from_keys(object: &Object, keys: &Array) -> Result<Document, String> {
    let mut doc = Document::new();
    for key in keys.iter() {
        let value = Reflect::get(object, &key).map_err(|_| "an unreadable property".to_owned())?;
        if value.is_undefined() {
            continue;
        }
        let name = key.as_string().unwrap_or_default();
        let bson = to_bson(&value).map_err(|e| format!("{name}: {e}"))?;
        doc.insert(name, bson);
    }
    Ok(doc)
}

/// A JavaScript object as a BSON document.
pub fn to_document(v: &JsValue, what: &str) -> Result<Document, String> {
    match to_bson(v) {
        Ok(Bson::Document(d)) => Ok(d),
        Ok(_) => Err(format!("{what} must be an object")),
        Err(e) => Err(format!("{what}: {e}")),
    }
}

fn optional_document(v: &JsValue, what: &str) -> Result<Document, String> {
    if is_absent(v) {
        Ok(Document::new())
    } else {
        to_document(v, what)
    }
}

// ---------------------------------------------------------------- BSON -> JS

/// A BSON value as JavaScript, in `mode`.
pub fn bson_to_js(value: &Bson, mode: Values) -> JsValue {
    if mode == Values::Canonical {
        return canonical_value(value);
    }
    match value {
        Bson::Double(d) => JsValue::from_f64(*d),
        Bson::Int32(i) => JsValue::from(*i),
        Bson::Int64(i) => JsValue::from(*i),
        Bson::String(s) => JsValue::from_str(s),
        Bson::Boolean(b) => JsValue::from_bool(*b),
        Bson::Null => JsValue::NULL,
        Bson::Undefined => JsValue::UNDEFINED,
        Bson::Array(items) => items.iter().map(|i| bson_to_js(i, mode)).collect::<Array>().into(),
        Bson::Document(d) => document_to_js(d, mode),
        Bson::DateTime(dt) => js_sys::Date::new(&JsValue::from_f64(dt.timestamp_millis() as f64)).into(),
        Bson::Binary(b) if b.subtype == bson::spec::BinarySubtype::Generic => {
            js_sys::Uint8Array::from(&b.bytes[..]).into()
        }
        other => json_to_js(&other.clone().into_canonical_extjson()),
    }
}

/// Canonical Extended JSON, built directly for the common types (strings are copied
/// once, however long); the `bson` crate spells the others.
fn canonical_value(value: &Bson) -> JsValue {
    let wrapped = |key: &str, inner: JsValue| {
        let object = Object::new();
        set(&object, key, &inner);
        JsValue::from(object)
    };
    match value {
        Bson::String(s) => JsValue::from_str(s),
        Bson::Document(d) => document_to_js(d, Values::Canonical),
        Bson::Array(items) => items.iter().map(canonical_value).collect::<Array>().into(),
        Bson::Int32(i) => wrapped("$numberInt", JsValue::from_str(&i.to_string())),
        Bson::Int64(i) => wrapped("$numberLong", JsValue::from_str(&i.to_string())),
        Bson::Boolean(b) => JsValue::from_bool(*b),
        Bson::Null => JsValue::NULL,
        Bson::DateTime(dt) => {
            wrapped("$date", wrapped("$numberLong", JsValue::from_str(&dt.timestamp_millis().to_string())))
        }
        other => json_to_js(&other.clone().into_canonical_extjson()),
    }
}

/// A document as a JavaScript object, in `mode`.
pub fn document_to_js(doc: &Document, mode: Values) -> JsValue {
    let object = Object::new();
    for (k, v) in doc {
        set(&object, k, &bson_to_js(v, mode));
    }
    object.into()
}

/// Every stored document of `engine`: `{ "database.collection": [documents] }`, in
/// canonical Extended JSON, collections with no documents left out.
pub fn stored_documents(engine: &Engine) -> JsValue {
    let object = Object::new();
    for ns in engine.namespaces() {
        let docs = engine.documents(&ns);
        if docs.is_empty() {
            continue;
        }
        let array: Array = docs.iter().map(|d| document_to_js(d, Values::Canonical)).collect();
        set(&object, &ns.to_string(), &array);
    }
    object.into()
}

// ---------------------------------------------------------------- events, versions, ranges

/// The events of an append: `[{ type, data?, metadata?, id? }]`.
pub fn new_events(v: &JsValue) -> Result<Vec<NewEvent>, JsValue> {
    if !Array::is_array(v) {
        return Err(type_error("events must be an array"));
    }
    let array: &Array = v.unchecked_ref();
    array
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let what = format!("event {i}");
            let event_type = string_field(&e, "type", &what).map_err(type_error)?;
            let data = optional_document(&get(&e, "data"), &format!("{what} data")).map_err(type_error)?;
            let metadata = optional_document(&get(&e, "metadata"), &format!("{what} metadata")).map_err(type_error)?;
            let id = get(&e, "id");
            let id = if is_absent(&id) {
                None
            } else {
                Some(id.as_string().ok_or_else(|| type_error(format!("{what}: `id` must be a string")))?)
            };
            Ok(NewEvent { id, event_type, data, metadata })
        })
        .collect()
}

/// A stream name argument.
pub fn stream_name(v: &JsValue) -> Result<String, JsValue> {
    v.as_string().ok_or_else(|| type_error("streamName must be a string"))
}

/// The arguments of `appendToStream`: stream name, events, expected version.
pub type AppendArguments = (String, Vec<NewEvent>, ExpectedVersion);

/// The arguments of `appendToStream`: the stream name, the events, the expected version
/// (`options.expectedStreamVersion`). Read in one call through [`encoded_append`] when it
/// can, else property by property ([`append_arguments_by_property`]); both give the same
/// values, and only the second reports errors.
pub fn append_arguments(stream: &JsValue, events: &JsValue, options: &JsValue) -> Result<AppendArguments, JsValue> {
    match encoded_append(stream, events, options) {
        Some(fast) => Ok(fast),
        None => append_arguments_by_property(stream, events, options),
    }
}

/// The slow path of [`append_arguments`], which reports every error.
pub fn append_arguments_by_property(
    stream: &JsValue,
    events: &JsValue,
    options: &JsValue,
) -> Result<AppendArguments, JsValue> {
    let stream = stream_name(stream)?;
    let events = new_events(events)?;
    let expected = expected_version(&get(options, "expectedStreamVersion"))?;
    Ok((stream, events, expected))
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/js/append.js")]
extern "C" {
    #[wasm_bindgen(js_name = encodeAppend)]
    fn encode_append(stream: &JsValue, events: &JsValue, options: &JsValue) -> Option<Vec<u8>>;
    #[wasm_bindgen(js_name = appendResult)]
    fn append_result_object(next_expected_stream_version: u64, created_new_stream: bool) -> JsValue;
}

/// The fast path of [`append_arguments`]: `encodeAppend` (js/append.js) walks the
/// arguments in JavaScript and hands them over as bytes, or gives up (`None`) on anything
/// the slow path would refuse or read as Extended JSON.
pub fn encoded_append(stream: &JsValue, events: &JsValue, options: &JsValue) -> Option<AppendArguments> {
    let bytes = encode_append(stream, events, options)?;
    AppendReader { bytes: &bytes, at: 0 }.arguments()
}

/// Reads what `encodeAppend` wrote (little-endian; strings as a u32 length and UTF-8).
/// `None` on anything unexpected, so that the slow path decides.
struct AppendReader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> AppendReader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let bytes = self.bytes.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(bytes)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u8(&mut self) -> Option<u8> {
        self.array::<1>().map(|[b]| b)
    }

    fn u32(&mut self) -> Option<usize> {
        usize::try_from(u32::from_le_bytes(self.array()?)).ok()
    }

    fn f64(&mut self) -> Option<f64> {
        self.array().map(f64::from_le_bytes)
    }

    /// A count of items that take at least one byte each (bounds the allocation).
    fn count(&mut self) -> Option<usize> {
        let n = self.u32()?;
        (n <= self.bytes.len() - self.at).then_some(n)
    }

    fn string(&mut self) -> Option<String> {
        let n = self.u32()?;
        std::str::from_utf8(self.take(n)?).ok().map(str::to_owned)
    }

    fn arguments(mut self) -> Option<AppendArguments> {
        let stream = self.string()?;
        let n = self.count()?;
        let mut events = Vec::with_capacity(n);
        for _ in 0..n {
            let event_type = self.string()?;
            let data = self.optional_document()?;
            let metadata = self.optional_document()?;
            let id = match self.u8()? {
                0 => None,
                STRING => Some(self.string()?),
                _ => return None,
            };
            events.push(NewEvent { id, event_type, data, metadata });
        }
        let expected = match self.u8()? {
            0 | 1 => ExpectedVersion::Any,
            2 => ExpectedVersion::NoStream,
            3 => ExpectedVersion::StreamExists,
            4 => ExpectedVersion::Exact(u64::from_le_bytes(self.array()?)),
            5 => ExpectedVersion::Exact(number_to_u64(self.f64()?)?),
            _ => return None,
        };
        (self.at == self.bytes.len()).then_some((stream, events, expected))
    }

    fn optional_document(&mut self) -> Option<Document> {
        match self.u8()? {
            0 => Some(Document::new()),
            DOCUMENT => self.document(),
            _ => None,
        }
    }

    fn document(&mut self) -> Option<Document> {
        let n = self.count()?;
        let mut doc = Document::new();
        for _ in 0..n {
            let key = self.string()?;
            let value = self.value()?;
            doc.insert(key, value);
        }
        Some(doc)
    }

    fn value(&mut self) -> Option<Bson> {
        Some(match self.u8()? {
            NULL => Bson::Null,
            FALSE => Bson::Boolean(false),
            TRUE => Bson::Boolean(true),
            NUMBER => number_to_bson(self.f64()?),
            STRING => Bson::String(self.string()?),
            ARRAY => {
                let n = self.count()?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.value()?);
                }
                Bson::Array(items)
            }
            DOCUMENT => Bson::Document(self.document()?),
            INT64 => Bson::Int64(i64::from_le_bytes(self.array()?)),
            DATE => {
                let ms = self.f64()?;
                if !ms.is_finite() {
                    return None;
                }
                Bson::DateTime(bson::DateTime::from_millis(ms as i64))
            }
            BINARY => {
                let n = self.u32()?;
                let bytes = self.take(n)?.to_vec();
                Bson::Binary(bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes })
            }
            _ => return None,
        })
    }
}

// The value tags of `encodeAppend`.
const NULL: u8 = 1;
const FALSE: u8 = 2;
const TRUE: u8 = 3;
const NUMBER: u8 = 4;
const STRING: u8 = 5;
const ARRAY: u8 = 6;
const DOCUMENT: u8 = 7;
const INT64: u8 = 8;
const DATE: u8 = 9;
const BINARY: u8 = 10;

/// A recorded event: `{ id, type, data, metadata, streamName, streamPosition, recordedAt }`.
pub fn recorded_event(e: &RecordedEvent, mode: Values) -> JsValue {
    let object = Object::new();
    set(&object, "id", &JsValue::from_str(&e.id));
    set(&object, "type", &JsValue::from_str(&e.event_type));
    set(&object, "data", &document_to_js(&e.data, mode));
    set(&object, "metadata", &document_to_js(&e.metadata, mode));
    set(&object, "streamName", &JsValue::from_str(&e.stream_name));
    set(&object, "streamPosition", &JsValue::from(e.stream_position));
    let recorded_at = match e.recorded_at {
        Some(dt) => js_sys::Date::new(&JsValue::from_f64(dt.timestamp_millis() as f64)).into(),
        None => JsValue::NULL,
    };
    set(&object, "recordedAt", &recorded_at);
    object.into()
}

/// `expectedStreamVersion`: a `bigint` (or integer `number`) position, or one of the
/// constants; absent means `NO_CONCURRENCY_CHECK`.
pub fn expected_version(v: &JsValue) -> Result<ExpectedVersion, JsValue> {
    if is_absent(v) {
        return Ok(ExpectedVersion::Any);
    }
    if let Some(s) = v.as_string() {
        return match s.as_str() {
            "NO_CONCURRENCY_CHECK" => Ok(ExpectedVersion::Any),
            "STREAM_DOES_NOT_EXIST" => Ok(ExpectedVersion::NoStream),
            "STREAM_EXISTS" => Ok(ExpectedVersion::StreamExists),
            other => Err(type_error(format!(
                "expectedStreamVersion must be a bigint, STREAM_DOES_NOT_EXIST, STREAM_EXISTS or NO_CONCURRENCY_CHECK, not {other:?}"
            ))),
        };
    }
    to_u64(v, "expectedStreamVersion").map(ExpectedVersion::Exact)
}

/// An expected version as JavaScript (the inverse of [`expected_version`]).
pub fn expected_to_js(e: ExpectedVersion) -> JsValue {
    match e {
        ExpectedVersion::Any => JsValue::from_str("NO_CONCURRENCY_CHECK"),
        ExpectedVersion::NoStream => JsValue::from_str("STREAM_DOES_NOT_EXIST"),
        ExpectedVersion::StreamExists => JsValue::from_str("STREAM_EXISTS"),
        ExpectedVersion::Exact(n) => JsValue::from(n),
    }
}

/// `{ from?, to?, maxCount? }`.
pub fn read_range(options: &JsValue) -> Result<ReadRange, JsValue> {
    Ok(ReadRange {
        from: optional_u64(options, "from")?,
        to: optional_u64(options, "to")?,
        max_count: optional_u64(options, "maxCount")?,
    })
}

// ---------------------------------------------------------------- results

/// `{ nextExpectedStreamVersion, createdNewStream }`.
pub fn append_result(r: &AppendResult) -> JsValue {
    append_result_object(r.next_expected_stream_version, r.created_new_stream)
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

/// Any operation's result, as the corresponding method returns it.
pub fn op_output(output: &OpOutput, mode: Values) -> JsValue {
    match output {
        OpOutput::Append(a) => append_result(a),
        OpOutput::Read(r) => read_result(r, mode),
        OpOutput::Exists { exists } => JsValue::from_bool(*exists),
    }
}

// ---------------------------------------------------------------- commands and replies

fn canonical(doc: &Document) -> JsValue {
    document_to_js(doc, Values::Canonical)
}

/// A command as the JavaScript executor receives it (documents in canonical Extended
/// JSON).
pub fn command_to_js(command: &Command) -> JsValue {
    let object = Object::new();
    set(&object, "kind", &JsValue::from_str(command.kind()));
    let ns = command.namespace();
    set(&object, "database", &JsValue::from_str(&ns.db));
    set(&object, "collection", &JsValue::from_str(&ns.collection));
    match command {
        Command::CreateIndex { keys, name, unique, .. } => {
            set(&object, "keys", &canonical(keys));
            set(&object, "name", &JsValue::from_str(name));
            set(&object, "unique", &JsValue::from_bool(*unique));
        }
        Command::FindOne { filter, projection, .. } => {
            set(&object, "filter", &canonical(filter));
            set(&object, "projection", &projection.as_ref().map_or(JsValue::NULL, canonical));
        }
        Command::UpdateOne { filter, update, upsert, .. } => {
            set(&object, "filter", &canonical(filter));
            set(&object, "update", &canonical(update));
            set(&object, "upsert", &JsValue::from_bool(*upsert));
        }
        Command::InsertOne { document, .. } => set(&object, "document", &canonical(document)),
        Command::DeleteOne { filter, .. } => set(&object, "filter", &canonical(filter)),
    }
    object.into()
}

/// A command given as JavaScript (the shape [`command_to_js`] produces).
pub fn command_from_js(v: &JsValue) -> Result<Command, String> {
    let kind = string_field(v, "kind", "command")?;
    let ns = Namespace::new(string_field(v, "database", "command")?, string_field(v, "collection", "command")?);
    let doc = |key: &str| to_document(&get(v, key), &format!("command `{key}`"));
    let flag = |key: &str| get(v, key).as_bool().unwrap_or(false);
    Ok(match kind.as_str() {
        "createIndex" => Command::CreateIndex {
            ns,
            keys: doc("keys")?,
            name: string_field(v, "name", "command")?,
            unique: flag("unique"),
        },
        "findOne" => {
            let projection = get(v, "projection");
            let projection = if is_absent(&projection) { None } else { Some(doc("projection")?) };
            Command::FindOne { ns, filter: doc("filter")?, projection }
        }
        "updateOne" => {
            Command::UpdateOne { ns, filter: doc("filter")?, update: doc("update")?, upsert: flag("upsert") }
        }
        "insertOne" => Command::InsertOne { ns, document: doc("document")? },
        "deleteOne" => Command::DeleteOne { ns, filter: doc("filter")? },
        other => return Err(format!("unknown command kind {other:?}")),
    })
}

fn count(v: &JsValue, key: &str) -> Result<u64, String> {
    to_u64(&get(v, key), key).map_err(|_| format!("reply `{key}` must be a non-negative integer"))
}

/// A reply as JavaScript: `{ kind: "acknowledged" | "found" | "updated" | ... }`.
pub fn reply_to_js(reply: &Reply) -> JsValue {
    let object = Object::new();
    let kind = |k: &str| set(&object, "kind", &JsValue::from_str(k));
    match reply {
        Reply::Acknowledged => kind("acknowledged"),
        Reply::Found(doc) => {
            kind("found");
            set(&object, "document", &doc.as_ref().map_or(JsValue::NULL, canonical));
        }
        Reply::Updated { matched, modified, upserted_id } => {
            kind("updated");
            set(&object, "matchedCount", &JsValue::from_f64(*matched as f64));
            set(&object, "modifiedCount", &JsValue::from_f64(*modified as f64));
            let id = upserted_id.as_ref().map_or(JsValue::NULL, |id| bson_to_js(id, Values::Canonical));
            set(&object, "upsertedId", &id);
        }
        Reply::Inserted { id } => {
            kind("inserted");
            set(&object, "insertedId", &bson_to_js(id, Values::Canonical));
        }
        Reply::Deleted { count } => {
            kind("deleted");
            set(&object, "deletedCount", &JsValue::from_f64(*count as f64));
        }
        Reply::DuplicateKey { message } => {
            kind("duplicateKey");
            set(&object, "message", &JsValue::from_str(message));
        }
        Reply::ServerError { code, message } => {
            kind("serverError");
            set(&object, "code", &JsValue::from(*code));
            set(&object, "message", &JsValue::from_str(message));
        }
    }
    object.into()
}

/// A reply given by a JavaScript executor (the shape [`reply_to_js`] produces;
/// documents in any form [`to_bson`] reads).
pub fn reply_from_js(v: &JsValue) -> Result<Reply, String> {
    let kind = string_field(v, "kind", "reply")?;
    let message = || get(v, "message").as_string().unwrap_or_default();
    Ok(match kind.as_str() {
        "acknowledged" => Reply::Acknowledged,
        "found" => {
            let doc = get(v, "document");
            Reply::Found(if is_absent(&doc) { None } else { Some(to_document(&doc, "reply `document`")?) })
        }
        "updated" => {
            let id = get(v, "upsertedId");
            let upserted_id =
                if is_absent(&id) { None } else { Some(to_bson(&id).map_err(|e| format!("reply `upsertedId`: {e}"))?) };
            Reply::Updated { matched: count(v, "matchedCount")?, modified: count(v, "modifiedCount")?, upserted_id }
        }
        "inserted" => {
            Reply::Inserted { id: to_bson(&get(v, "insertedId")).map_err(|e| format!("reply `insertedId`: {e}"))? }
        }
        "deleted" => Reply::Deleted { count: count(v, "deletedCount")? },
        "duplicateKey" => Reply::DuplicateKey { message: message() },
        "serverError" => {
            let code = get(v, "code").as_f64().filter(|c| c.fract() == 0.0).ok_or("reply `code` must be an integer")?;
            Reply::ServerError { code: code as i32, message: message() }
        }
        other => return Err(format!("unknown reply kind {other:?}")),
    })
}

// ---------------------------------------------------------------- operations as data

/// An operation of a simulated client: `{ op: "append" | "read" | "exists", stream, ... }`.
pub fn op_spec(v: &JsValue) -> Result<OpSpec, JsValue> {
    let op = string_field(v, "op", "operation").map_err(type_error)?;
    let stream = string_field(v, "stream", "operation").map_err(type_error)?;
    Ok(match op.as_str() {
        "append" => OpSpec::Append {
            stream,
            events: new_events(&get(v, "events"))?,
            expected: expected_version(&get(v, "expected"))?,
        },
        "read" => OpSpec::Read { stream, range: read_range(v)? },
        "exists" => OpSpec::Exists { stream },
        other => return Err(type_error(format!("unknown operation {other:?}: expected append, read or exists"))),
    })
}

/// An operation as JavaScript (the inverse of [`op_spec`]).
pub fn op_spec_to_js(spec: &OpSpec, mode: Values) -> JsValue {
    let object = Object::new();
    match spec {
        OpSpec::Append { stream, events, expected } => {
            set(&object, "op", &JsValue::from_str("append"));
            set(&object, "stream", &JsValue::from_str(stream));
            let array: Array = events
                .iter()
                .map(|e| {
                    let event = Object::new();
                    if let Some(id) = &e.id {
                        set(&event, "id", &JsValue::from_str(id));
                    }
                    set(&event, "type", &JsValue::from_str(&e.event_type));
                    set(&event, "data", &document_to_js(&e.data, mode));
                    set(&event, "metadata", &document_to_js(&e.metadata, mode));
                    JsValue::from(event)
                })
                .collect();
            set(&object, "events", &array);
            set(&object, "expected", &expected_to_js(*expected));
        }
        OpSpec::Read { stream, range } => {
            set(&object, "op", &JsValue::from_str("read"));
            set(&object, "stream", &JsValue::from_str(stream));
            for (key, value) in [("from", range.from), ("to", range.to), ("maxCount", range.max_count)] {
                if let Some(n) = value {
                    set(&object, key, &JsValue::from(n));
                }
            }
        }
        OpSpec::Exists { stream } => {
            set(&object, "op", &JsValue::from_str("exists"));
            set(&object, "stream", &JsValue::from_str(stream));
        }
    }
    object.into()
}
