//! Engine-level behaviour: commands in, replies out, stored documents checked.

use bson::{doc, Bson, Document};
use proptest::prelude::*;

use super::*;
use crate::command::codes;
use crate::ids::ObjectIdGenerator;

fn ns() -> Namespace {
    Namespace::new("db", "coll")
}

fn update(engine: &mut Engine, filter: Document, update: Document, upsert: bool) -> Reply {
    engine.execute(&Command::UpdateOne { ns: ns(), filter, update, upsert })
}

fn find(engine: &mut Engine, filter: Document, projection: Option<Document>) -> Reply {
    engine.execute(&Command::FindOne { ns: ns(), filter, projection })
}

fn insert(engine: &mut Engine, document: Document) -> Reply {
    engine.execute(&Command::InsertOne { ns: ns(), document })
}

fn create_index(engine: &mut Engine, keys: Document, name: &str, unique: bool) -> Reply {
    engine.execute(&Command::CreateIndex { ns: ns(), keys, name: name.to_owned(), unique })
}

fn code_of(reply: &Reply) -> i32 {
    match reply {
        Reply::ServerError { code, .. } => *code,
        Reply::DuplicateKey { .. } => codes::DUPLICATE_KEY,
        other => panic!("expected an error, got {other:?}"),
    }
}

fn check(engine: &Engine) {
    for collection in engine.collections.values() {
        collection.check_invariants();
    }
}

/// The append the event store sends (1 event, `$set` of 2 fields, `$setOnInsert` of 4).
fn append(stream: &str, expected: i64, event_id: &str) -> (Document, Document) {
    let (stream_type, stream_id) = stream.split_once(':').unwrap_or((stream, ""));
    let filter = doc! { "streamName": { "$eq": stream }, "metadata.streamPosition": expected };
    let update = doc! {
        "$push": { "events": { "$each": [{
            "type": "Happened",
            "data": { "n": expected },
            "metadata": { "eventId": event_id, "streamName": stream, "streamPosition": expected + 1 },
        }] } },
        "$set": { "metadata.streamPosition": expected + 1, "metadata.updatedAt": bson::DateTime::from_millis(expected) },
        "$setOnInsert": {
            "streamName": stream,
            "metadata.streamId": stream_id,
            "metadata.streamType": stream_type,
            "metadata.createdAt": bson::DateTime::from_millis(0),
        },
    };
    (filter, update)
}

fn store_with_index() -> Engine {
    let mut engine = Engine::new(1);
    assert_eq!(create_index(&mut engine, doc! { "streamName": 1 }, "streamName_1", true), Reply::Acknowledged);
    engine
}

#[test]
fn upsert_builds_the_document_from_the_filter() {
    let mut engine = store_with_index();
    let (filter, upd) = append("order:1", 0, "e1");
    let reply = update(&mut engine, filter, upd, true);
    let expected_id = ObjectIdGenerator::seeded(1).next_id();
    assert_eq!(reply, Reply::Updated { matched: 0, modified: 0, upserted_id: Some(Bson::ObjectId(expected_id)) });
    let stored = engine.documents(&ns()).remove(0);
    // _id first, then the filter's fields in path order, then fields created by operators,
    // appended to their parent in path order.
    let keys: Vec<&str> = stored.keys().map(String::as_str).collect();
    assert_eq!(keys, vec!["_id", "metadata", "streamName", "events"]);
    let metadata: Vec<&str> = stored.get_document("metadata").unwrap().keys().map(String::as_str).collect();
    assert_eq!(metadata, vec!["streamPosition", "createdAt", "streamId", "streamType", "updatedAt"]);
    assert_eq!(stored.get_document("metadata").unwrap().get("streamPosition"), Some(&Bson::Int64(1)));
    assert_eq!(stored.get_array("events").unwrap().len(), 1);
    check(&engine);
}

#[test]
fn appends_match_and_modify() {
    let mut engine = store_with_index();
    let (f, u) = append("order:1", 0, "e1");
    update(&mut engine, f, u, true);
    let (f, u) = append("order:1", 1, "e2");
    assert_eq!(update(&mut engine, f, u, true), Reply::Updated { matched: 1, modified: 1, upserted_id: None });
    let stored = engine.find_document(&ns(), &doc! { "streamName": "order:1" }).unwrap();
    assert_eq!(stored.get_array("events").unwrap().len(), 2);
    assert_eq!(stored.get_document("metadata").unwrap().get("streamPosition"), Some(&Bson::Int64(2)));
    assert_eq!(
        stored.get_document("metadata").unwrap().get_str("streamId").unwrap(),
        "1",
        "$setOnInsert did not run again"
    );
    check(&engine);
}

