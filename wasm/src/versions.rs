//! Expected versions as JavaScript: Emmett's constants (`STREAM_DOES_NOT_EXIST`,
//! `STREAM_EXISTS`, `NO_CONCURRENCY_CHECK`) and `bigint` positions. Used by the
//! arguments ([`crate::ops`]) and by the errors ([`crate::error`]), which depend on
//! nothing else of each other.

use streamdoc_core::ExpectedVersion;
use wasm_bindgen::JsValue;

use crate::js::{is_absent, to_u64, type_error};

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
