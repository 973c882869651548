//! Hooks for the package's own tests and benchmarks. They are exported by the raw
//! bindings (`node/streamdoc.js`, `web/streamdoc.js`) but not by the package's entry
//! points, and have no TypeScript types: they are not part of the API.

use wasm_bindgen::prelude::*;

use crate::error;
use crate::store::EventStore;

/// Panics inside a call on `store`: the panic must surface as an `InternalError` and
/// poison that store alone.
#[wasm_bindgen(js_name = "__triggerPanic", skip_typescript)]
pub fn trigger_panic(store: &EventStore, message: &str) -> Result<(), JsValue> {
    let _call = error::enter(store.guard())?;
    panic!("{message}");
}

/// As [`trigger_panic`], from inside a task of `store` polled after an `await`: the
/// returned promise must reject with an `InternalError`.
#[wasm_bindgen(js_name = "__triggerPanicInTask", skip_typescript)]
pub fn trigger_panic_in_task(store: &EventStore, message: String) -> Result<js_sys::Promise, JsValue> {
    let _call = error::enter(store.guard())?;
    Ok(crate::executor::spawn(store.guard().clone(), async move {
        let _ = wasm_bindgen_futures::JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL)).await;
        panic!("{message}");
    }))
}

/// Turns the fast path of `appendToStream`'s arguments off (`false`) or on: the
/// benchmark measures both paths side by side.
#[wasm_bindgen(js_name = "__useEncodedAppend", skip_typescript)]
pub fn use_encoded_append(on: bool) {
    crate::encoded_append::set_enabled(on);
}