#[test]
fn stale_position_conflicts_with_duplicate_key() {
    let mut engine = store_with_index();
    let (f, u) = append("order:1", 0, "e1");
    update(&mut engine, f.clone(), u.clone(), true);
    let before = engine.documents(&ns());
    // a second "creation" of the same stream: no match on position 0 any more, the upsert
    // hits the unique index
    let reply = update(&mut engine, f, u, true);
    assert_eq!(
        reply,
        Reply::DuplicateKey {
            message: r#"E11000 duplicate key error collection: db.coll index: streamName_1 dup key: { streamName: "order:1" }"#.into()
        }
    );
    assert_eq!(engine.documents(&ns()), before, "the failed upsert changed nothing");
    // no ObjectId was consumed by the failed upsert
    let (f, u) = append("order:2", 0, "e3");
    let mut ids = ObjectIdGenerator::seeded(1);
    ids.next_id();
    assert_eq!(
        update(&mut engine, f, u, true),
        Reply::Updated { matched: 0, modified: 0, upserted_id: Some(Bson::ObjectId(ids.next_id())) }
    );
    check(&engine);
}

#[test]
fn no_match_without_upsert_counts_nothing() {
    let mut engine = store_with_index();
    let reply = update(&mut engine, doc! { "a": 1 }, doc! { "$set": { "b": 1 } }, false);
    assert_eq!(reply, Reply::Updated { matched: 0, modified: 0, upserted_id: None });
    let other = Namespace::new("db", "none");
    let reply = engine.execute(&Command::UpdateOne {
        ns: other.clone(),
        filter: doc! {},
        update: doc! { "$set": { "b": 1 } },
        upsert: false,
    });
    assert_eq!(reply, Reply::Updated { matched: 0, modified: 0, upserted_id: None });
    assert!(!engine.namespaces().contains(&other), "an update without upsert creates no collection");
}

#[test]
fn identical_set_matches_without_modifying() {
    let mut engine = Engine::new(0);
    insert(&mut engine, doc! { "_id": 1, "a": 1, "e": [] });
    assert_eq!(
        update(&mut engine, doc! { "_id": 1 }, doc! { "$set": { "a": 1 } }, false),
        Reply::Updated { matched: 1, modified: 0, upserted_id: None }
    );
    assert_eq!(
        update(&mut engine, doc! { "_id": 1 }, doc! { "$push": { "e": { "$each": [] } } }, false),
        Reply::Updated { matched: 1, modified: 0, upserted_id: None }
    );
    assert_eq!(
        update(&mut engine, doc! { "_id": 1 }, doc! { "$inc": { "a": 0 } }, false),
        Reply::Updated { matched: 1, modified: 0, upserted_id: None }
    );
}

#[test]
fn upsert_operators_may_overwrite_filter_fields() {
    let mut engine = Engine::new(0);
    update(
        &mut engine,
        doc! { "_id": "s", "n": 5_i64 },
        doc! { "$inc": { "n": 2_i64 }, "$setOnInsert": { "c": true } },
        true,
    );
    assert_eq!(engine.documents(&ns()), vec![doc! { "_id": "s", "n": 7_i64, "c": true }]);
    // filter _id not first: still first in the document
    update(&mut engine, doc! { "k": 1, "_id": "t" }, doc! { "$set": { "z": 1 } }, true);
    assert_eq!(engine.documents(&ns())[1], doc! { "_id": "t", "k": 1, "z": 1 });
}

#[test]
fn upsert_errors() {
    let mut engine = Engine::new(0);
    let reply = update(&mut engine, doc! { "a": 1, "a.b": 1 }, doc! { "$set": { "c": 1 } }, true);
    assert_eq!(
        reply,
        Reply::ServerError {
            code: codes::NOT_SINGLE_VALUE_FIELD,
            message: "cannot infer query fields to set, both paths 'a.b' and 'a' are matched".into()
        }
    );
    let reply = update(&mut engine, doc! { "_id": 1 }, doc! { "$set": { "_id": 2 } }, true);
    assert_eq!(code_of(&reply), codes::IMMUTABLE_FIELD);
    let reply = update(&mut engine, doc! { "_id": [1] }, doc! { "$set": { "c": 1 } }, true);
    assert_eq!(code_of(&reply), 53);
    assert!(engine.documents(&ns()).is_empty());
}

#[test]
fn conflicting_paths_fail_even_without_a_match() {
    let mut engine = Engine::new(0);
    let reply = update(&mut engine, doc! { "x": 1 }, doc! { "$set": { "a": 1 }, "$setOnInsert": { "a.b": 2 } }, false);
    assert_eq!(
        reply,
        Reply::ServerError {
            code: codes::CONFLICTING_UPDATE_OPERATORS,
            message: "Updating the path 'a.b' would create a conflict at 'a'".into()
        }
    );
    assert!(engine.namespaces().is_empty(), "a command that fails to parse creates nothing");
}

