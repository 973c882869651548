//! The conversions between JavaScript and core's types, run in Node by
//! `wasm-bindgen-test` (the suite `cargo xtask test` runs for the wasm target).
#![cfg(target_arch = "wasm32")]

use bson::{doc, Bson};
use js_sys::Reflect;
use streamdoc_core::limits::{MAX_STORED_DEPTH, MAX_VALUE_DEPTH};
use streamdoc_core::projection::QueryError;
use streamdoc_core::{Command, ConfigError, Error, ExpectedVersion, Namespace, Reply};
use streamdoc_wasm::values::{self, Values};
use streamdoc_wasm::{encoded_append, error, ops, wire};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn js(source: &str) -> JsValue {
    js_sys::Function::new_no_args(&format!("return ({source});"))
        .call0(&JsValue::NULL)
        .expect("the expression evaluates")
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).expect("a property")
}

#[wasm_bindgen_test]
fn javascript_values_become_bson_by_cores_rules() {
    let value = js(r#"{ int: 42, negative: -7, big: 2147483648, half: 1.5, negZero: -0, long: 5n, s: "é", t: true,
        n: null, u: undefined, when: new Date(86400000), bytes: new Uint8Array([1, 2]), list: [1, [2]],
        long2: { $numberLong: "9" }, dbl: { $numberDouble: "2.0" }, set: { $set: 1, "a.b": 2 } }"#);
    let doc = values::to_document(&value, "value", MAX_VALUE_DEPTH).expect("converts");
    assert_eq!(doc.get("int"), Some(&Bson::Int32(42)));
    assert_eq!(doc.get("negative"), Some(&Bson::Int32(-7)));
    assert_eq!(
        doc.get("big"),
        Some(&Bson::Int64(2_147_483_648)),
        "core's number rule: an integer past Int32 is an Int64"
    );
    assert_eq!(doc.get("half"), Some(&Bson::Double(1.5)));
    assert!(matches!(doc.get("negZero"), Some(Bson::Double(z)) if z.is_sign_negative()));
    assert_eq!(doc.get("long"), Some(&Bson::Int64(5)));
    assert_eq!(doc.get("s"), Some(&Bson::String("é".into())));
    assert_eq!(doc.get("n"), Some(&Bson::Null));
    assert!(!doc.contains_key("u"), "undefined properties are left out");
    assert_eq!(doc.get("when"), Some(&Bson::DateTime(bson::DateTime::from_millis(86_400_000))));
    assert!(matches!(doc.get("bytes"), Some(Bson::Binary(b)) if b.bytes == [1, 2]));
    assert_eq!(doc.get("list"), Some(&Bson::Array(vec![Bson::Int32(1), Bson::Array(vec![Bson::Int32(2)])])));
    assert_eq!(doc.get("long2"), Some(&Bson::Int64(9)));
    assert_eq!(doc.get("dbl"), Some(&Bson::Double(2.0)));
    assert_eq!(doc.get("set"), Some(&Bson::Document(doc! { "$set": 1, "a.b": 2 })), "operator-like keys stay data");
    assert!(values::to_bson(&js("() => 1"), MAX_VALUE_DEPTH).is_err());
    assert!(values::to_bson(&js("2n ** 64n"), MAX_VALUE_DEPTH).is_err());
}

