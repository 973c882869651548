//! The 16 MiB document limit.

use bson::doc;
use streamdoc_core::engine::bson_size;

use super::support::{assert_code, assert_worked, Coll};

const MAX: usize = 16 * 1024 * 1024;

// jstests/core/query/bson_size_limit.js — a document of exactly 16 MiB (`{_id: 1, x:
// "a" × (16 MiB − 26)}`, `_id` a double) is stored and found.
#[test]
fn bson_size_limit() {
    let doc = doc! { "_id": 1.0, "x": "a".repeat(MAX - 26) };
    assert_eq!(bson_size(&doc), MAX);
    let mut t = Coll::new();
    assert_worked(&t.insert(doc.clone()));
    assert_eq!(t.find_one(doc! {}, None).map(|d| bson_size(&d)), Some(MAX));
    // One byte more is refused (10334 BSONObjectTooLarge).
    let mut t = Coll::new();
    assert_code(&t.insert(doc! { "_id": 1.0, "x": "a".repeat(MAX - 25) }), 10334);
}

// jstests/core/query/push/push2.js — pushing 700 000-byte strings eventually fails
// (17419: the document would pass 16 MiB), and the failed push changes nothing.
#[test]
fn push2() {
    let mut t = Coll::new();
    t.seed(doc! { "_id": 1, "a": [] });
    let s = ",".repeat(699_999);
    let mut failed = None;
    for x in 0..100 {
        let reply = t.update(doc! {}, doc! { "$push": { "a": s.clone() } });
        if matches!(reply, streamdoc_core::Reply::ServerError { .. }) {
            failed = Some((x, reply));
            break;
        }
    }
    let (pushes, reply) = failed.expect("should have gotten error");
    assert_code(&reply, 17419);
    assert_eq!(t.one().get_array("a").unwrap().len(), pushes);
}
