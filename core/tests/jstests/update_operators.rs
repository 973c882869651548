//! `$set`, `$inc`, `$push`, `$unset` on top-level, dotted and array paths, and the
//! errors of conflicting or impossible paths.

use bson::{doc, Bson, Document};
use streamdoc_core::Reply;

use super::support::{assert_code, assert_doc, assert_worked, Coll};

fn with(doc: Document) -> Coll {
    let mut t = Coll::new();
    t.seed(doc);
    t
}

fn array(values: &[Bson]) -> Bson {
    Bson::Array(values.to_vec())
}

// jstests/core/write/update/update2.js — $inc on the queried field, with and without an
// index on it.
#[test]
fn update2() {
    for index in [false, true, false] {
        let mut t = with(doc! { "_id": 1, "a": 4 });
        if index {
            assert_worked(&t.create_index(doc! { "a": 1 }, false));
        }
        t.update(doc! { "a": 4 }, doc! { "$inc": { "a": 2 } });
        assert_eq!(t.one().get("a"), Some(&Bson::Int32(6)));
    }
}

// jstests/core/write/update/update3.js — modifier corner cases.
#[test]
fn update3() {
    let mut t = with(doc! { "_id": 1, "a": 1 });
    t.update(doc! {}, doc! { "$inc": { "a": 1 } });
    assert_eq!(t.one().get("a"), Some(&Bson::Int32(2)), "A");

    let mut t = with(doc! { "_id": 1, "a": { "b": 1 } });
    t.update(doc! {}, doc! { "$inc": { "a.b": 1 } });
    assert_doc(&t.one(), &doc! { "_id": 1, "a": { "b": 2 } });

    let mut t = with(doc! { "_id": 1, "a": { "b": 1 } });
    t.update(doc! {}, doc! { "$set": { "a.b": 5 } });
    assert_doc(&t.one(), &doc! { "_id": 1, "a": { "b": 5 } });

    // D: `_id` cannot change (66 ImmutableField).
    let mut t = with(doc! { "_id": 0 });
    assert_code(&t.update(doc! {}, doc! { "$set": { "_id": 5 } }), 66);
    assert_doc(&t.one(), &doc! { "_id": 0 });

    // E: $unset of a missing path is a no-op.
    let mut t = with(doc! { "_id": 1, "a": 1 });
    t.update(doc! {}, doc! { "$unset": { "a": 1, "b.c": 1 } });
    assert_doc(&t.one(), &doc! { "_id": 1 });
}

// jstests/core/write/update/updatea.js — $set / $unset / $inc / $push through array
// positions (SERVER-181, SERVER-273, SERVER-333).
#[test]
fn updatea() {
    let mut t = with(doc! { "_id": 1, "a": [{ "x": 1, "y": 2 }, { "x": 10, "y": 11 }] });
    t.update(doc! {}, doc! { "$set": { "a.0.x": 3 } });
    assert_doc(&t.one(), &doc! { "_id": 1, "a": [{ "x": 3, "y": 2 }, { "x": 10, "y": 11 }] });
    t.update(doc! {}, doc! { "$set": { "a.1.z": 17 } });
    assert_doc(&t.one(), &doc! { "_id": 1, "a": [{ "x": 3, "y": 2 }, { "x": 10, "y": 11, "z": 17 }] });
    t.update(doc! {}, doc! { "$unset": { "a.1.y": 1 } });
    assert_doc(&t.one(), &doc! { "_id": 1, "a": [{ "x": 3, "y": 2 }, { "x": 10, "z": 17 }] });

    let mut t = with(doc! { "_id": 1, "comments": [{ "name": "blah", "rate_up": 0, "rate_ups": [] }] });
    t.update(doc! {}, doc! { "$inc": { "comments.0.rate_up": 1 }, "$push": { "comments.0.rate_ups": 99 } });
    assert_doc(&t.one(), &doc! { "_id": 1, "comments": [{ "name": "blah", "rate_up": 1, "rate_ups": [99] }] });

    let mut a: Vec<Bson> = (0..12).map(Bson::Int32).collect();
    let mut t = with(doc! { "_id": 1, "a": a.clone() });
    assert_doc(&t.one(), &doc! { "_id": 1, "a": a.clone() });
    t.update(doc! {}, doc! { "$inc": { "a.0": 1 } });
    a[0] = Bson::Int32(1);
    assert_doc(&t.one(), &doc! { "_id": 1, "a": a.clone() });
    t.update(doc! {}, doc! { "$inc": { "a.10": 1 } });
    a[10] = Bson::Int32(11);
    assert_doc(&t.one(), &doc! { "_id": 1, "a": a });

    // SERVER-3218: `c000` is a new field next to `c00`.
    let mut t = with(doc! { "_id": 1, "a": { "c00": 1 }, "c": 2 });
    t.update(doc! { "c": 2 }, doc! { "$inc": { "a.c000": 1 } });
    assert_doc(t.one().get_document("a").unwrap(), &doc! { "c00": 1, "c000": 1 });
}

