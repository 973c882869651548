//! Every mapping of an error to JavaScript: core's [`Error`] to the `Error` subclasses
//! of `js/runtime.js`, bad arguments to `TypeError`, and panics to `InternalError`.
//!
//! A panic must never reach a caller as WebAssembly's `RuntimeError: unreachable`. The
//! panic hook throws an `InternalError` (a JavaScript exception unwinds the module's
//! stack like any `throw_str`), and remembers the message: the module's state can no
//! longer be trusted, so every later entry point fails with an `InternalError` before
//! touching it ([`enter`]). Asynchronous work is polled from JavaScript (`drive` in
//! `js/runtime.js`) under try/catch, so a panic there rejects the caller's promise.

use std::sync::{Once, OnceLock};

use js_sys::Reflect;
use streamdoc_core::{Error, ExecutorError, StreamNameError};
use wasm_bindgen::prelude::*;

use crate::convert;

#[wasm_bindgen(module = "/js/runtime.js")]
extern "C" {
    /// An instance of the error class for `kind` (`{kind}Error`), with `message`.
    #[wasm_bindgen(js_name = createError)]
    fn create_error(kind: &str, message: &str) -> js_sys::Error;
}

/// The message of the first panic; once set, the module refuses every call.
static PANICKED: OnceLock<String> = OnceLock::new();
static HOOK: Once = Once::new();

/// The guard at the top of every exported function: installs the panic hook on first
/// use and refuses to run once a panic has happened.
pub fn enter() -> Result<(), JsValue> {
    HOOK.call_once(|| std::panic::set_hook(Box::new(on_panic)));
    crate::heap::reserve_ahead();
    match PANICKED.get() {
        Some(first) => Err(internal(&format!("streamdoc is unusable after an internal error: {first}"))),
        None => Ok(()),
    }
}

fn on_panic(info: &std::panic::PanicHookInfo<'_>) {
    let message = info.to_string();
    let _ = PANICKED.set(message.clone());
    wasm_bindgen::throw_val(internal(&format!("internal error in streamdoc (a bug; please report it): {message}")));
}

/// An `InternalError`.
pub fn internal(message: &str) -> JsValue {
    let error = create_error("Internal", message);
    set(&error, "details", &convert::json_to_js(&serde_json::json!({ "kind": "Internal", "message": message })));
    error.into()
}

/// A `TypeError` for an argument of the wrong shape.
pub fn type_error(message: impl std::fmt::Display) -> JsValue {
    js_sys::TypeError::new(&message.to_string()).into()
}

/// core's error as an instance of its class, with typed fields and `details` (the
/// serde form, as the scenario corpus spells errors).
pub fn to_js(error: &Error) -> JsValue {
    let js = create_error(error.kind(), &error.to_string());
    set(&js, "details", &details(error));
    let s = |v: &str| JsValue::from_str(v);
    match error {
        Error::InvalidStreamName(e) => {
            set(&js, "reason", &s(&reason(e)));
            let name = match e {
                StreamNameError::MissingColon { name }
                | StreamNameError::EmptyType { name }
                | StreamNameError::EmptyId { name }
                | StreamNameError::ContainsNul { name } => s(name),
                StreamNameError::TooLong { .. } | StreamNameError::InvalidType { .. } => JsValue::NULL,
            };
            set(&js, "streamName", &name);
        }
        Error::InvalidConfig(e) => {
            let (reason, name) = match e {
                streamdoc_core::ConfigError::InvalidDatabase { name, .. } => ("invalidDatabase", name),
                streamdoc_core::ConfigError::InvalidCollection { name, .. } => ("invalidCollection", name),
            };
            set(&js, "reason", &s(reason));
            set(&js, "name", &s(name));
        }
        Error::EmptyAppend { stream } => set(&js, "streamName", &s(stream)),
        Error::InvalidEvent { stream, index, reason } => {
            set(&js, "streamName", &s(stream));
            set(&js, "index", &JsValue::from_f64(*index as f64));
            set(&js, "reason", &s(&self::reason(reason)));
        }
        Error::ConcurrencyConflict { stream, expected, actual } => {
            set(&js, "streamName", &s(stream));
            set(&js, "expected", &convert::expected_to_js(*expected));
            set(&js, "actual", &actual.map_or(JsValue::NULL, JsValue::from));
        }
        Error::StreamTooLarge { stream, limit_bytes } => {
            set(&js, "streamName", &s(stream));
            set(&js, "limitBytes", &JsValue::from_f64(*limit_bytes as f64));
        }
        Error::InvalidRange { from, to } => {
            set(&js, "from", &JsValue::from(*from));
            set(&js, "to", &JsValue::from(*to));
        }
        Error::Contention { stream, attempts } => {
            set(&js, "streamName", &s(stream));
            set(&js, "attempts", &JsValue::from(*attempts));
        }
        Error::CorruptDocument { stream, reason } => {
            set(&js, "streamName", &s(stream));
            set(&js, "reason", &s(reason));
        }
        Error::Server { code, message } => {
            set(&js, "code", &JsValue::from(*code));
            set(&js, "serverMessage", &s(message));
        }
        Error::UnexpectedReply { step, reply } => {
            set(&js, "step", &s(step));
            set(&js, "reply", &s(reply));
        }
        Error::Unavailable(ExecutorError { outcome_unknown, .. }) => {
            set(&js, "outcomeUnknown", &JsValue::from_bool(*outcome_unknown));
        }
        Error::Misuse(_) => {}
    }
    js.into()
}

/// An `UnavailableError` for an executor failure, keeping what the executor threw as
/// `cause`.
pub fn unavailable(error: ExecutorError, cause: Option<JsValue>) -> JsValue {
    let js = to_js(&Error::Unavailable(error));
    if let Some(cause) = cause {
        set(&js, "cause", &cause);
    }
    js
}

fn details(error: &Error) -> JsValue {
    match serde_json::to_value(error) {
        Ok(value) => convert::json_to_js(&value),
        Err(_) => convert::json_to_js(&serde_json::json!({ "kind": error.kind() })),
    }
}

/// The `reason` tag of a typed reason, as core's serde form spells it (one spelling for
/// Rust, the corpus and JS).
fn reason<T: serde::Serialize>(reason: &T) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.get("reason").and_then(|r| r.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// Panics, for the tests: the panic must surface as an `InternalError`. Not part of the
/// published API (no TypeScript type); it poisons the module like any panic.
#[wasm_bindgen(js_name = "__triggerPanic", skip_typescript)]
pub fn trigger_panic(message: &str) -> Result<(), JsValue> {
    enter()?;
    panic!("{message}");
}

/// As [`trigger_panic`], from inside a task polled after an `await`: the returned
/// promise must reject with an `InternalError`.
#[wasm_bindgen(js_name = "__triggerPanicInTask", skip_typescript)]
pub fn trigger_panic_in_task(message: String) -> Result<js_sys::Promise, JsValue> {
    enter()?;
    Ok(crate::executor::spawn(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL)).await;
        panic!("{message}");
    }))
}
