//! The fast path of `appendToStream`'s arguments: `encodeAppend` (`js/append.js`)
//! walks them in JavaScript and hands them over as one byte string, instead of one
//! boundary crossing per property and value. Measured side by side in the Node
//! benchmark (`cargo xtask wasm bench`), it pays for itself (see the README's figures).
//!
//! It decides nothing: the JavaScript side gives up (`undefined`) on anything the
//! property-by-property conversion ([`crate::ops::append_arguments`]) would refuse or
//! treat specially — an Extended JSON object, a value that is not plain, nesting past
//! [`MAX_VALUE_DEPTH`] (so cycles too), an unknown key, a getter that throws — and that
//! conversion then runs, with its own error messages. The tags below are the one source
//! of the byte format: the table in `js/append.js` is generated from them
//! (`cargo xtask wasm tags`; a test fails when it is stale).

use std::cell::Cell;

use bson::{Bson, Document};
use streamdoc_core::limits::MAX_VALUE_DEPTH;
use streamdoc_core::ExpectedVersion;
use streamdoc_core::NewEvent;
use wasm_bindgen::JsValue;

use crate::js::safe_u64;
use crate::ops::{AppendArguments, APPEND_OPTIONS, EVENT_KEYS};
use crate::values::EXTENDED_JSON_KEYS;

// Value tags.
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
/// An absent `data`, `metadata` or `id`.
const ABSENT: u8 = 0;
// Expected-version tags.
const EXPECTED_ABSENT: u8 = 0;
const EXPECTED_ANY: u8 = 1;
const EXPECTED_NO_STREAM: u8 = 2;
const EXPECTED_STREAM_EXISTS: u8 = 3;
const EXPECTED_BIGINT: u8 = 4;
const EXPECTED_NUMBER: u8 = 5;

/// The tables `js/append.js` uses, as JavaScript (between its `generated` markers).
pub fn generated_js() -> String {
    let strings = |items: &[&str]| items.iter().map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ");
    let tags = [
        ("NULL", NULL),
        ("FALSE", FALSE),
        ("TRUE", TRUE),
        ("NUMBER", NUMBER),
        ("STRING", STRING),
        ("ARRAY", ARRAY),
        ("DOCUMENT", DOCUMENT),
        ("INT64", INT64),
        ("DATE", DATE),
        ("BINARY", BINARY),
        ("ABSENT", ABSENT),
        ("EXPECTED_ABSENT", EXPECTED_ABSENT),
        ("EXPECTED_ANY", EXPECTED_ANY),
        ("EXPECTED_NO_STREAM", EXPECTED_NO_STREAM),
        ("EXPECTED_STREAM_EXISTS", EXPECTED_STREAM_EXISTS),
        ("EXPECTED_BIGINT", EXPECTED_BIGINT),
        ("EXPECTED_NUMBER", EXPECTED_NUMBER),
    ];
    let mut out = String::new();
    out.push_str(&format!("const EXTENDED = new Set([{}]);\n", strings(&EXTENDED_JSON_KEYS)));
    out.push_str(&format!("const EVENT_KEYS = new Set([{}]);\n", strings(&EVENT_KEYS)));
    out.push_str(&format!("const APPEND_OPTIONS = new Set([{}]);\n", strings(&APPEND_OPTIONS)));
    out.push_str(&format!("const MAX_VALUE_DEPTH = {MAX_VALUE_DEPTH};\n"));
    for (name, tag) in tags {
        out.push_str(&format!("const {name} = {tag};\n"));
    }
    out
}

#[wasm_bindgen::prelude::wasm_bindgen(module = "/js/append.js")]
extern "C" {
    #[wasm_bindgen(js_name = encodeAppend)]
    fn encode_append(stream: &JsValue, events: &JsValue, options: &JsValue) -> Option<Vec<u8>>;
}

thread_local! {
    /// False while a benchmark measures the property-by-property path alone.
    static ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Turns the fast path off (or back on), for the benchmark that compares both paths.
pub(crate) fn set_enabled(on: bool) {
    ENABLED.with(|e| e.set(on));
}

/// The arguments of `appendToStream`: from the bytes of `encodeAppend` when it could
/// encode them, else property by property.
pub fn append_arguments(stream: &JsValue, events: &JsValue, options: &JsValue) -> Result<AppendArguments, JsValue> {
    let fast = ENABLED.with(Cell::get).then(|| decode(stream, events, options)).flatten();
    match fast {
        Some(arguments) => Ok(arguments),
        None => crate::ops::append_arguments(stream, events, options),
    }
}

/// The fast path alone: `None` when `encodeAppend` gave up, or its bytes do not decode.
pub fn decode(stream: &JsValue, events: &JsValue, options: &JsValue) -> Option<AppendArguments> {
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
                ABSENT => None,
                STRING => Some(self.string()?),
                _ => return None,
            };
            events.push(NewEvent { id, event_type, data, metadata });
        }
        let expected = match self.u8()? {
            EXPECTED_ABSENT | EXPECTED_ANY => ExpectedVersion::Any,
            EXPECTED_NO_STREAM => ExpectedVersion::NoStream,
            EXPECTED_STREAM_EXISTS => ExpectedVersion::StreamExists,
            EXPECTED_BIGINT => ExpectedVersion::Exact(u64::from_le_bytes(self.array()?)),
            EXPECTED_NUMBER => ExpectedVersion::Exact(safe_u64(self.f64()?)?),
            _ => return None,
        };
        (self.at == self.bytes.len()).then_some((stream, events, expected))
    }

    fn optional_document(&mut self) -> Option<Document> {
        match self.u8()? {
            ABSENT => Some(Document::new()),
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
            NUMBER => streamdoc_core::json::number(self.f64()?),
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

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    /// `js/append.js` holds the tables generated from this module.
    #[test]
    fn the_javascript_tables_are_generated_from_these() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("js/append.js");
        let text = std::fs::read_to_string(&path).expect("js/append.js is readable");
        const BEGIN: &str = "// BEGIN generated by `cargo xtask wasm tags` from wasm/src/encoded_append.rs\n";
        const END: &str = "// END generated\n";
        let (Some(start), Some(end)) = (text.find(BEGIN), text.find(END)) else {
            panic!("js/append.js has no generated section ({BEGIN:?} ... {END:?})");
        };
        let current = &text[start + BEGIN.len()..end];
        let wanted = super::generated_js();
        if current == wanted {
            return;
        }
        if std::env::var_os("STREAMDOC_UPDATE_GENERATED").is_some() {
            let updated = format!("{}{BEGIN}{wanted}{}", &text[..start], &text[end..]);
            std::fs::write(&path, updated).expect("js/append.js is writable");
            eprintln!("updated the generated tables of {}", path.display());
            return;
        }
        panic!("the tables in wasm/js/append.js are stale: run `cargo xtask wasm tags`");
    }
}