// jstests/core/write/update/updated.js — $set and $inc inside array elements.
#[test]
fn updated() {
    let items = || vec![Bson::Null, Bson::Null, Bson::Null, Bson::Null];
    let mut expected = items();
    let mut t = with(doc! { "_id": 0.25, "items": items() });
    assert_doc(&t.one(), &doc! { "_id": 0.25, "items": expected.clone() });
    expected[0] = Bson::Document(doc! { "amount": 9000, "itemId": 1 });
    t.update(doc! {}, doc! { "$set": { "items.0": expected[0].clone() } });
    assert_doc(&t.one(), &doc! { "_id": 0.25, "items": expected.clone() });
    expected[0] = Bson::Document(doc! { "amount": 10000, "itemId": 1 });
    expected[1] = Bson::Document(doc! { "amount": 1, "itemId": 2 });
    t.update(doc! {}, doc! { "$inc": { "items.0.amount": 1000 }, "$set": { "items.1": expected[1].clone() } });
    assert_doc(&t.one(), &doc! { "_id": 0.25, "items": expected });
}

// jstests/core/write/update/updatee.js — numeric-looking field names are names, not
// array indexes, inside subdocuments (SERVER-1347); leading zeros are distinct names.
#[test]
fn updatee() {
    let original = doc! {
        "_id": 1,
        "actual": { "key1": "val1", "key2": "val2", "001": "val3", "002": "val4", "0020000000000000000000": "val5" },
        "profile-id": "test",
    };
    let mut t = with(original.clone());
    assert_doc(&t.one(), &original);
    t.update(doc! { "profile-id": "test" }, doc! { "$set": { "actual.0030000000000000000000": "val6" } });
    let actual = |t: &Coll, key: &str| t.one().get_document("actual").unwrap().get(key).cloned();
    assert_eq!(actual(&t, "0020000000000000000000"), Some("val5".into()), "A2");
    assert_eq!(actual(&t, "0030000000000000000000"), Some("val6".into()), "A3");
    t.update(doc! { "profile-id": "test" }, doc! { "$set": { "actual.02": "v4" } });
    assert_eq!(actual(&t, "02"), Some("v4".into()), "A4");
    assert_eq!(actual(&t, "002"), Some("val4".into()), "A5");
    t.update(doc! { "_id": 1 }, doc! { "$set": { "actual.2139043290148390248219423941.b": 4 } });
    assert_eq!(actual(&t, "2139043290148390248219423941"), Some(Bson::Document(doc! { "b": 4 })), "A6");
    t.update(doc! { "_id": 1 }, doc! { "$set": { "7213647182934612837492342341": 1 } });
    t.update(doc! { "_id": 1 }, doc! { "$set": { "7213647182934612837492342342": 2 } });
    assert_eq!(t.one().get("7213647182934612837492342341"), Some(&Bson::Int32(1)), "A7 1");
    assert_eq!(t.one().get("7213647182934612837492342342"), Some(&Bson::Int32(2)), "A7 2");
    t.update(doc! { "_id": 1 }, doc! { "$set": { "actual.000": "val000" } });
    assert_eq!(actual(&t, "000"), Some("val000".into()), "A8 zeros");
    t.update(doc! { "_id": 1 }, doc! { "$set": { "actual.00": "val00" } });
    assert_eq!(actual(&t, "00"), Some("val00".into()), "A8 00");
    assert_eq!(actual(&t, "000"), Some("val000".into()), "A9");
    t.update(doc! { "_id": 1 }, doc! { "$set": { "actual.01": "val01" } });
    assert_eq!(actual(&t, "000"), Some("val000".into()), "A11");
    assert_eq!(actual(&t, "01"), Some("val01".into()), "A12");
    // "shouldn't work, but shouldn't do anything too heinous, either": empty path parts
    // are refused (56 EmptyFieldName) and change nothing.
    let before = t.docs();
    for path in ["0..", "0..0", ".0", "..0", "0.0..0"] {
        assert_code(&t.update(doc! { "_id": 1 }, doc! { "$set": { path: "val01" } }), 56);
    }
    assert_eq!(t.docs(), before);
}

