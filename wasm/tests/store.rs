//! The store's two calling conventions, from Rust under `wasm-bindgen-test`: the engine
//! path and the JavaScript-executor path (the async driver awaiting a JS promise).
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Promise, Reflect};
use streamdoc_wasm::{EventStore, JsEngine};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::wasm_bindgen_test;

fn js(source: &str) -> JsValue {
    Function::new_no_args(&format!("return ({source});")).call0(&JsValue::NULL).expect("the expression evaluates")
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).expect("a property")
}

async fn settle(p: Promise) -> Result<JsValue, JsValue> {
    JsFuture::from(p).await
}

#[wasm_bindgen_test]
async fn the_engine_path_appends_and_reports_conflicts() {
    let store = EventStore::new(js("{ idSeed: 1 }")).expect("a store");
    let events = js(r#"[{ type: "OrderPlaced", data: { total: 42 } }]"#);
    let first = settle(
        store
            .append_to_stream(
                "order:1".into(),
                events.clone(),
                js(r#"{ expectedStreamVersion: "STREAM_DOES_NOT_EXIST" }"#),
            )
            .unwrap(),
    )
    .await
    .expect("appended");
    assert_eq!(get(&first, "nextExpectedStreamVersion"), JsValue::from(1_u64));
    let conflict =
        settle(store.append_to_stream("order:1".into(), events, js("{ expectedStreamVersion: 0n }")).unwrap())
            .await
            .expect_err("a conflict");
    assert_eq!(get(&conflict, "name").as_string().as_deref(), Some("ConcurrencyConflictError"));
    assert_eq!(get(&conflict, "actual"), JsValue::from(1_u64));
}

#[wasm_bindgen_test]
async fn the_executor_path_awaits_a_javascript_promise_per_command() {
    let engine = JsEngine::new(JsValue::UNDEFINED).expect("an engine");
    let engine = JsValue::from(engine);
    // An executor that answers on a later turn of the event loop, counting commands.
    let executor = Function::new_with_args(
        "engine",
        "const f = async (command) => { f.count = (f.count ?? 0) + 1; await new Promise((r) => setTimeout(r, 0)); return engine.execute(command); }; return f;",
    )
    .call1(&JsValue::NULL, &engine)
    .expect("an executor");
    let options = js_sys::Object::new();
    Reflect::set(&options, &"executor".into(), &executor).expect("set");
    let store = EventStore::new(options.into()).expect("a store");
    let events = js(r#"[{ id: "e1", type: "OrderPlaced" }]"#);
    let appended =
        settle(store.append_to_stream("order:1".into(), events.clone(), js("{ expectedStreamVersion: 0n }")).unwrap())
            .await
            .expect("appended");
    assert_eq!(get(&appended, "createdNewStream"), JsValue::TRUE);
    assert_eq!(get(&executor, "count").as_f64(), Some(2.0), "createIndex, then the upsert");
    // The same events again at the same expected version: an idempotent retry.
    let retried =
        settle(store.append_to_stream("order:1".into(), events, js("{ expectedStreamVersion: 0n }")).unwrap())
            .await
            .expect("idempotent");
    assert_eq!(get(&retried, "nextExpectedStreamVersion"), JsValue::from(1_u64));
    let read = settle(store.read_stream("order:1".into(), JsValue::UNDEFINED).unwrap()).await.expect("read");
    let events: js_sys::Array = get(&read, "events").dyn_into().expect("an array");
    assert_eq!(events.length(), 1);
    assert!(store.documents().is_err(), "documents() needs the engine");
}

#[wasm_bindgen_test]
async fn read_models_are_written_by_the_append_on_both_paths() {
    let engine = JsValue::from(JsEngine::new(JsValue::UNDEFINED).expect("an engine"));
    let executor = Function::new_with_args("engine", "return async (command) => engine.execute(command);")
        .call1(&JsValue::NULL, &engine)
        .expect("an executor");
    let projection = r#"{ name: "tally", canHandle: ["Placed"], evolve: (s, e) => ({ n: (s?.n ?? 0) + e.data.n }) }"#;
    let on_engine = EventStore::new(js(&format!("{{ projections: [{projection}] }}"))).expect("a store");
    let options = js(&format!("{{ projections: [{projection}] }}"));
    Reflect::set(&options, &"executor".into(), &executor).expect("set");
    let on_executor = EventStore::new(options).expect("a store");
    for store in [on_engine, on_executor] {
        let events =
            js(r#"[{ type: "Placed", data: { n: 2 } }, { type: "Other" }, { type: "Placed", data: { n: 3 } }]"#);
        settle(store.append_to_stream("order:1".into(), events, JsValue::UNDEFINED).unwrap()).await.expect("appended");
        let model = settle(store.read_model("order:1".into(), "tally".into()).unwrap()).await.expect("read");
        assert_eq!(get(&model, "n").as_f64(), Some(5.0));
        assert_eq!(get(&get(&model, "_metadata"), "streamPosition"), JsValue::from(3_u64));
        let rebuilt =
            settle(store.rebuild_read_models("order:1".into(), JsValue::UNDEFINED).unwrap()).await.expect("ok");
        assert_eq!(get(&rebuilt, "streamExists"), JsValue::TRUE);
        let none = settle(store.read_model("order:2".into(), JsValue::UNDEFINED).unwrap()).await.expect("read");
        assert!(none.is_null());
    }
}
