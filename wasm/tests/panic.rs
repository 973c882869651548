//! A panic inside a task polled after an `await` rejects its promise with an
//! InternalError and poisons the module. Its own test binary: a panic makes the module
//! unusable for every later test.
#![cfg(target_arch = "wasm32")]

use js_sys::Reflect;
use streamdoc_wasm::{error, executor, EventStore};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn a_panic_in_a_task_is_an_internal_error_and_poisons_the_module() {
    error::enter().expect("not poisoned yet");
    let promise = executor::spawn(async {
        let _ = JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL)).await;
        panic!("boom in a task");
    });
    let rejected = JsFuture::from(promise).await.expect_err("the task rejects");
    let name = Reflect::get(&rejected, &"name".into()).expect("a name");
    assert_eq!(name.as_string().as_deref(), Some("InternalError"));
    let message = Reflect::get(&rejected, &"message".into()).expect("a message").as_string().unwrap_or_default();
    assert!(message.contains("boom in a task"), "{message}");
    let later = EventStore::new(JsValue::UNDEFINED).expect_err("the module refuses");
    let message = Reflect::get(&later, &"message".into()).expect("a message").as_string().unwrap_or_default();
    assert!(message.contains("unusable"), "{message}");
}