// jstests/core/write/update/update_blank1.js — a document with an empty field name can
// be updated (SERVER-2651).
#[test]
fn update_blank1() {
    let mut t = with(doc! { "": 1, "_id": 2, "a": 3, "b": 4 });
    assert_worked(&t.update(doc! {}, doc! { "$set": { "c": 5 } }));
    assert_eq!(t.one(), doc! { "": 1, "_id": 2, "a": 3, "b": 4, "c": 5 });
}

// jstests/core/query/set/set1.js … set4.js — $set of values, dotted paths and siblings.
#[test]
fn set1_to_set4() {
    // set1: a dotted name inside a $set value is stored verbatim.
    let mut t = with(doc! { "_id": 1, "emb": {} });
    t.update(doc! { "_id": 1 }, doc! { "$set": { "emb": { "a.dot": "data" } } });
    assert_doc(&t.one(), &doc! { "_id": 1, "emb": { "a.dot": "data" } });

    // set2
    let mut t = with(doc! { "_id": 1, "x": true, "y": { "x": true } });
    assert_eq!(t.one().get("x"), Some(&Bson::Boolean(true)));
    t.update(doc! { "_id": 1 }, doc! { "$set": { "x": 17 } });
    assert_eq!(t.one().get("x"), Some(&Bson::Int32(17)));
    assert_eq!(t.one().get_document("y").unwrap().get("x"), Some(&Bson::Boolean(true)));
    t.update(doc! { "_id": 1 }, doc! { "$set": { "y.x": 17 } });
    assert_eq!(t.one().get_document("y").unwrap().get("x"), Some(&Bson::Int32(17)));
    t.update(doc! { "_id": 1 }, doc! { "$set": { "a": 2, "b": 3 } });
    assert_eq!(t.one().get("a"), Some(&Bson::Int32(2)));
    assert_eq!(t.one().get("b"), Some(&Bson::Int32(3)));

    // set3: a field name that extends an existing sibling's name.
    let mut t = with(doc! { "_id": 1, "test1": { "test2": { "abcdefghijklmnopqrstu": { "id": 1 } } } });
    t.update(doc! {}, doc! { "$set": { "test1.test2.abcdefghijklmnopqrstuvwxyz": { "id": 2 } } });
    assert_doc(
        &t.one(),
        &doc! { "_id": 1, "test1": { "test2": { "abcdefghijklmnopqrstu": { "id": 1 }, "abcdefghijklmnopqrstuvwxyz": { "id": 2 } } } },
    );

    // set4: an array position and a new subdocument in one update.
    let mut t = with(doc! { "_id": 1, "a": [{ "x": 1 }] });
    t.update(doc! {}, doc! { "$set": { "a.0.x": 2, "foo.bar": 3 } });
    assert_doc(&t.one(), &doc! { "_id": 1, "a": [{ "x": 2 }], "foo": { "bar": 3 } });
    t.update(doc! {}, doc! { "$set": { "a.0.x": 4, "foo.bar": 5 } });
    assert_doc(&t.one(), &doc! { "_id": 1, "a": [{ "x": 4 }], "foo": { "bar": 5 } });
}