#[test]
fn update_error_codes() {
    let mut engine = Engine::new(0);
    insert(&mut engine, doc! { "_id": 1, "s": "x", "events": "nope", "n": i64::MAX });
    let before = engine.documents(&ns());
    let cases = [
        (doc! { "$set": { "s.b": 1 } }, codes::PATH_NOT_VIABLE),
        (doc! { "$push": { "events": 1 } }, codes::BAD_VALUE),
        (doc! { "$inc": { "s": 1 } }, codes::TYPE_MISMATCH),
        (doc! { "$inc": { "n": 1 } }, codes::BAD_VALUE),
        (doc! { "$set": { "_id": 2 } }, codes::IMMUTABLE_FIELD),
        (doc! { "$inc": { "n": "1" } }, codes::TYPE_MISMATCH),
        (doc! { "$set": { "a": 1, "a.b": 1 } }, codes::CONFLICTING_UPDATE_OPERATORS),
    ];
    for (upd, expected) in cases {
        let reply = update(&mut engine, doc! { "_id": 1 }, upd.clone(), false);
        assert_eq!(code_of(&reply), expected, "{upd:?} -> {reply:?}");
        assert_eq!(engine.documents(&ns()), before, "{upd:?} changed nothing");
    }
    let reply = update(&mut engine, doc! { "_id": 1 }, doc! { "$push": { "events": 1 } }, false);
    assert_eq!(
        reply,
        Reply::ServerError {
            code: codes::BAD_VALUE,
            message: "The field 'events' must be an array but is of type string in document {_id: 1}".into()
        }
    );
    check(&engine);
}

#[test]
fn nesting_deeper_than_the_storage_limit_fails() {
    let mut engine = Engine::new(0);
    // `x` is at level 1: a chain of `limit` documents puts the innermost field at `limit + 1`.
    let chain = |levels: usize| {
        let mut deep = Bson::Int32(1);
        for _ in 0..levels {
            deep = Bson::Document(doc! { "d": deep });
        }
        deep
    };
    let deep = chain(crate::limits::MAX_STORED_DEPTH);
    let at_limit = chain(crate::limits::MAX_STORED_DEPTH - 1);
    assert_eq!(code_of(&insert(&mut engine, doc! { "_id": 1, "x": deep.clone() })), codes::OVERFLOW);
    insert(&mut engine, doc! { "_id": 1 });
    assert_eq!(
        code_of(&update(&mut engine, doc! { "_id": 1 }, doc! { "$set": { "x": deep.clone() } }, false)),
        codes::OVERFLOW
    );
    assert_eq!(code_of(&update(&mut engine, doc! { "_id": 2 }, doc! { "$set": { "x": deep } }, true)), codes::OVERFLOW);
    assert_eq!(engine.documents(&ns()), vec![doc! { "_id": 1 }]);
    // Exactly at the limit is stored; an empty subdocument adds no level.
    let reply = update(&mut engine, doc! { "_id": 1 }, doc! { "$set": { "x": at_limit, "e": { "f": {} } } }, false);
    assert!(matches!(reply, Reply::Updated { matched: 1, modified: 1, .. }), "{reply:?}");
}

/// A document `{_id: 1, pad: "…"}` of exactly `size` bytes.
fn padded(size: usize) -> Document {
    let base = bson_size(&doc! { "_id": 1, "pad": "" });
    doc! { "_id": 1, "pad": "x".repeat(size - base) }
}

#[test]
fn sixteen_mib_boundary_on_update() {
    const MAX: usize = 16 * 1024 * 1024;
    let mut engine = Engine::new(0);
    insert(&mut engine, doc! { "_id": 1, "pad": "" });
    // grow to exactly 16 MiB: allowed
    let pad = padded(MAX).get_str("pad").unwrap().to_owned();
    assert_eq!(
        update(&mut engine, doc! { "_id": 1 }, doc! { "$set": { "pad": pad } }, false),
        Reply::Updated { matched: 1, modified: 1, upserted_id: None }
    );
    let at_limit = engine.documents(&ns());
    assert_eq!(bson_size(&at_limit[0]), MAX);
    // any growth is refused (`b: true` adds 4 bytes; the exact one-byte threshold is
    // checked with a small limit below)
    let reply = update(&mut engine, doc! { "_id": 1 }, doc! { "$set": { "b": true } }, false);
    assert_eq!(
        reply,
        Reply::ServerError {
            code: codes::DOCUMENT_TOO_LARGE_AFTER_UPDATE,
            message: format!("Resulting document after update is larger than {MAX}")
        }
    );
    assert_eq!(engine.documents(&ns()), at_limit, "the refused update changed nothing");
    check(&engine);
}

