//! Every mapping of an error to JavaScript: core's [`Error`] to the `Error` subclasses
//! of `js/runtime.js`, and panics to `InternalError`.
//!
//! A panic must never reach a caller as WebAssembly's `RuntimeError: unreachable`. The
//! panic hook throws an `InternalError` (a JavaScript exception unwinds the module's
//! stack like any `throw_str`). The object whose call panicked (its `RefCell`s may be
//! left borrowed) can no longer be trusted: it is *poisoned*, and every later call on it
//! fails with an `InternalError` saying to create a new one; other objects keep working.
//! Every exported method enters through [`enter`] with its object's [`Guard`].
//! Asynchronous work is polled from JavaScript (`drive` in `js/runtime.js`) under
//! try/catch, entering with the guard of the object that started it, so a panic there
//! rejects the caller's promise and poisons that object.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Once;

use js_sys::Reflect;
use streamdoc_core::projection::QueryError;
use streamdoc_core::subscription::SubscriptionError;
use streamdoc_core::{Error, ExecutorError, StreamNameError};
use wasm_bindgen::prelude::*;

use crate::js::json_to_js;
use crate::versions::expected_to_js;

#[wasm_bindgen(module = "/js/runtime.js")]
extern "C" {
    /// An instance of the error class for `kind` (`{kind}Error`), with `message`.
    #[wasm_bindgen(js_name = createError)]
    fn create_error(kind: &str, message: &str) -> js_sys::Error;
}

static HOOK: Once = Once::new();

/// The poison flag of one exported object (a store, an engine, a simulation): the
/// message of the panic that poisoned it. Clones share the flag.
#[derive(Debug, Clone)]
pub struct Guard {
    what: &'static str,
    panicked: Rc<RefCell<Option<String>>>,
}

impl Guard {
    /// The guard of a new object; `what` names its class in messages.
    pub fn new(what: &'static str) -> Self {
        Self { what, panicked: Rc::default() }
    }
}

thread_local! {
    /// The guards of the calls in progress, innermost last (a store's executor may call
    /// an engine: the engine's call is the inner one).
    static ACTIVE: RefCell<Vec<Guard>> = const { RefCell::new(Vec::new()) };
}

/// A call in progress; ends when dropped. (A panic unwinds past it without dropping
/// it: the hook clears the calls it interrupted.)
#[derive(Debug)]
#[must_use]
pub struct Scope {
    depth: usize,
}

impl Drop for Scope {
    fn drop(&mut self) {
        ACTIVE.with(|a| a.borrow_mut().truncate(self.depth));
    }
}

/// The guard at the top of every exported method: installs the panic hook on first
/// use, refuses to run on a poisoned object, and marks the call as the object's.
pub fn enter(guard: &Guard) -> Result<Scope, JsValue> {
    HOOK.call_once(|| std::panic::set_hook(Box::new(on_panic)));
    crate::heap::reserve_ahead();
    if let Some(first) = guard.panicked.borrow().as_ref() {
        return Err(internal(&format!(
            "this {} can no longer be used after an internal error; create a new one: {first}",
            guard.what
        )));
    }
    Ok(ACTIVE.with(|a| {
        let mut active = a.borrow_mut();
        active.push(guard.clone());
        Scope { depth: active.len() - 1 }
    }))
}

/// As [`enter`], for a call that belongs to no object yet (a constructor, a function).
pub fn enter_free() -> Result<Scope, JsValue> {
    enter(&Guard::new("call"))
}

fn on_panic(info: &std::panic::PanicHookInfo<'_>) {
    let message = info.to_string();
    let interrupted = ACTIVE.with(|a| std::mem::take(&mut *a.borrow_mut()));
    let what = match interrupted.last() {
        Some(guard) => {
            guard.panicked.borrow_mut().get_or_insert_with(|| message.clone());
            format!("; this {} can no longer be used, create a new one", guard.what)
        }
        None => String::new(),
    };
    wasm_bindgen::throw_val(internal(&format!(
        "internal error in streamdoc (a bug; please report it): {message}{what}"
    )));
}

/// An `InternalError`.
pub fn internal(message: &str) -> JsValue {
    let error = create_error("Internal", message);
    set(&error, "details", &json_to_js(&serde_json::json!({ "kind": "Internal", "message": message })));
    set(&error, "errorCode", &JsValue::from(INTERNAL_SERVER_ERROR));
    error.into()
}

/// Emmett's `EmmettError.Codes`: the HTTP status Emmett gives each kind of error.
const VALIDATION_ERROR: u16 = 400;
const ILLEGAL_STATE_ERROR: u16 = 403;
const CONCURRENCY_ERROR: u16 = 412;
const INTERNAL_SERVER_ERROR: u16 = 500;

