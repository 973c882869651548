//! BSON values as JavaScript values, and back.
//!
//! - **In** (event data and metadata, documents in executor replies and engine
//!   commands): `number` follows core's one rule ([`streamdoc_core::json::number`]:
//!   an integer in Int32 range is an Int32, another integer in Int64 range an Int64,
//!   anything else a Double); `bigint` is an Int64; `Date` a UTC datetime; `Uint8Array`
//!   generic binary; `string`, `boolean`, `null`, arrays and plain objects as
//!   themselves; `undefined` properties are left out (`undefined` in an array is
//!   `null`). An object with an Extended JSON type key (`{ $numberLong: "5" }`,
//!   `{ $date: ... }`, ...) is read as Extended JSON, so every BSON type can be written
//!   and canonical Extended JSON round-trips exactly.
//! - **Refused**, with a message saying why: values nested deeper than the limit the
//!   caller gives (event data: [`MAX_VALUE_DEPTH`]), cyclic values, functions, symbols,
//!   and objects that are not plain: `Map`, `Set`, `RegExp`, `Promise`, typed arrays
//!   other than `Uint8Array`, boxed primitives, ... The conversion never recurses past
//!   the limit, so no input can overflow the module's stack.
//! - **Out**: with `values: "native"` (the default) Int32 and Double become `number`,
//!   Int64 `bigint`, datetimes `Date`, generic binary `Uint8Array`, and other types
//!   their canonical Extended JSON object; with `values: "canonical"` every value is
//!   canonical Extended JSON (`{ $numberInt: "42" }`), lossless.
//!
//! [`MAX_VALUE_DEPTH`]: streamdoc_core::limits::MAX_VALUE_DEPTH

use bson::{Bson, Document};
use js_sys::{Array, Object, Reflect};
use serde::{Deserialize, Serialize};
use streamdoc_core::Engine;
use wasm_bindgen::{JsCast, JsValue};

use crate::js::{json_to_js, set};

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

impl Values {
    /// `"native"` or `"canonical"` (absent: native).
    pub fn from_js(v: &JsValue, what: &str) -> Result<Values, JsValue> {
        match v.as_string().as_deref() {
            _ if crate::js::is_absent(v) => Ok(Values::Native),
            Some("native") => Ok(Values::Native),
            Some("canonical") => Ok(Values::Canonical),
            _ => Err(crate::js::type_error(format!("{what} must be \"native\" or \"canonical\""))),
        }
    }
}

/// How deep an Extended JSON value may nest within itself.
const MAX_EXTENDED_JSON_DEPTH: usize = 4;

/// Extended JSON keys that make an object a typed value rather than a document.
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

/// Why a JavaScript value cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValueError {
    /// It nests deeper than the limit (a cyclic value is refused as [`ValueError::Invalid`]).
    TooDeep { limit: usize, message: String },
    /// It is not a storable value (a function, a `Map`, a cycle, invalid Extended JSON, ...).
    Invalid(String),
}

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ValueError::TooDeep { message, .. } | ValueError::Invalid(message) => f.write_str(message),
        }
    }
}

impl From<ValueError> for String {
    fn from(e: ValueError) -> String {
        e.to_string()
    }
}

impl ValueError {
    fn prefixed(self, what: &str) -> ValueError {
        match self {
            ValueError::TooDeep { limit, message } => {
                ValueError::TooDeep { limit, message: format!("{what}: {message}") }
            }
            ValueError::Invalid(message) => ValueError::Invalid(format!("{what}: {message}")),
        }
    }
}

/// A JavaScript value as BSON, its elements nesting at most `max_depth` levels below it
/// (see the module documentation).
pub fn to_bson(v: &JsValue, max_depth: usize) -> Result<Bson, ValueError> {
    Reader::new(max_depth).value(v, 0)
}

/// A JavaScript object as a BSON document whose fields nest at most `max_depth` levels
/// (its own fields are level 1).
pub fn to_document(v: &JsValue, what: &str, max_depth: usize) -> Result<Document, ValueError> {
    match Reader::new(max_depth).value(v, 0) {
        Ok(Bson::Document(d)) => Ok(d),
        Ok(_) => Err(ValueError::Invalid(format!("{what} must be an object"))),
        Err(e) => Err(e.prefixed(what)),
    }
}

