//! Unique indexes: `_id`, secondary unique indexes, E11000 on insert, update and upsert.

use bson::{doc, Bson};
use streamdoc_core::command::codes;
use streamdoc_core::Reply;

use super::support::{assert_code, assert_worked, Coll};

// jstests/core/write/uniqueness.js — `_id` is unique; a replacement cannot change `_id`;
// a unique index over duplicates is refused with E11000; the message's fixed format; a
// replacement keeps `_id`.
#[test]
fn uniqueness() {
    let mut t = Coll::new();
    assert_worked(&t.insert(doc! { "_id": 3 }));
    assert_code(&t.insert(doc! { "_id": 3 }), codes::DUPLICATE_KEY);
    assert_eq!(t.docs().len(), 1);
    assert_worked(&t.insert(doc! { "_id": 4, "x": 99 }));
    assert!(matches!(t.update(doc! { "_id": 4 }, doc! { "_id": 3, "x": 99 }), Reply::ServerError { .. }));
    assert!(t.find_one(doc! { "_id": 4 }, None).is_some());

    let mut t = Coll::new();
    t.seed(doc! { "_id": 0, "a": 3 });
    t.seed(doc! { "_id": 1, "a": 3 });
    assert_eq!(t.docs().len(), 2);
    match t.create_index(doc! { "a": 1 }, true) {
        Reply::DuplicateKey { message } => assert!(message.starts_with("E11000"), "{message}"),
        other => panic!("{other:?}"),
    }

    // The shell's `{_id: 1}` is a double.
    let mut t = Coll::new();
    assert_worked(&t.insert(doc! { "_id": 1.0 }));
    let reply = t.insert(doc! { "_id": 1.0 });
    assert_code(&reply, codes::DUPLICATE_KEY);
    let Reply::DuplicateKey { message } = reply else { unreachable!() };
    assert!(
        message.contains("E11000 duplicate key error collection: test.coll index: _id_ dup key: { _id: 1.0 }"),
        "{message}"
    );

    for seed in [doc! { "_id": "Z" }, doc! { "_id": "Z", "k": 3 }] {
        let mut t = Coll::new();
        t.seed(seed);
        assert_worked(&t.update(doc! {}, doc! { "k": 2 }));
        assert_eq!(t.one().get("_id"), Some(&Bson::from("Z")), "adding back _id");
    }
}

// jstests/core/index/indexa.js — a unique index refuses a duplicate insert and a
// replacement that would duplicate a key.
#[test]
fn indexa() {
    let mut t = Coll::new();
    assert_worked(&t.create_index(doc! { "x": 1 }, true));
    t.insert(doc! { "x": "A" });
    t.insert(doc! { "x": "B" });
    assert_code(&t.insert(doc! { "x": "A" }), codes::DUPLICATE_KEY);
    assert_eq!(t.docs().len(), 2, "indexa 1");
    assert_code(&t.update(doc! { "x": "B" }, doc! { "x": "A" }), codes::DUPLICATE_KEY);
    let xs: Vec<_> = t.docs().iter().map(|d| d.get("x").cloned()).collect();
    assert_eq!(xs, vec![Some("A".into()), Some("B".into())], "unique index update is broken");
}

// jstests/core/write/insert/insert_illegal_doc.js — a compound index over two arrays of
// one document (171 CannotIndexParallelArrays) refuses the upsert, the insert and the
// update, and nothing is written.
#[test]
fn insert_illegal_doc() {
    let mut t = Coll::new();
    assert_worked(&t.create_index(doc! { "a": 1, "b": 1 }, false));
    assert_code(&t.upsert(doc! { "_id": 1 }, doc! { "_id": 1, "a": [1, 2, 3], "b": [4, 5, 6] }), 171);
    assert_eq!(t.docs().len(), 0, "should not be a doc");
    assert_code(&t.insert(doc! { "_id": 1, "a": [1, 2, 3], "b": [4, 5, 6] }), 171);
    assert_eq!(t.docs().len(), 0, "should not be a doc");
    assert_worked(&t.insert(doc! { "_id": 1 }));
    assert_code(&t.update(doc! { "_id": 1 }, doc! { "$set": { "a": [1, 2, 3], "b": [4, 5, 6] } }), 171);
    assert_eq!(t.one().get("a"), None, "update should have failed");
}

// jstests/noPassthrough/query/update/upsert_duplicate_key_retry.js — "Confirm
// DuplicateKey error for cases that should not be retried": the key an upsert writes is
// not the one its query asked for.
#[test]
fn upsert_duplicate_key_not_retried() {
    let mut t = Coll::new();
    assert_worked(&t.create_index(doc! { "x": 1 }, true));
    assert_worked(&t.insert(doc! { "_id": 1, "a": 12345 }));
    // A replacement upsert inserts `{}` (x missing, i.e. null), as the existing document.
    assert_code(&t.upsert(doc! { "x": 3 }, doc! {}), codes::DUPLICATE_KEY);
    let mut t = Coll::new();
    assert_worked(&t.create_index(doc! { "x": 1 }, true));
    assert_worked(&t.insert(doc! { "x": 3 }));
    assert_worked(&t.insert(doc! { "x": 4 }));
    assert_code(&t.upsert(doc! { "x": 3 }, doc! { "$inc": { "x": 1 } }), codes::DUPLICATE_KEY);
}