#[test]
fn exact_byte_threshold_with_a_small_limit() {
    // The same rule with a small limit, to hit "one byte more" exactly.
    let max = 100;
    let mut engine = Engine::with_options(0, EngineOptions { max_document_size: max, ..EngineOptions::default() });
    insert(&mut engine, doc! { "_id": 1, "pad": "" });
    let exact = padded(max).get_str("pad").unwrap().to_owned();
    assert_eq!(
        update(&mut engine, doc! { "_id": 1 }, doc! { "$set": { "pad": exact.clone() } }, false),
        Reply::Updated { matched: 1, modified: 1, upserted_id: None }
    );
    let over = format!("{exact}x");
    let reply = update(&mut engine, doc! { "_id": 1 }, doc! { "$set": { "pad": over.clone() } }, false);
    assert_eq!(code_of(&reply), codes::DOCUMENT_TOO_LARGE_AFTER_UPDATE);
    assert_eq!(engine.documents(&ns())[0].get_str("pad").unwrap(), exact);

    // upsert: exactly max passes, one more byte fails with 17420
    let base = bson_size(&doc! { "_id": 2, "pad": "" });
    let reply = update(&mut engine, doc! { "_id": 2 }, doc! { "$set": { "pad": "y".repeat(max - base + 1) } }, true);
    assert_eq!(
        reply,
        Reply::ServerError {
            code: codes::DOCUMENT_TOO_LARGE_TO_UPSERT,
            message: format!("Document to upsert is larger than {max}")
        }
    );
    let reply = update(&mut engine, doc! { "_id": 2 }, doc! { "$set": { "pad": "y".repeat(max - base) } }, true);
    assert_eq!(reply, Reply::Updated { matched: 0, modified: 0, upserted_id: Some(Bson::Int32(2)) });

    // insert: 10334 past the limit
    let reply = insert(&mut engine, doc! { "_id": 3, "pad": "z".repeat(max - base + 1) });
    assert_eq!(code_of(&reply), codes::BSON_OBJECT_TOO_LARGE);
    assert_eq!(
        insert(&mut engine, doc! { "_id": 3, "pad": "z".repeat(max - base) }),
        Reply::Inserted { id: Bson::Int32(3) }
    );
    check(&engine);
}

#[test]
fn sixteen_mib_boundary_on_upsert_and_insert() {
    const MAX: usize = 16 * 1024 * 1024;
    let mut engine = Engine::new(0);
    let exact = padded(MAX).get_str("pad").unwrap().to_owned();
    let reply = update(&mut engine, doc! { "_id": 1 }, doc! { "$set": { "pad": format!("{exact}x") } }, true);
    assert_eq!(code_of(&reply), codes::DOCUMENT_TOO_LARGE_TO_UPSERT);
    assert!(engine.documents(&ns()).is_empty());
    let reply = update(&mut engine, doc! { "_id": 1 }, doc! { "$set": { "pad": exact.clone() } }, true);
    assert_eq!(reply, Reply::Updated { matched: 0, modified: 0, upserted_id: Some(Bson::Int32(1)) });
    let reply = insert(&mut engine, doc! { "_id": 2, "pad": format!("{exact}x") });
    assert_eq!(code_of(&reply), codes::BSON_OBJECT_TOO_LARGE);
}

#[test]
fn insert_generates_ids_and_refuses_duplicates() {
    let mut engine = Engine::new(9);
    let reply = insert(&mut engine, doc! { "a": 1 });
    let first = ObjectIdGenerator::seeded(9).next_id();
    assert_eq!(reply, Reply::Inserted { id: Bson::ObjectId(first) });
    assert_eq!(engine.documents(&ns())[0].keys().next().map(String::as_str), Some("_id"));
    let reply = insert(&mut engine, doc! { "b": 1, "_id": first });
    assert_eq!(
        reply,
        Reply::DuplicateKey {
            message: format!(
                "E11000 duplicate key error collection: db.coll index: _id_ dup key: {{ _id: ObjectId('{}') }}",
                first.to_hex()
            )
        }
    );
    assert_eq!(engine.documents(&ns()).len(), 1);
    // numbers: Int32(5) and Int64(5) are the same _id
    insert(&mut engine, doc! { "_id": 5 });
    assert_eq!(code_of(&insert(&mut engine, doc! { "_id": 5_i64 })), codes::DUPLICATE_KEY);
    assert_eq!(code_of(&insert(&mut engine, doc! { "_id": [1] })), codes::BAD_VALUE);
}