// jstests/core/query/set/set6.js — DBRefs are ordinary subdocuments for $set.
#[test]
fn set6() {
    let oid = bson::oid::ObjectId::from_bytes([1; 12]);
    let oid2 = bson::oid::ObjectId::from_bytes([2; 12]);
    let mut t = with(doc! { "_id": 1, "r": { "$ref": "foo", "$id": oid } });
    assert_doc(&t.one(), &doc! { "_id": 1, "r": { "$ref": "foo", "$id": oid } });
    t.update(doc! {}, doc! { "$set": { "r": { "$ref": "foo", "$id": oid2 } } });
    assert_doc(&t.one(), &doc! { "_id": 1, "r": { "$ref": "foo", "$id": oid2 } });
    t.update(doc! {}, doc! { "$set": { "r2": { "$ref": "foo2", "$id": 5 } } });
    assert_doc(&t.one(), &doc! { "_id": 1, "r": { "$ref": "foo", "$id": oid2 }, "r2": { "$ref": "foo2", "$id": 5 } });
    t.update(doc! {}, doc! { "$set": { "r.$id": 2 } });
    assert_eq!(t.one().get_document("r").unwrap().get("$id"), Some(&Bson::Int32(2)));
}

// jstests/core/query/set/set7.js — $set on array indexes: in place, past the end (null
// padding), on a missing field (a subdocument), the padding limit.
#[test]
fn set7() {
    let n = |v: i32| Bson::Int32(v);
    let mut t = with(doc! { "_id": 1, "a": [0, 1, 2, 3] });
    t.update(doc! {}, doc! { "$set": { "a.0": 2 } });
    assert_eq!(t.one().get("a"), Some(&array(&[n(2), n(1), n(2), n(3)])));
    t.update(doc! {}, doc! { "$set": { "a.4": 5 } });
    assert_eq!(t.one().get("a"), Some(&array(&[n(2), n(1), n(2), n(3), n(5)])));
    t.update(doc! {}, doc! { "$set": { "a.9": 9 } });
    let null = Bson::Null;
    assert_eq!(
        t.one().get("a"),
        Some(&array(&[n(2), n(1), n(2), n(3), n(5), null.clone(), null.clone(), null.clone(), null.clone(), n(9)]))
    );

    let mut t = with(doc! { "_id": 1, "a": [0, 1, 2, 3] });
    t.update(doc! {}, doc! { "$set": { "a.9": 9, "a.7": 7 } });
    assert_eq!(
        t.one().get("a"),
        Some(&array(&[n(0), n(1), n(2), n(3), null.clone(), null.clone(), null.clone(), n(7), null.clone(), n(9)]))
    );

    let mut t = with(doc! { "_id": 1, "a": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] });
    t.update(doc! {}, doc! { "$set": { "a.11": 11 } });
    assert_eq!(t.one().get("a"), Some(&Bson::Array((0..=11).map(Bson::Int32).collect())));

    let mut t = with(doc! { "_id": 1 });
    t.update(doc! {}, doc! { "$set": { "a.0": 4 } });
    assert_doc(t.one().get_document("a").unwrap(), &doc! { "0": 4 });

    let mut t = with(doc! { "_id": 1, "a": [] });
    assert_code(&t.update(doc! {}, doc! { "$set": { "a.f": 1 } }), 28);
    assert_eq!(t.one().get("a"), Some(&array(&[])));

    // "Test requiring proper ordering of multiple mods."
    let mut t = with(doc! { "_id": 1, "a": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10] });
    t.update(doc! {}, doc! { "$set": { "a.11": 11, "a.2": -2 } });
    let mut expected: Vec<Bson> = (0..=11).map(Bson::Int32).collect();
    expected[2] = n(-2);
    assert_eq!(t.one().get("a"), Some(&Bson::Array(expected)));

    // Multiple updates to one non-existent array element.
    let mut t = with(doc! { "_id": 1, "a": [] });
    assert_worked(&t.update(doc! {}, doc! { "$set": { "a.2.b": 1, "a.2.c": 1 } }));
    assert_doc(&t.project(doc! { "_id": 0 }), &doc! { "a": [null, null, { "b": 1, "c": 1 }] });

    // SERVER-3750: at most 1500000 nulls of padding.
    let mut t = with(doc! { "_id": 1, "a": [] });
    assert_worked(&t.update(doc! {}, doc! { "$set": { "a.1500000": 1 } }));
    let mut t = with(doc! { "_id": 1, "a": [] });
    assert!(matches!(t.update(doc! {}, doc! { "$set": { "a.1500001": 1 } }), Reply::ServerError { .. }));
    let mut t = with(doc! { "_id": 1, "a": [] });
    assert!(matches!(t.update(doc! {}, doc! { "$set": { "a.1000000000": 1 } }), Reply::ServerError { .. }));
    assert_eq!(t.one().get("a"), Some(&array(&[])));
}