/// The `errorCode` of an error, as Emmett's error classes set it for the same
/// situation (`EmmettError.Codes`), so that Emmett's `isExpectedVersionConflictError`
/// and its mapping of errors to HTTP problems read streamdoc's errors as its own.
/// Emmett has no error for a missing stream (404): reads of one report
/// `streamExists: false`, as streamdoc's do.
fn error_code(error: &Error) -> u16 {
    match error {
        Error::ConcurrencyConflict { .. } => CONCURRENCY_ERROR,
        Error::InvalidStreamName(_)
        | Error::InvalidEvent { .. }
        | Error::EmptyAppend { .. }
        | Error::InvalidRange { .. }
        // A malformed query over read models is an invalid argument, as a bad range is.
        | Error::InvalidQuery(_) => VALIDATION_ERROR,
        // The stream's state (its size, its archive) forbids the append, as an
        // IllegalStateError does.
        Error::StreamTooLarge { .. } | Error::StreamArchived { .. } => ILLEGAL_STATE_ERROR,
        // A failed `evolve` is the application's code failing inside the append, as an
        // error thrown by an inline projection's handler is in emmett-mongodb (which
        // Emmett's mapping reads as 500, having no code of its own).
        Error::Projection { .. } => INTERNAL_SERVER_ERROR,
        // Another instance won a checkpoint: a concurrency conflict, as Emmett reads one.
        Error::Subscription(SubscriptionError::CheckpointConflict { .. }) => CONCURRENCY_ERROR,
        Error::Subscription(SubscriptionError::HistoryLost { .. }) => ILLEGAL_STATE_ERROR,
        Error::Subscription(_) => VALIDATION_ERROR,
        _ => INTERNAL_SERVER_ERROR,
    }
}