#[test]
fn create_index_rules() {
    let mut engine = store_with_index();
    assert_eq!(
        create_index(&mut engine, doc! { "streamName": 1 }, "streamName_1", true),
        Reply::Acknowledged,
        "idempotent"
    );
    assert_eq!(
        code_of(&create_index(&mut engine, doc! { "other": 1 }, "streamName_1", true)),
        codes::INDEX_KEY_SPECS_CONFLICT
    );
    assert_eq!(
        code_of(&create_index(&mut engine, doc! { "streamName": 1 }, "sn", true)),
        codes::INDEX_OPTIONS_CONFLICT
    );
    assert_eq!(
        code_of(&create_index(&mut engine, doc! { "streamName": 1 }, "streamName_1", false)),
        codes::INDEX_OPTIONS_CONFLICT
    );
    assert_eq!(create_index(&mut engine, doc! { "_id": 1 }, "_id_", false), Reply::Acknowledged);
    assert_eq!(code_of(&create_index(&mut engine, doc! {}, "x", false)), 67);
    assert_eq!(code_of(&create_index(&mut engine, doc! { "a": "hashed" }, "a_hashed", false)), codes::NOT_IMPLEMENTED);
    assert_eq!(engine.index_names(&ns()), vec!["_id_", "streamName_1"]);

    // a unique index over existing duplicates is refused and not created
    insert(&mut engine, doc! { "_id": 1, "k": "x", "streamName": "s1" });
    insert(&mut engine, doc! { "_id": 2, "k": "x", "streamName": "s2" });
    let reply = create_index(&mut engine, doc! { "k": 1 }, "k_1", true);
    assert_eq!(
        reply,
        Reply::DuplicateKey {
            message: r#"E11000 duplicate key error collection: db.coll index: k_1 dup key: { k: "x" }"#.into()
        }
    );
    assert_eq!(engine.index_names(&ns()), vec!["_id_", "streamName_1"]);
    assert_eq!(create_index(&mut engine, doc! { "k": 1 }, "k_1", false), Reply::Acknowledged, "non-unique is fine");
    assert_eq!(engine.documents(&ns()).len(), 2);
    check(&engine);
}

#[test]
fn missing_fields_collide_on_unique_indexes() {
    let mut engine = store_with_index();
    assert!(matches!(insert(&mut engine, doc! { "_id": 1 }), Reply::Inserted { .. }));
    let reply = insert(&mut engine, doc! { "_id": 2 });
    assert_eq!(
        reply,
        Reply::DuplicateKey {
            message: "E11000 duplicate key error collection: db.coll index: streamName_1 dup key: { streamName: null }"
                .into()
        }
    );
    assert_eq!(code_of(&insert(&mut engine, doc! { "_id": 3, "streamName": null })), codes::DUPLICATE_KEY);
}

#[test]
fn unique_violation_by_update_changes_nothing() {
    let mut engine = store_with_index();
    insert(&mut engine, doc! { "_id": 1, "streamName": "a" });
    insert(&mut engine, doc! { "_id": 2, "streamName": "b" });
    let before = engine.documents(&ns());
    let reply = update(&mut engine, doc! { "_id": 2 }, doc! { "$set": { "streamName": "a", "x": 1 } }, false);
    assert_eq!(code_of(&reply), codes::DUPLICATE_KEY);
    assert_eq!(engine.documents(&ns()), before);
    // renaming works and the index follows
    update(&mut engine, doc! { "_id": 2 }, doc! { "$set": { "streamName": "c" } }, false);
    assert!(matches!(insert(&mut engine, doc! { "_id": 3, "streamName": "b" }), Reply::Inserted { .. }));
    assert_eq!(code_of(&insert(&mut engine, doc! { "_id": 4, "streamName": "c" })), codes::DUPLICATE_KEY);
    check(&engine);
}

#[test]
fn find_one_uses_natural_order_and_numeric_equality() {
    let mut engine = Engine::new(0);
    insert(&mut engine, doc! { "_id": 3, "n": 5_i64, "tag": "b" });
    insert(&mut engine, doc! { "_id": 1, "n": 5, "tag": "a" });
    assert_eq!(find(&mut engine, doc! { "n": 5 }, None), Reply::Found(Some(doc! { "_id": 3, "n": 5_i64, "tag": "b" })));
    assert_eq!(
        find(&mut engine, doc! { "n": 5.0, "tag": "a" }, None),
        Reply::Found(Some(doc! { "_id": 1, "n": 5, "tag": "a" }))
    );
    assert_eq!(
        find(&mut engine, doc! { "_id": 1_i64 }, Some(doc! { "tag": 1, "_id": 0 })),
        Reply::Found(Some(doc! { "tag": "a" }))
    );
    assert_eq!(find(&mut engine, doc! { "n": 6 }, None), Reply::Found(None));
    let missing =
        engine.execute(&Command::FindOne { ns: Namespace::new("db", "nope"), filter: doc! {}, projection: None });
    assert_eq!(missing, Reply::Found(None));
    assert_eq!(code_of(&find(&mut engine, doc! { "n": { "$bad": 1 } }, None)), codes::BAD_VALUE);
}