#[wasm_bindgen_test]
fn long_strings_cross_in_one_piece_with_every_character_intact() {
    let value = js(r#""é😀x".repeat(40000)"#);
    let Bson::String(s) = values::to_bson(&value, MAX_VALUE_DEPTH).expect("converts") else { panic!("not a string") };
    assert_eq!(s, "é😀x".repeat(40_000));
}

#[wasm_bindgen_test]
fn bson_comes_back_natively_or_as_canonical_extended_json() {
    let doc = doc! { "i": 42, "l": 5_i64, "d": 2.0, "when": bson::DateTime::from_millis(0), "s": "x", "a": [1, "y"] };
    let native = values::document_to_js(&doc, Values::Native);
    assert_eq!(get(&native, "i").as_f64(), Some(42.0));
    assert_eq!(get(&native, "l"), JsValue::from(5_i64));
    assert_eq!(get(&native, "d").as_f64(), Some(2.0));
    assert!(get(&native, "when").is_instance_of::<js_sys::Date>());
    let canonical = values::document_to_js(&doc, Values::Canonical);
    let json = js_sys::JSON::stringify(&canonical).expect("stringifies").as_string().unwrap_or_default();
    assert_eq!(
        json,
        r#"{"i":{"$numberInt":"42"},"l":{"$numberLong":"5"},"d":{"$numberDouble":"2.0"},"when":{"$date":{"$numberLong":"0"}},"s":"x","a":[{"$numberInt":"1"},"y"]}"#
    );
    // Canonical Extended JSON reads back to exactly the same document.
    assert_eq!(values::to_document(&canonical, "doc", MAX_VALUE_DEPTH).expect("converts"), doc);
}

#[wasm_bindgen_test]
fn every_command_and_reply_round_trips_through_javascript() {
    let ns = Namespace::new("app", "order");
    let commands = [
        Command::CreateIndex {
            ns: ns.clone(),
            keys: doc! { "streamName": 1 },
            name: "streamName_1".into(),
            unique: true,
        },
        Command::FindOne {
            ns: ns.clone(),
            filter: doc! { "streamName": { "$eq": "order:1" } },
            projection: Some(doc! { "_id": 0 }),
        },
        Command::FindOne { ns: ns.clone(), filter: doc! {}, projection: None },
        Command::Find {
            ns: ns.clone(),
            filter: doc! { "projections.summary.total": { "$gte": 10 } },
            projection: Some(doc! { "_id": 0, "streamName": 1, "projections.summary": 1 }),
            sort: Some(doc! { "projections.summary.total": -1, "streamName": 1 }),
            skip: 2,
            limit: 5,
        },
        Command::Find { ns: ns.clone(), filter: doc! {}, projection: None, sort: None, skip: 0, limit: 0 },
        Command::Count {
            ns: ns.clone(),
            filter: doc! { "metadata.streamType": { "$eq": "order" } },
            skip: 1,
            limit: 3,
        },
        Command::UpdateOne {
            ns: ns.clone(),
            filter: doc! { "metadata.streamPosition": 0_i64 },
            update: doc! { "$set": { "x": 1.5 } },
            upsert: true,
        },
        Command::InsertOne { ns: ns.clone(), document: doc! { "_id": 1, "when": bson::DateTime::from_millis(5) } },
        Command::DeleteOne { ns, filter: doc! { "_id": 1 } },
    ];
    for command in commands {
        let back = wire::command_from_js(&wire::command_to_js(&command)).expect("converts back");
        assert_eq!(back, command);
    }
    let replies = [
        Reply::Acknowledged,
        Reply::Found(None),
        Reply::Found(Some(doc! { "a": 1_i64, "b": [1.0] })),
        Reply::FoundMany(vec![]),
        Reply::FoundMany(vec![doc! { "streamName": "order:1" }, doc! { "streamName": "order:2", "n": 2.5 }]),
        Reply::Counted(0),
        Reply::Counted(42),
        Reply::Updated { matched: 1, modified: 1, upserted_id: None },
        Reply::Updated {
            matched: 0,
            modified: 0,
            upserted_id: Some(Bson::ObjectId(bson::oid::ObjectId::from_bytes([7; 12]))),
        },
        Reply::Inserted { id: Bson::Int32(3) },
        Reply::Deleted { count: 1 },
        Reply::DuplicateKey { message: "E11000 duplicate key error".into() },
        Reply::ServerError { code: 238, message: "not implemented".into() },
    ];
    for reply in replies {
        assert_eq!(wire::reply_from_js(&wire::reply_to_js(&reply)).expect("converts back"), reply);
    }
    assert!(wire::reply_from_js(&js(r#"{ kind: "updated", matchedCount: -1, modifiedCount: 0 }"#)).is_err());
    assert!(wire::reply_from_js(&js(r#"{ kind: "teapot" }"#)).is_err());
    assert!(wire::reply_from_js(&js(r#"{ kind: "foundMany", documents: {} }"#)).is_err());
    assert!(wire::reply_from_js(&js(r#"{ kind: "foundMany", documents: [1] }"#)).is_err());
    assert!(wire::reply_from_js(&js(r#"{ kind: "counted", count: -1 }"#)).is_err());
    // `skip` and `limit` may be left out: 0, no limit.
    let bare = wire::command_from_js(&js(r#"{ kind: "find", database: "d", collection: "c", filter: {} }"#));
    assert_eq!(
        bare,
        Ok(Command::Find {
            ns: Namespace::new("d", "c"),
            filter: doc! {},
            projection: None,
            sort: None,
            skip: 0,
            limit: 0
        })
    );
    assert!(wire::command_from_js(&js(r#"{ kind: "count", database: "d", collection: "c", filter: {}, skip: -1 }"#))
        .is_err());
}

#[wasm_bindgen_test]
fn expected_versions_map_to_the_emmett_constants() {
    for (value, expected) in [
        ("undefined", ExpectedVersion::Any),
        (r#""NO_CONCURRENCY_CHECK""#, ExpectedVersion::Any),
        (r#""STREAM_DOES_NOT_EXIST""#, ExpectedVersion::NoStream),
        (r#""STREAM_EXISTS""#, ExpectedVersion::StreamExists),
        ("7n", ExpectedVersion::Exact(7)),
        ("7", ExpectedVersion::Exact(7)),
    ] {
        assert_eq!(ops::expected_version(&js(value)).expect(value), expected);
    }
    for bad in ["-1n", "1.5", r#""any""#, "{}"] {
        assert!(ops::expected_version(&js(bad)).is_err(), "{bad} must be refused");
    }
    assert_eq!(ops::expected_to_js(ExpectedVersion::Exact(3)), JsValue::from(3_u64));
}

#[wasm_bindgen_test]
fn every_error_kind_becomes_its_class_with_its_fields() {
    let errors = [
        Error::ConcurrencyConflict { stream: "order:1".into(), expected: ExpectedVersion::Exact(1), actual: Some(2) },
        Error::StreamTooLarge { stream: "order:1".into(), limit_bytes: 16 },
        Error::InvalidRange { from: 5, to: 3 },
        Error::EmptyAppend { stream: "order:1".into() },
        Error::Misuse { message: "twice".into() },
        Error::Projection {
            stream: "cart:1".into(),
            projection: "summary".into(),
            message: "evolve threw: boom".into(),
        },
        Error::InvalidQuery(QueryError::UnsupportedOperator { operator: "$where".into() }),
        Error::StreamArchived { stream: "shift:1".into(), position: 2, successor: Some("shift:2".into()) },
        Error::StreamArchived { stream: "order:1".into(), position: 4, successor: None },
    ];
    for e in &errors {
        let js = error::to_js(e);
        let error: &js_sys::Error = js.dyn_ref().expect("an Error");
        assert_eq!(String::from(error.name()), format!("{}Error", e.kind()));
        assert_eq!(get(&js, "kind").as_string().as_deref(), Some(e.kind()));
        assert_eq!(get(&get(&js, "details"), "kind").as_string().as_deref(), Some(e.kind()));
    }
    let conflict = error::to_js(&errors[0]);
    assert_eq!(get(&conflict, "streamName").as_string().as_deref(), Some("order:1"));
    assert_eq!(get(&conflict, "expected"), JsValue::from(1_u64));
    assert_eq!(get(&conflict, "actual"), JsValue::from(2_u64));
    assert_eq!(get(&error::to_js(&errors[1]), "limitBytes").as_f64(), Some(16.0));
    assert_eq!(get(&error::to_js(&errors[2]), "to"), JsValue::from(3_u64));
    let projection = error::to_js(&errors[5]);
    assert_eq!(get(&projection, "streamName").as_string().as_deref(), Some("cart:1"));
    assert_eq!(get(&projection, "projection").as_string().as_deref(), Some("summary"));
    assert_eq!(get(&projection, "errorCode").as_f64(), Some(500.0));
    let query = error::to_js(&errors[6]);
    assert_eq!(get(&query, "reason").as_string().as_deref(), Some("unsupportedOperator"));
    assert_eq!(get(&query, "operator").as_string().as_deref(), Some("$where"));
    assert_eq!(get(&query, "errorCode").as_f64(), Some(400.0));
    let archived = error::to_js(&errors[7]);
    assert_eq!(get(&archived, "streamName").as_string().as_deref(), Some("shift:1"));
    assert_eq!(get(&archived, "position"), JsValue::from(2_u64));
    assert_eq!(get(&archived, "successor").as_string().as_deref(), Some("shift:2"));
    assert_eq!(get(&archived, "errorCode").as_f64(), Some(403.0));
    assert!(get(&error::to_js(&errors[8]), "successor").is_null());
    let unsupported = error::to_js(&Error::InvalidConfig(ConfigError::Unsupported {
        option: "segments".into(),
        why: "the Emmett layout keeps one document per stream".into(),
    }));
    assert_eq!(get(&unsupported, "reason").as_string().as_deref(), Some("unsupported"));
    assert_eq!(get(&unsupported, "option").as_string().as_deref(), Some("segments"));
    assert_eq!(get(&unsupported, "name").as_string().as_deref(), Some("segments"));
    // (`name` is InvalidConfigError's field: the refused name.)
    let config = error::to_js(&Error::InvalidConfig(ConfigError::InvalidProjection {
        name: "p".into(),
        why: "it handles no event type".into(),
    }));
    assert!(config.is_instance_of::<js_sys::Error>());
    assert_eq!(get(&config, "kind").as_string().as_deref(), Some("InvalidConfig"));
    assert_eq!(get(&config, "reason").as_string().as_deref(), Some("invalidProjection"));
    assert_eq!(get(&config, "name").as_string().as_deref(), Some("p"));
}

/// The arguments of `appendToStream` read both ways: `[stream, events, options]`.
fn both_ways(args: &str) -> (Option<String>, Result<ops::AppendArguments, JsValue>) {
    let args: js_sys::Array = js(args).unchecked_into();
    let (stream, events, options) = (args.get(0), args.get(1), args.get(2));
    let fast = encoded_append::decode(&stream, &events, &options).map(|a| format!("{a:?}"));
    (fast, ops::append_arguments(&stream, &events, &options))
}

#[wasm_bindgen_test]
fn the_append_fast_path_reads_the_arguments_exactly_as_the_property_reads_do() {
    let same = [
        r#"["order:1", [{ type: "A", data: { by: 1 } }]]"#,
        r#"["ordre:é😀", [{ type: "A", data: null, metadata: undefined, id: null }, { type: "", id: "e-1" }], null]"#,
        r#"["order:1", [{ type: "A", data: { int: 42, negative: -7, big: 2147483648, small: -2147483649, half: 1.5,
            negZero: -0, zero: 0, nan: NaN, inf: -Infinity, max: Number.MAX_VALUE, long: 5n, negLong: -5n,
            maxLong: 2n ** 63n - 1n, minLong: -(2n ** 63n), s: "é😀", lone: "\uD800x\uDC00", empty: "",
            ascii: "x".repeat(70000), wide: "é😀x".repeat(40000), mixed: "abc" + "é".repeat(100), t: true, f: false,
            n: null, u: undefined, when: new Date(86400000), before: new Date(-1), bytes: new Uint8Array([1, 2]),
            view: new Uint8Array([0, 1, 2, 3]).subarray(1, 3), list: [1, [2], undefined, null, "s", { a: 1 }],
            sparse: [, 1], "ключ": { "$set": 1, "a.b": 2, "$": 3, nested: { deeper: [{}] } } },
            metadata: { by: "test", at: new Date(0) } }], { expectedStreamVersion: "STREAM_EXISTS" }]"#,
        r#"["order:1", [{ type: "A", data: Object.assign(Object.create(null), { x: 1 }) }], { expectedStreamVersion: 7n }]"#,
        r#"["order:1", [{ type: "A", data: Object.defineProperty({}, "hidden", { value: 1 }) }], { expectedStreamVersion: 0 }]"#,
        r#"["order:1", [{ type: "A", data: { get computed() { return 2; } } }], { expectedStreamVersion: 2n ** 64n - 1n }]"#,
        r#"["order:1", [], { expectedStreamVersion: "NO_CONCURRENCY_CHECK" }]"#,
        r#"["order:1", [{ type: "A" }], { expectedStreamVersion: "STREAM_DOES_NOT_EXIST" }]"#,
        r#"["order:1", [{ type: "A" }], { expectedStreamVersion: null }]"#,
        r#"["order:1", [{ type: "A", kind: "Event" }]]"#,
        r#"["order:1", [{ type: "A", data: { x: 1 } }], {}]"#,
    ];
    for args in same {
        let (fast, slow) = both_ways(args);
        let slow = slow.unwrap_or_else(|e| panic!("{args}: the slow path refused it: {e:?}"));
        assert_eq!(fast, Some(format!("{slow:?}")), "{args}");
    }
    // What the fast path leaves to the slow one: errors, Extended JSON, odd values.
    let slow_only = [
        r#"[42, [{ type: "A" }]]"#,
        r#"["order:1", "not events"]"#,
        r#"["order:1", [{ data: {} }]]"#,
        r#"["order:1", [null]]"#,
        r#"["order:1", [{ type: "A", data: 5 }]]"#,
        r#"["order:1", [{ type: "A", data: [] }]]"#,
        r#"["order:1", [{ type: "A", metadata: new Date(0) }]]"#,
        r#"["order:1", [{ type: "A", id: 5 }]]"#,
        r#"["order:1", [{ type: "A", data: { f: () => 1 } }]]"#,
        r#"["order:1", [{ type: "A", data: { s: Symbol("s") } }]]"#,
        r#"["order:1", [{ type: "A", data: { big: 2n ** 63n } }]]"#,
        r#"["order:1", [{ type: "A", data: { when: new Date(NaN) } }]]"#,
        r#"["order:1", [{ type: "A", data: { get broken() { throw new Error("no"); } } }]]"#,
        r#"["order:1", [{ type: "A", data: { long: { $numberLong: "5" } } }]]"#,
        r#"["order:1", [{ type: "A", data: { $date: 0 } }]]"#,
        r#"["order:1", [{ type: "A" }], { expectedStreamVersion: "ANY" }]"#,
        r#"["order:1", [{ type: "A" }], { expectedStreamVersion: -1n }]"#,
        r#"["order:1", [{ type: "A" }], { expectedStreamVersion: 2n ** 64n }]"#,
        r#"["order:1", [{ type: "A" }], { expectedStreamVersion: -1 }]"#,
        r#"["order:1", [{ type: "A" }], { expectedStreamVersion: 1.5 }]"#,
        r#"["order:1", [{ type: "A" }], { expectedStreamVersion: {} }]"#,
        r#"["order:1", [{ type: "A" }], 5]"#,
        r#"["order:1", [{ type: "A" }], Object.assign(() => 1, { expectedStreamVersion: 3n })]"#,
        r#"["order:1", [{ type: "A", data: new Number(5) }]]"#,
        r#"["order:1", [{ type: "A", metdata: {} }]]"#,
        r#"["order:1", [{ type: "A", kind: "Command" }]]"#,
        r#"["order:1", [{ type: "A" }], { expectedStreamVersion: 1n, expectedVersion: 1n }]"#,
        r#"["order:1", [{ type: "A", data: { m: new Map([["a", 1]]) } }]]"#,
        r#"["order:1", [{ type: "A", data: (() => { const o = {}; o.self = o; return o; })() }]]"#,
        // Accepted, but by the slow path: an object that is not plain.
        r#"["order:1", [{ type: "A", data: new (class Point { constructor() { this.x = 1; } })() }]]"#,
    ];
    for args in slow_only {
        let (fast, slow) = both_ways(args);
        assert_eq!(fast, None, "{args}: the fast path must leave it to the slow one ({slow:?})");
    }
    for key in values::EXTENDED_JSON_KEYS {
        let (fast, _) = both_ways(&format!(r#"["order:1", [{{ type: "A", data: {{ x: [{{ "{key}": 1 }}] }} }}]]"#));
        assert_eq!(fast, None, "{key} is Extended JSON: the slow path reads it");
    }
    // Extended JSON still converts, the slow way.
    let (_, slow) = both_ways(r#"["order:1", [{ type: "A", data: { long: { $numberLong: "5" } } }]]"#);
    let (_, events, _) = slow.expect("converts");
    assert_eq!(events[0].data.get("long"), Some(&Bson::Int64(5)));
}

/// `depth` levels of `{ x: ... }` around `1`: the innermost field at level `depth`.
fn nested(depth: usize) -> String {
    format!("{}1{}", "{ x: ".repeat(depth), " }".repeat(depth))
}

#[wasm_bindgen_test]
fn deep_cyclic_and_exotic_values_are_refused_with_their_reason() {
    let at_limit = js(&nested(MAX_VALUE_DEPTH));
    assert!(values::to_document(&at_limit, "data", MAX_VALUE_DEPTH).is_ok(), "exactly the limit is accepted");
    for (source, reason) in [
        (nested(MAX_VALUE_DEPTH + 1), "nests deeper than 100 levels"),
        (nested(1000), "nests deeper than 100 levels"),
        (format!("{{ a: {}1{} }}", "[".repeat(200), "]".repeat(200)), "nests deeper than 100 levels"),
        ("(() => { const o = { a: {} }; o.a.b = o; return o; })()".into(), "cyclic"),
        ("(() => { const a = []; a.push(a); return { a }; })()".into(), "cyclic"),
        ("(() => { const o = {}; o.self = o; return { $numberLong: o }; })()".into(), "cyclic"),
        ("{ m: new Map() }".into(), "a Map cannot be stored"),
        ("{ s: new Set([1]) }".into(), "a Set cannot be stored"),
        ("{ r: /x/g }".into(), "a RegExp cannot be stored"),
        ("{ i: new Int32Array(2) }".into(), "a Int32Array cannot be stored"),
        ("{ n: new Number(1) }".into(), "a Number cannot be stored"),
        ("{ p: Promise.resolve(1) }".into(), "a Promise cannot be stored"),
        ("{ f: function named() {} }".into(), "a function cannot be stored"),
        ("{ s: Symbol.iterator }".into(), "a symbol cannot be stored"),
    ] {
        let error = values::to_document(&js(&source), "data", MAX_VALUE_DEPTH).expect_err(&source);
        // Only nesting is "too deep" (core's refusal); a cycle is a value that cannot be stored.
        assert_eq!(
            matches!(error, values::ValueError::TooDeep { limit: 100, .. }),
            reason.starts_with("nests"),
            "{source}"
        );
        assert!(error.to_string().contains(reason), "{source}: {error}");
    }
    // Replies and commands take documents as deep as a stored document may be.
    let stored = js(&nested(MAX_STORED_DEPTH));
    assert!(values::to_document(&stored, "reply", MAX_STORED_DEPTH).is_ok());
    assert!(values::to_document(&js(&nested(MAX_STORED_DEPTH + 1)), "reply", MAX_STORED_DEPTH).is_err());
    // The path of the refused value is in the message.
    let error = values::to_document(&js("{ a: { b: [1, new Map()] } }"), "data", MAX_VALUE_DEPTH).unwrap_err();
    assert!(error.to_string().contains("at a.b.1"), "{error}");
}

#[wasm_bindgen_test]
fn the_archive_operations_round_trip_as_data() {
    let specs = [
        r#"{ op: "status", stream: "shift:1" }"#,
        r#"{ op: "archive", stream: "shift:1", expected: 2n }"#,
        r#"{ op: "closeStream", stream: "shift:1", successor: "shift:2", summary: { id: "s", type: "Opened", data: { n: 1 }, metadata: {} }, expected: "NO_CONCURRENCY_CHECK" }"#,
        r#"{ op: "read", stream: "shift:1", from: 2n, fromArchive: true }"#,
    ];
    for source in specs {
        let spec = ops::op_spec(&js(source)).expect(source);
        let again = ops::op_spec(&ops::op_spec_to_js(&spec, Values::Native)).expect("the inverse reads back");
        assert_eq!(again, spec, "{source}");
    }
    let close = ops::op_spec(&js(specs[2])).expect("closeStream");
    let streamdoc_core::OpSpec::CloseStream { successor, summary, expected, .. } = close else { panic!("{close:?}") };
    assert_eq!(
        (successor.as_str(), summary.event_type.as_str(), expected),
        ("shift:2", "Opened", ExpectedVersion::Any)
    );
    assert_eq!(summary.data, doc! { "n": 1 });
    let read = ops::op_spec(&js(specs[3])).expect("read");
    assert!(matches!(read, streamdoc_core::OpSpec::Read { from_archive: true, .. }), "{read:?}");
    for refused in [
        r#"{ op: "archive", stream: "shift:1", expectedStreamVersion: 2n }"#,
        r#"{ op: "closeStream", stream: "shift:1", successor: "shift:2" }"#,
        r#"{ op: "read", stream: "shift:1", fromArchive: 1 }"#,
        r#"{ op: "status", stream: "shift:1", successor: "x" }"#,
    ] {
        let e = ops::op_spec(&js(refused)).expect_err(refused);
        assert!(e.is_instance_of::<js_sys::TypeError>(), "{refused}");
    }
}

#[wasm_bindgen_test]
fn the_archive_results_have_the_packages_shapes() {
    use streamdoc_core::ops::{ArchiveResult, CloseResult, StreamLink, StreamState, StreamStatus};
    let status = ops::stream_status(&StreamStatus {
        state: StreamState::Live,
        stream_position: 1,
        successor: None,
        predecessor: Some(StreamLink { stream_name: "shift:1".into(), stream_position: 2 }),
    });
    assert_eq!(get(&status, "state").as_string().as_deref(), Some("live"));
    assert_eq!(get(&status, "streamPosition"), JsValue::from(1_u64));
    assert!(!Reflect::has(&status, &JsValue::from_str("successor")).unwrap());
    assert_eq!(get(&get(&status, "predecessor"), "streamPosition"), JsValue::from(2_u64));
    let archived = ops::archive_result(&ArchiveResult { stream_position: 3, successor: Some("shift:2".into()) });
    assert_eq!(get(&archived, "successor").as_string().as_deref(), Some("shift:2"));
    let closed =
        ops::close_result(&CloseResult { closed_at: 3, successor: "shift:2".into(), next_expected_stream_version: 1 });
    assert_eq!(get(&closed, "closedAt"), JsValue::from(3_u64));
    assert_eq!(get(&closed, "nextExpectedStreamVersion"), JsValue::from(1_u64));
}