/// core's error as an instance of its class, with typed fields, `details` (the serde
/// form, as the scenario corpus spells errors) and Emmett's `errorCode`.
pub fn to_js(error: &Error) -> JsValue {
    let js = create_error(error.kind(), &error.to_string());
    set(&js, "details", &details(error));
    set(&js, "errorCode", &JsValue::from(error_code(error)));
    let s = |v: &str| JsValue::from_str(v);
    let stream = |v: &str| ("streamName", s(v));
    // The typed fields of each kind, set in one loop.
    let fields: Vec<(&str, JsValue)> = match error {
        Error::InvalidStreamName(e) => {
            let name = match e {
                StreamNameError::MissingColon { name }
                | StreamNameError::EmptyType { name }
                | StreamNameError::EmptyId { name }
                | StreamNameError::ContainsNul { name } => s(name),
                StreamNameError::TooLong { .. } | StreamNameError::InvalidType { .. } => JsValue::NULL,
            };
            vec![("reason", s(&reason(e))), ("streamName", name)]
        }
        Error::InvalidConfig(e) => {
            let (reason, name) = match e {
                streamdoc_core::ConfigError::InvalidDatabase { name, .. } => ("invalidDatabase", name),
                streamdoc_core::ConfigError::InvalidCollection { name, .. } => ("invalidCollection", name),
                streamdoc_core::ConfigError::InvalidDefaultStreamType { stream_type, .. } => {
                    ("invalidDefaultStreamType", stream_type)
                }
                streamdoc_core::ConfigError::InvalidProjection { name, .. } => ("invalidProjection", name),
                // `name` is the option too: every InvalidConfigError names what it refuses.
                streamdoc_core::ConfigError::Unsupported { option, .. } => ("unsupported", option),
            };
            let mut fields = vec![("reason", s(reason)), ("name", s(name))];
            if let streamdoc_core::ConfigError::Unsupported { option, .. } = e {
                fields.push(("option", s(option)));
            }
            fields
        }
        Error::EmptyAppend { stream: name } => vec![stream(name)],
        Error::InvalidEvent { stream: name, index, reason } => {
            vec![stream(name), ("index", JsValue::from_f64(*index as f64)), ("reason", s(&self::reason(reason)))]
        }
        // `current` is Emmett's `ConcurrencyError.current`: the stream's version as a
        // string, "0" for a stream that does not exist (Emmett's default version).
        Error::ConcurrencyConflict { stream: name, expected, actual } => vec![
            stream(name),
            ("expected", expected_to_js(*expected)),
            ("actual", actual.map_or(JsValue::NULL, JsValue::from)),
            ("current", s(&actual.unwrap_or(0).to_string())),
        ],
        Error::StreamTooLarge { stream: name, limit_bytes } => {
            vec![stream(name), ("limitBytes", JsValue::from_f64(*limit_bytes as f64))]
        }
        Error::StreamArchived { stream: name, position, successor } => vec![
            stream(name),
            ("position", JsValue::from(*position)),
            ("successor", successor.as_deref().map_or(JsValue::NULL, s)),
        ],
        Error::InvalidRange { from, to } => vec![("from", JsValue::from(*from)), ("to", JsValue::from(*to))],
        Error::Contention { stream: name, attempts } => vec![stream(name), ("attempts", JsValue::from(*attempts))],
        Error::CorruptDocument { stream: name, reason } => vec![stream(name), ("reason", s(reason))],
        Error::Projection { stream: name, projection, .. } => vec![stream(name), ("projection", s(projection))],
        Error::InvalidQuery(e) => {
            let mut fields = vec![("reason", s(&reason(e)))];
            match e {
                QueryError::InvalidProjectionName { name } => fields.push(("projectionName", s(name))),
                QueryError::UnsupportedOperator { operator } | QueryError::InvalidLogicalOperator { operator } => {
                    fields.push(("operator", s(operator)))
                }
                QueryError::InvalidPath { path, .. } | QueryError::InvalidSortDirection { path } => {
                    fields.push(("path", s(path)))
                }
                QueryError::CustomStorage => {}
            }
            fields
        }
        Error::Subscription(e) => {
            let mut fields = vec![("reason", s(&reason(e)))];
            match e {
                SubscriptionError::CheckpointConflict { consumer, stream: name, expected } => {
                    fields.extend([("consumer", s(consumer)), stream(name), ("expected", JsValue::from(*expected))])
                }
                SubscriptionError::HistoryLost { consumer, .. } => fields.push(("consumer", s(consumer))),
                _ => {}
            }
            fields
        }
        Error::Server { code, message } => vec![("code", JsValue::from(*code)), ("serverMessage", s(message))],
        Error::UnexpectedReply { step, reply } => vec![("step", s(step)), ("reply", s(reply))],
        Error::Unavailable(ExecutorError { outcome_unknown, .. }) => {
            vec![("outcomeUnknown", JsValue::from_bool(*outcome_unknown))]
        }
        Error::Misuse { .. } => Vec::new(),
    };
    for (key, value) in &fields {
        set(&js, key, value);
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
        Ok(value) => json_to_js(&value),
        Err(_) => json_to_js(&serde_json::json!({ "kind": error.kind() })),
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

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::collections::BTreeSet;

    use streamdoc_core::Error;

    fn read(path: &str) -> String {
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).expect(path)
    }

    /// The words `before NAME after` in `text`, e.g. `define("NAME")`.
    fn between(text: &str, before: &str, after: &str) -> BTreeSet<String> {
        text.split(before)
            .skip(1)
            .filter_map(|rest| rest.find(after).map(|end| rest[..end].to_owned()))
            .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()))
            .collect()
    }

    /// core's kinds, the JavaScript classes, their declarations, the TypeScript union
    /// and the package README name the same errors.
    #[test]
    fn every_layer_names_the_same_error_kinds() {
        let core: BTreeSet<String> = Error::KINDS.iter().map(|k| k.to_string()).collect();
        let mut with_internal = core.clone();
        with_internal.insert("Internal".into());
        assert_eq!(between(&read("js/runtime.js"), "define(\"", "\")"), with_internal, "js/runtime.js");
        assert_eq!(
            between(&read("js/runtime.d.ts"), "export declare class ", "Error extends StreamdocError"),
            with_internal,
            "js/runtime.d.ts"
        );
        let lib = read("src/lib.rs");
        let union = lib.split("export type ErrorKind =").nth(1).and_then(|u| u.split(';').next()).expect("ErrorKind");
        let quoted: BTreeSet<String> = union.split('"').skip(1).step_by(2).map(str::to_owned).collect();
        assert_eq!(quoted, core, "the ErrorKind union in src/lib.rs");
        let readme = read("npm/README.md");
        let errors = readme.split("## Errors").nth(1).expect("the package README has an Errors section");
        let errors = errors.split("\n## ").next().unwrap_or(errors);
        let mut named: BTreeSet<String> = errors
            .split('`')
            .skip(1)
            .step_by(2)
            .filter_map(|code| code.strip_suffix("Error"))
            .filter(|name| !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric()))
            .map(str::to_owned)
            .collect();
        named.remove("Streamdoc");
        named.remove("Type");
        named.remove("Runtime"); // WebAssembly's, which the module never throws
        assert_eq!(named, with_internal, "the Errors section of npm/README.md");
    }
}
