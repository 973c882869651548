//! A panic inside a task polled after an `await` rejects its promise with an
//! InternalError and poisons the object the task belongs to, and nothing else. Its own
//! test binary: a panic leaks what the unwound frames held.
#![cfg(target_arch = "wasm32")]

use js_sys::Reflect;
use streamdoc_wasm::error::{self, Guard};
use streamdoc_wasm::{executor, EventStore};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

fn message(error: &JsValue) -> String {
    Reflect::get(error, &"message".into()).expect("a message").as_string().unwrap_or_default()
}

#[wasm_bindgen_test]
async fn a_panic_in_a_task_is_an_internal_error_and_poisons_its_object_only() {
    let guard = Guard::new("EventStore");
    drop(error::enter(&guard).expect("not poisoned yet"));
    let promise = executor::spawn(guard.clone(), async {
        let _ = JsFuture::from(js_sys::Promise::resolve(&JsValue::NULL)).await;
        panic!("boom in a task");
    });
    let rejected = JsFuture::from(promise).await.expect_err("the task rejects");
    let name = Reflect::get(&rejected, &"name".into()).expect("a name");
    assert_eq!(name.as_string().as_deref(), Some("InternalError"));
    assert!(message(&rejected).contains("boom in a task"), "{}", message(&rejected));
    let later = error::enter(&guard).expect_err("the poisoned object refuses");
    assert!(message(&later).contains("create a new one"), "{}", message(&later));
    assert!(EventStore::new(JsValue::UNDEFINED).is_ok(), "other objects keep working");
}