#[test]
fn read_with_slice_and_without() {
    let mut engine = store_with_index();
    for (i, id) in ["e1", "e2", "e3"].into_iter().enumerate() {
        let (f, u) = append("order:1", i as i64, id);
        update(&mut engine, f, u, true);
    }
    let projection = doc! { "events": { "$slice": -1 }, "metadata.streamPosition": 1 };
    let Reply::Found(Some(found)) = find(&mut engine, doc! { "streamName": "order:1" }, Some(projection.clone()))
    else {
        panic!("found nothing");
    };
    let events = found.get_array("events").unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].as_document().unwrap().get_document("metadata").unwrap().get_str("eventId").unwrap(), "e3");
    let keys: Vec<&str> = found.keys().map(String::as_str).collect();
    assert_eq!(keys, vec!["_id", "metadata", "events"]);

    let mut ferret = Engine::with_options(1, EngineOptions { slice_projection: false, ..EngineOptions::default() });
    ferret.collections = engine.collections.clone();
    let reply = ferret.execute(&Command::FindOne {
        ns: ns(),
        filter: doc! { "streamName": "order:1" },
        projection: Some(projection),
    });
    assert_eq!(code_of(&reply), codes::NOT_IMPLEMENTED);
    let plain = ferret.execute(&Command::FindOne {
        ns: ns(),
        filter: doc! { "streamName": "order:1" },
        projection: Some(doc! { "events.metadata.eventId": 1, "_id": 0 }),
    });
    assert_eq!(
        plain,
        Reply::Found(Some(doc! { "events": [
            { "metadata": { "eventId": "e1" } }, { "metadata": { "eventId": "e2" } }, { "metadata": { "eventId": "e3" } }
        ] }))
    );
}

#[test]
fn delete_one_removes_the_first_match() {
    let mut engine = store_with_index();
    insert(&mut engine, doc! { "_id": 1, "k": 1, "streamName": "a" });
    insert(&mut engine, doc! { "_id": 2, "k": 1, "streamName": "b" });
    assert_eq!(engine.execute(&Command::DeleteOne { ns: ns(), filter: doc! { "k": 1 } }), Reply::Deleted { count: 1 });
    assert_eq!(engine.documents(&ns()), vec![doc! { "_id": 2, "k": 1, "streamName": "b" }]);
    assert_eq!(engine.execute(&Command::DeleteOne { ns: ns(), filter: doc! { "k": 9 } }), Reply::Deleted { count: 0 });
    // its unique key is free again
    assert!(matches!(insert(&mut engine, doc! { "_id": 1, "streamName": "a" }), Reply::Inserted { .. }));
    check(&engine);
}

#[test]
fn replacement_keeps_id() {
    let mut engine = Engine::new(0);
    insert(&mut engine, doc! { "_id": 1, "a": 1, "b": 2 });
    assert_eq!(
        update(&mut engine, doc! { "_id": 1 }, doc! { "c": 3 }, false),
        Reply::Updated { matched: 1, modified: 1, upserted_id: None }
    );
    assert_eq!(engine.documents(&ns()), vec![doc! { "_id": 1, "c": 3 }]);
    assert_eq!(
        update(&mut engine, doc! { "_id": 1 }, doc! { "c": 3 }, false),
        Reply::Updated { matched: 1, modified: 0, upserted_id: None }
    );
    assert_eq!(code_of(&update(&mut engine, doc! { "_id": 1 }, doc! { "_id": 2 }, false)), codes::IMMUTABLE_FIELD);
    assert_eq!(code_of(&update(&mut engine, doc! { "_id": 1 }, doc! { "a": 1, "$x": 1 }, false)), 52);
    let reply = update(&mut engine, doc! { "_id": 5, "q": 1 }, doc! { "r": 1 }, true);
    assert_eq!(reply, Reply::Updated { matched: 0, modified: 0, upserted_id: Some(Bson::Int32(5)) });
    assert_eq!(engine.documents(&ns())[1], doc! { "_id": 5, "r": 1 });
    check(&engine);
}