// jstests/core/query/set/set_type_change.js — a $set that changes only the type is a
// modification (nModified 1), also on an indexed field.
#[test]
fn set_type_change() {
    let mut t = Coll::new();
    assert_worked(&t.create_index(doc! { "a": 1 }, false));
    t.seed(doc! { "_id": 1, "a": 2 });
    let reply = t.update(doc! {}, doc! { "$set": { "a": 2_i64 } });
    assert_eq!(reply, Reply::Updated { matched: 1, modified: 1, upserted_id: None });
    assert_eq!(t.one().get("a"), Some(&Bson::Int64(2)));
    assert_eq!(t.find_one(doc! { "a": 2 }, None).map(|d| d.get("a").cloned()), Some(Some(Bson::Int64(2))));
}

// jstests/core/query/inc/inc1.js — $inc by positive and negative amounts; a non-matching
// update changes nothing; with an index on the field.
#[test]
fn inc1() {
    let mut t = with(doc! { "_id": 1, "x": 1 });
    let check = |t: &Coll, x: i32| {
        assert_eq!(t.docs().len(), 1);
        assert_eq!(t.one().get("x"), Some(&Bson::Int32(x)));
    };
    check(&t, 1);
    t.update(doc! { "_id": 1 }, doc! { "$inc": { "x": 1 } });
    check(&t, 2);
    t.update(doc! { "_id": 1 }, doc! { "$inc": { "x": 1 } });
    check(&t, 3);
    t.update(doc! { "_id": 2 }, doc! { "$inc": { "x": 1 } });
    check(&t, 3);
    t.update(doc! { "_id": 1 }, doc! { "$inc": { "x": 2 } });
    check(&t, 5);
    t.update(doc! { "_id": 1 }, doc! { "$inc": { "x": -1 } });
    check(&t, 4);
    assert_worked(&t.create_index(doc! { "x": 1 }, false));
    t.update(doc! { "_id": 1 }, doc! { "$inc": { "x": 1 } });
    check(&t, 5);
}

// jstests/core/query/inc/inc_negative_overflow.js — Int32 overflow and underflow spill
// to Int64; Int64 overflow and underflow are errors that change nothing.
#[test]
fn inc_negative_overflow() {
    let mut t = with(doc! { "_id": 1, "a": i32::MAX });
    let reply = t.update(doc! {}, doc! { "$inc": { "a": 1 } });
    assert!(matches!(reply, Reply::Updated { matched: 1, .. }));
    assert_eq!(t.one().get("a"), Some(&Bson::Int64(2147483648)));

    let mut t = with(doc! { "_id": 1, "a": i32::MIN });
    t.update(doc! {}, doc! { "$inc": { "a": -1 } });
    assert_eq!(t.one().get("a"), Some(&Bson::Int64(-2147483649)));

    let mut t = with(doc! { "_id": 1, "a": i64::MAX });
    assert_code(&t.update(doc! {}, doc! { "$inc": { "a": 1 } }), 2);
    assert_eq!(t.one().get("a"), Some(&Bson::Int64(i64::MAX)));

    let mut t = with(doc! { "_id": 1, "a": i64::MIN });
    assert_code(&t.update(doc! {}, doc! { "$inc": { "a": -1 } }), 2);
    assert_eq!(t.one().get("a"), Some(&Bson::Int64(i64::MIN)));
}