/// Walks a value, keeping the path to it (for messages) and the objects holding it
/// (for cycles).
struct Reader {
    max_depth: usize,
    ancestors: Vec<JsValue>,
    path: Vec<String>,
}

impl Reader {
    fn new(max_depth: usize) -> Self {
        Self { max_depth, ancestors: Vec::new(), path: Vec::new() }
    }

    /// Where the walk is, for messages: `at a.b.c` (the first and last parts of a long path).
    fn at(&self) -> String {
        if self.path.is_empty() {
            return String::new();
        }
        let parts = if self.path.len() <= 8 {
            self.path.join(".")
        } else {
            format!("{}.….{}", self.path[..3].join("."), self.path[self.path.len() - 3..].join("."))
        };
        format!(" at {parts}")
    }

    fn fail(&self, what: impl std::fmt::Display) -> ValueError {
        ValueError::Invalid(format!("{what}{}", self.at()))
    }

    /// `v`, held by an element at nesting `level` (0: the value itself).
    fn value(&mut self, v: &JsValue, level: usize) -> Result<Bson, ValueError> {
        if let Some(s) = v.dyn_ref::<js_sys::JsString>() {
            return to_string(s).map(Bson::String).ok_or_else(|| self.fail("an unreadable string"));
        }
        if let Some(n) = v.as_f64() {
            return Ok(streamdoc_core::json::number(n));
        }
        if let Some(b) = v.as_bool() {
            return Ok(Bson::Boolean(b));
        }
        if v.is_null() || v.is_undefined() {
            return Ok(Bson::Null);
        }
        if v.is_bigint() {
            return i64::try_from(v.clone())
                .map(Bson::Int64)
                .map_err(|_| self.fail("a bigint outside the Int64 range"));
        }
        if v.is_function() {
            return Err(self.fail("a function cannot be stored"));
        }
        if v.is_symbol() {
            return Err(self.fail("a symbol cannot be stored"));
        }
        if let Some(date) = v.dyn_ref::<js_sys::Date>() {
            let ms = date.get_time();
            if !ms.is_finite() {
                return Err(self.fail("an invalid Date"));
            }
            return Ok(Bson::DateTime(bson::DateTime::from_millis(ms as i64)));
        }
        if let Some(bytes) = v.dyn_ref::<js_sys::Uint8Array>() {
            let bytes = bytes.to_vec();
            return Ok(Bson::Binary(bson::Binary { subtype: bson::spec::BinarySubtype::Generic, bytes }));
        }
        let array = Array::is_array(v);
        let keys = if array {
            None
        } else {
            refuse_exotic(v).map_err(|e| self.fail(e))?;
            let keys = Object::keys(v.unchecked_ref::<Object>());
            if keys.iter().any(|k| k.as_string().is_some_and(|k| EXTENDED_JSON_KEYS.contains(&k.as_str()))) {
                // A typed value is a scalar: it adds no level to the document.
                let json = self.json(v, 0)?;
                return Bson::try_from(json).map_err(|e| self.fail(format!("invalid Extended JSON: {e}")));
            }
            Some(keys)
        };
        self.enter(v)?;
        let result = match keys {
            None => {
                let items: &Array = v.unchecked_ref();
                let mut out = Vec::with_capacity(items.length() as usize);
                for (i, item) in items.iter().enumerate() {
                    let level = self.child(level)?;
                    self.path.push(i.to_string());
                    let value = self.value(&item, level);
                    self.path.pop();
                    out.push(value?);
                }
                Ok(Bson::Array(out))
            }
            Some(keys) => self.document(v.unchecked_ref(), &keys, level),
        };
        self.ancestors.pop();
        result
    }

    /// Before descending into the object or array `v`: refuses a cycle.
    fn enter(&mut self, v: &JsValue) -> Result<(), ValueError> {
        if self.ancestors.iter().any(|a| a == v) {
            return Err(self.fail("a cyclic value (an object that contains itself) cannot be stored"));
        }
        self.ancestors.push(v.clone());
        Ok(())
    }

    /// Before reading a child of a container at `level`: refuses one past the limit.
    fn child(&self, level: usize) -> Result<usize, ValueError> {
        if level + 1 > self.max_depth {
            let message = format!("the value nests deeper than {} levels{}", self.max_depth, self.at());
            return Err(ValueError::TooDeep { limit: self.max_depth, message });
        }
        Ok(level + 1)
    }