#[test]
fn dotted_and_dollar_names_inside_values_are_stored_verbatim() {
    let mut engine = Engine::new(0);
    insert(&mut engine, doc! { "_id": 1, "events": [] });
    let event = doc! { "data": { "$weird": 1, "a.b": 2 } };
    let reply = update(
        &mut engine,
        doc! { "_id": 1 },
        doc! { "$push": { "events": { "$each": [event.clone()] } }, "$set": { "p": { "x.y": 1 } } },
        false,
    );
    assert_eq!(reply, Reply::Updated { matched: 1, modified: 1, upserted_id: None });
    assert_eq!(engine.documents(&ns()), vec![doc! { "_id": 1, "events": [event], "p": { "x.y": 1 } }]);
}

#[test]
fn collections_appear_with_indexes_and_writes() {
    let mut engine = Engine::new(0);
    let b = Namespace::new("db", "b");
    let a = Namespace::new("db", "a");
    engine.execute(&Command::CreateIndex { ns: b.clone(), keys: doc! { "x": 1 }, name: "x_1".into(), unique: false });
    engine.execute(&Command::InsertOne { ns: a.clone(), document: doc! { "x": 1 } });
    assert_eq!(engine.namespaces(), vec![a.clone(), b.clone()]);
    assert_eq!(engine.index_names(&b), vec!["_id_", "x_1"]);
    assert!(engine.index_names(&Namespace::new("db", "c")).is_empty());
    assert!(engine.documents(&Namespace::new("db", "c")).is_empty());
}

#[test]
fn hot_path_uses_the_unique_index() {
    let mut engine = store_with_index();
    for i in 0..50 {
        let (f, u) = append(&format!("order:{i}"), 0, "e");
        update(&mut engine, f, u, true);
    }
    let collection = &engine.collections[&ns()];
    let (filter, _) = append("order:7", 1, "e");
    let parsed = Filter::parse(&filter).unwrap();
    assert!(matches!(collection.candidates_for_test(&parsed), Some(1)), "an index lookup, not a scan");
    let by_position = doc! { "metadata.streamPosition": 1_i64 };
    let parsed = Filter::parse(&by_position).unwrap();
    assert!(collection.candidates_for_test(&parsed).is_none(), "no index on the position: a scan");
}

// ---- properties ----------------------------------------------------------------

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("b".to_owned()),
        Just("a.b".to_owned()),
        Just("a.0".to_owned()),
        Just("e".to_owned()),
        Just("e.1".to_owned()),
        Just("e.x".to_owned()),
        Just("_id".to_owned()),
        Just("n".to_owned()),
    ]
}

fn small_value() -> impl Strategy<Value = Bson> {
    prop_oneof![
        any::<i32>().prop_map(Bson::Int32),
        (-3_i64..3).prop_map(Bson::Int64),
        Just(Bson::Int64(i64::MAX)),
        Just(Bson::Double(1.5)),
        "[xy]{0,2}".prop_map(Bson::String),
        Just(Bson::Null),
        Just(Bson::Array(vec![Bson::Int32(1), Bson::Document(doc! { "x": 1 })])),
        Just(Bson::Document(doc! { "b": 1 })),
        Just(Bson::Document(doc! { "$each": [1, 2], "$slice": -2 })),
    ]
}

fn operator_update() -> impl Strategy<Value = Document> {
    let op = prop_oneof![Just("$set"), Just("$setOnInsert"), Just("$inc"), Just("$push"), Just("$unset")];
    proptest::collection::vec((op, path(), small_value()), 1..4).prop_map(|ops| {
        let mut update = Document::new();
        for (op, path, value) in ops {
            let entry = update.entry(op).or_insert_with(|| Bson::Document(Document::new()));
            if let Bson::Document(fields) = entry {
                fields.insert(path, value);
            }
        }
        update
    })
}