// jstests/core/query/unset/unset.js — $unset of missing paths is a no-op; a subdocument
// emptied by $unset stays.
#[test]
fn unset() {
    let orig = doc! { "_id": 1, "emb": {} };
    let mut t = with(orig.clone());
    t.update(doc! { "_id": 1 }, doc! { "$unset": { "emb.a": 1 } });
    t.update(doc! { "_id": 1 }, doc! { "$unset": { "z": 1 } });
    assert_doc(&t.one(), &orig);
    t.update(doc! { "_id": 1 }, doc! { "$set": { "emb.a": 1 } });
    t.update(doc! { "_id": 1 }, doc! { "$set": { "z": 1 } });
    t.update(doc! { "_id": 1 }, doc! { "$unset": { "emb.a": 1 } });
    t.update(doc! { "_id": 1 }, doc! { "$unset": { "z": 1 } });
    assert_doc(&t.one(), &orig);
    t.update(doc! { "_id": 1 }, doc! { "$unset": { "emb": 1 } });
    assert_doc(&t.one(), &doc! { "_id": 1 });
}

// jstests/core/query/unset/unset2.js — $unset of an array element sets it to null;
// $unset and $set on the same element conflict (40).
#[test]
fn unset2() {
    let s = |v: &str| Bson::String(v.to_owned());
    let mut t = with(doc! { "_id": 1, "a": ["a", "b", "c", "d"] });
    t.update(doc! {}, doc! { "$unset": { "a.3": 1 } });
    assert_eq!(t.one().get("a"), Some(&array(&[s("a"), s("b"), s("c"), Bson::Null])));
    t.update(doc! {}, doc! { "$unset": { "a.1": 1 } });
    assert_eq!(t.one().get("a"), Some(&array(&[s("a"), Bson::Null, s("c"), Bson::Null])));
    t.update(doc! {}, doc! { "$unset": { "a.0": 1 } });
    assert_eq!(t.one().get("a"), Some(&array(&[Bson::Null, Bson::Null, s("c"), Bson::Null])));
    t.update(doc! {}, doc! { "$unset": { "a.4": 1 } });
    assert_eq!(t.one().get("a"), Some(&array(&[Bson::Null, Bson::Null, s("c"), Bson::Null])), "no change");

    let mut t = with(doc! { "_id": 1, "a": ["a", "b", "c", "d", "e"] });
    t.update(doc! {}, doc! { "$unset": { "a.2": 1 }, "$set": { "a.3": 3, "a.4": 4, "a.5": 5 } });
    assert_eq!(t.one().get("a"), Some(&array(&[s("a"), s("b"), Bson::Null, 3.into(), 4.into(), 5.into()])));

    let mut t = with(doc! { "_id": 1, "a": ["a", "b", "c", "d", "e"] });
    assert_code(&t.update(doc! {}, doc! { "$unset": { "a.2": 1 }, "$set": { "a.2": 4 } }), 40);
    assert_eq!(t.one().get("a"), Some(&array(&[s("a"), s("b"), s("c"), s("d"), s("e")])));
}

// jstests/core/query/push/push.js — $push appends (the $pop half is outside the engine).
#[test]
fn push() {
    let mut t = with(doc! { "_id": 2, "a": [1] });
    assert_worked(&t.update(doc! { "_id": 2 }, doc! { "$push": { "a": 2 } }));
    assert_eq!(t.one().get("a"), Some(&array(&[1.into(), 2.into()])));
    assert_worked(&t.update(doc! { "_id": 2 }, doc! { "$push": { "a": 3 } }));
    assert_eq!(t.one().get("a"), Some(&array(&[1.into(), 2.into(), 3.into()])));
}

// jstests/core/write/update/update_invalid1.js — a `$inc` name below `$set` is a field
// name (5.0+), not an operator: the upsert inserts.
#[test]
fn update_invalid1() {
    let mut t = Coll::new();
    t.upsert(doc! { "_id": 5 }, doc! { "$set": { "$inc": { "x": 5 } } });
    // 5.0+: only `$` names at the top of the update document are operators.
    assert_eq!(t.docs().len(), 1, "A1");
}