    fn document(&mut self, object: &Object, keys: &Array, level: usize) -> Result<Bson, ValueError> {
        let mut doc = Document::new();
        for key in keys.iter() {
            let value = Reflect::get(object, &key).map_err(|_| self.fail("an unreadable property"))?;
            if value.is_undefined() {
                continue;
            }
            let name = key.as_string().unwrap_or_default();
            let level = self.child(level)?;
            self.path.push(name.clone());
            let value = self.value(&value, level);
            self.path.pop();
            doc.insert(name, value?);
        }
        Ok(Bson::Document(doc))
    }

    /// Inside an Extended JSON value, at nesting `level` within it (the deepest form,
    /// `$dbPointer`, nests 3 levels).
    fn extended_child(&self, level: usize) -> Result<usize, ValueError> {
        if level + 1 > MAX_EXTENDED_JSON_DEPTH {
            return Err(self.fail("invalid Extended JSON: it nests too deep"));
        }
        Ok(level + 1)
    }

    /// An Extended JSON object as JSON (for the `bson` crate's parser), refusing cycles
    /// and nesting no deeper than any Extended JSON type does.
    fn json(&mut self, v: &JsValue, level: usize) -> Result<serde_json::Value, ValueError> {
        use serde_json::Value;
        if let Some(s) = v.as_string() {
            return Ok(Value::String(s));
        }
        if let Some(n) = v.as_f64() {
            let integer = n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0;
            let number =
                if integer { Some(serde_json::Number::from(n as i64)) } else { serde_json::Number::from_f64(n) };
            return number.map(Value::Number).ok_or_else(|| self.fail("a non-finite number in Extended JSON"));
        }
        if let Some(b) = v.as_bool() {
            return Ok(Value::Bool(b));
        }
        if v.is_null() {
            return Ok(Value::Null);
        }
        let array = Array::is_array(v);
        if !array && !is_plain_object(v) {
            return Err(
                self.fail("invalid Extended JSON: only strings, numbers, booleans, null, arrays and plain objects")
            );
        }
        self.enter(v)?;
        let result = if array {
            let items: &Array = v.unchecked_ref();
            items
                .iter()
                .map(|item| self.json(&item, self.extended_child(level)?))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        } else {
            let mut map = serde_json::Map::new();
            for key in crate::js::keys(v).iter() {
                let value = Reflect::get(v, &key).map_err(|_| self.fail("an unreadable property"))?;
                if value.is_undefined() {
                    continue;
                }
                let child = self.extended_child(level)?;
                map.insert(key.as_string().unwrap_or_default(), self.json(&value, child)?);
            }
            Ok(Value::Object(map))
        };
        self.ancestors.pop();
        result
    }
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["Object", "prototype", "toString"], js_name = call)]
    fn to_string_tag(value: &JsValue) -> String;
}

/// Whether `v` is a plain object (or a class instance): `[object Object]`.
fn is_plain_object(v: &JsValue) -> bool {
    v.is_object() && to_string_tag(v) == "[object Object]"
}

/// Refuses the built-in objects that are not documents, naming them.
fn refuse_exotic(v: &JsValue) -> Result<(), String> {
    if is_plain_object(v) {
        return Ok(());
    }
    let tag = to_string_tag(v);
    let kind = tag.trim_start_matches("[object ").trim_end_matches(']');
    let hint = match kind {
        "Map" => "; convert it to an object (Object.fromEntries(map))",
        "Set" => "; convert it to an array ([...set])",
        "RegExp" => "; give { $regularExpression: { pattern, options } }",
        "ArrayBuffer" | "DataView" | "Int8Array" | "Uint8ClampedArray" | "Int16Array" | "Uint16Array"
        | "Int32Array" | "Uint32Array" | "Float32Array" | "Float64Array" | "BigInt64Array" | "BigUint64Array" => {
            "; give a Uint8Array for binary data"
        }
        _ => "",
    };
    Err(format!("a {kind} cannot be stored{hint}"))
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

/// A document as canonical Extended JSON.
pub fn canonical(doc: &Document) -> JsValue {
    document_to_js(doc, Values::Canonical)
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
        let array: Array = docs.iter().map(canonical).collect();
        set(&object, &ns.to_string(), &array);
    }
    object.into()
}