fn command() -> impl Strategy<Value = Command> {
    let filter = prop_oneof![
        Just(doc! {}),
        (0..4_i32).prop_map(|i| doc! { "_id": i }),
        small_value().prop_map(|v| doc! { "a": v }),
        (path(), small_value()).prop_map(|(p, v)| doc! { p: { "$eq": v } }),
        small_value().prop_map(|v| doc! { "n": { "$gte": v } }),
    ];
    prop_oneof![
        (filter.clone(), operator_update(), any::<bool>()).prop_map(|(filter, update, upsert)| Command::UpdateOne {
            ns: ns(),
            filter,
            update,
            upsert
        }),
        (filter.clone(), super::bson_size::tests::document(), any::<bool>())
            .prop_map(|(filter, update, upsert)| Command::UpdateOne { ns: ns(), filter, update, upsert }),
        ((0..4_i32), small_value(), small_value())
            .prop_map(|(id, a, e)| Command::InsertOne { ns: ns(), document: doc! { "_id": id, "a": a, "e": e } }),
        super::bson_size::tests::document().prop_map(|document| Command::InsertOne { ns: ns(), document }),
        filter.clone().prop_map(|filter| Command::DeleteOne { ns: ns(), filter }),
        (super::bson_size::tests::document(), proptest::option::of(super::bson_size::tests::document()))
            .prop_map(|(filter, projection)| Command::FindOne { ns: ns(), filter, projection }),
        (path(), any::<bool>()).prop_map(|(p, unique)| Command::CreateIndex {
            ns: ns(),
            keys: doc! { p.clone(): 1 },
            name: format!("{p}_1"),
            unique
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any command sequence: no panic, cached sizes and index entries stay exact, and a
    /// command that fails changes nothing.
    #[test]
    fn commands_keep_the_store_consistent(commands in proptest::collection::vec(command(), 1..25)) {
        let mut engine = Engine::with_options(3, EngineOptions { max_document_size: 400, ..EngineOptions::default() });
        for command in &commands {
            let before = engine.documents(command.namespace());
            let indexes_before = engine.index_names(command.namespace());
            let reply = engine.execute(command);
            if matches!(reply, Reply::ServerError { .. } | Reply::DuplicateKey { .. }) {
                prop_assert_eq!(engine.documents(command.namespace()), before, "{:?} -> {:?}", command, reply);
                if !indexes_before.is_empty() {
                    prop_assert_eq!(engine.index_names(command.namespace()), indexes_before);
                }
            }
            check(&engine);
        }
    }
}

/// The append the event store sends, on one of a few streams, at a few positions.
fn append_command() -> impl Strategy<Value = Command> {
    ((0..3_u8), (0..4_i64), any::<bool>()).prop_map(|(stream, expected, upsert)| {
        let (filter, update) = append(&format!("order:{stream}"), expected, "e");
        Command::UpdateOne { ns: ns(), filter, update, upsert }
    })
}

fn any_command() -> impl Strategy<Value = Command> {
    let stream_index = Command::CreateIndex {
        ns: ns(),
        keys: doc! { "streamName": 1 },
        name: "streamName_1".to_owned(),
        unique: true,
    };
    prop_oneof![4 => command(), 3 => append_command(), 1 => Just(stream_index)]
}

/// Documents compared bit for bit (a NaN equals itself, `Int32(1)` is not `Int64(1)`).
fn same_documents(a: &[Document], b: &[Document]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| super::compare::identical_documents(x, y))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// `execute_owned` (values moved out of the command) and `execute` (values cloned)
    /// answer alike and leave the same documents and indexes, failures included.
    #[test]
    fn owned_and_borrowed_execution_agree(commands in proptest::collection::vec(any_command(), 1..25)) {
        // Room for two events per stream: a third is refused (17419) and rolled back.
        let options = EngineOptions { max_document_size: 500, ..EngineOptions::default() };
        let mut borrowed = Engine::with_options(3, options);
        let mut owned = Engine::with_options(3, options);
        for command in commands {
            let ns = command.namespace().clone();
            let shown = format!("{command:?}");
            let expected = borrowed.execute(&command);
            let reply = owned.execute_owned(command);
            // Debug output shows every value exactly (NaN included).
            prop_assert_eq!(format!("{reply:?}"), format!("{expected:?}"), "{}", shown);
            prop_assert!(same_documents(&owned.documents(&ns), &borrowed.documents(&ns)), "{}", shown);
            prop_assert_eq!(owned.index_names(&ns), borrowed.index_names(&ns));
            check(&owned);
        }
    }
}

#[test]
fn an_update_through_an_array_position_reindexes() {
    let mut engine = Engine::new(0);
    create_index(&mut engine, doc! { "a.b": 1 }, "a.b_1", true);
    insert(&mut engine, doc! { "_id": 0, "a": [1, { "x": 1 }] });
    insert(&mut engine, doc! { "_id": 1, "a": [{ "b": 1 }] });
    // `a.0` is not a prefix of `a.b`, but the index reads `b` in every element of `a`.
    let reply = update(&mut engine, doc! { "_id": 0 }, doc! { "$set": { "a.0": { "b": 1 } } }, false);
    assert_eq!(code_of(&reply), codes::DUPLICATE_KEY);
    check(&engine);
    let reply = update(&mut engine, doc! { "_id": 0 }, doc! { "$set": { "a.0": { "b": 2 } } }, false);
    assert_eq!(reply, Reply::Updated { matched: 1, modified: 1, upserted_id: None });
    assert_eq!(
        engine.find_document(&ns(), &doc! { "a.b": 2 }).and_then(|d| d.get("_id").cloned()),
        Some(Bson::Int32(0)),
        "found through the index"
    );
    check(&engine);
}
