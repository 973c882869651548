//! `$` and `.` in field names (MongoDB 5.0+): allowed in stored documents, refused at the
//! top of update paths and replacements, and inside `_id`.

use bson::{doc, Bson};

use super::support::{assert_code, assert_worked, upserted, Coll};

// jstests/core/field_name_validation.js — "Insert command field name validation".
#[test]
fn field_name_validation_insert() {
    let mut t = Coll::new();
    for ok in [
        doc! { "a.b": 1 },
        doc! { "_id.a": 1 },
        doc! { "a": { "a.b": 1 } },
        doc! { "_id": { "a.b": 1 } },
        doc! { "a": { "$b": 1 } },
        doc! { "a": { "_id": [9] } },
        doc! { "a": { "_id": { "$b": 1 } } },
        doc! { "$a": 1 },
        doc! { "valid": 1, "$a": 1 },
        doc! { "$a": { "$b": 1 } },
        doc! { "$ref": 1 },
        doc! { "$id": 1 },
        doc! { "$db": 1 },
    ] {
        assert_worked(&t.insert(ok));
    }
    // `_id` cannot be a regex or an array.
    let regex = Bson::RegularExpression(bson::Regex {
        pattern: "a".to_owned().try_into().unwrap(),
        options: String::new().try_into().unwrap(),
    });
    assert!(matches!(t.insert(doc! { "_id": regex }), streamdoc_core::Reply::ServerError { .. }));
    assert!(matches!(t.insert(doc! { "_id": [9] }), streamdoc_core::Reply::ServerError { .. }));
    // A `$` name is queryable by its dotted path.
    assert_eq!(t.count(doc! { "a.$b": 1 }), 1);
    // `_id` cannot hold `$`-prefixed names (52 DollarPrefixedFieldName).
    assert_code(&t.insert(doc! { "_id": { "$b": 1 } }), 52);
    assert_code(&t.insert(doc! { "_id": { "a": 1, "$b": 1 } }), 52);
    // `$` names are stored as given.
    assert_worked(&t.insert(doc! { "_id": 0, "$valid": 1, "a": 1 }));
    assert_eq!(t.find_one(doc! { "_id": 0 }, None), Some(doc! { "_id": 0, "$valid": 1, "a": 1 }));
    for (id, name) in [(1, "$id"), (2, "$db"), (3, "$ref"), (4, "$alsoValid")] {
        assert_worked(&t.insert(doc! { "_id": id, "$valid": 1, name: 1 }));
    }
}

// jstests/core/field_name_validation.js — "Update command field name validation".
#[test]
fn field_name_validation_update() {
    let mut t = Coll::new();
    // A replacement's dotted name is a name; in $set and in queries it is a path.
    assert_worked(&t.upsert(doc! {}, doc! { "a.b": 1 }));
    assert_eq!(t.count(doc! { "a.b": 1 }), 0);
    assert_eq!(t.count(doc! {}), 1);
    assert_worked(&t.upsert(doc! {}, doc! { "$set": { "a.b": 1 } }));
    assert_eq!(t.count(doc! { "a.b": 1 }), 1);
    assert_worked(&t.update(doc! { "a.b": 1 }, doc! { "$set": { "a.b": 2 } }));
    assert_eq!(t.count(doc! { "a.b": 2 }), 1);
    assert_eq!(t.count(doc! { "a": { "b": 2 } }), 1);
    assert_worked(&t.update(doc! { "a.b": 2 }, doc! { "a.b": 3 }));
    assert_eq!(t.count(doc! { "a.b": 3 }), 0);
    // Upserting an `_id` holding `$` names is refused (52).
    assert_code(&upserted(doc! { "a.b": 1 }, doc! { "_id": { "$invalid": 1 } }).unwrap_err(), 52);
    assert_code(&upserted(doc! { "a.b": 1 }, doc! { "$set": { "_id": { "$invalid": 1 } } }).unwrap_err(), 52);
    assert_code(&upserted(doc! { "a.b": 1 }, doc! { "$setOnInsert": { "_id": { "$invalid": 1 } } }).unwrap_err(), 52);
    // Replacements may hold nested `$` names.
    assert_worked(&t.update(doc! { "a.b": 1 }, doc! { "a": { "$c": 1 } }));
    assert_worked(&t.upsert(doc! { "a.b": 2 }, doc! { "a": { "$c": 1 } }));
    assert_worked(&t.update(doc! { "a.b": 1 }, doc! { "foo": { "$c": 1, "bar": { "$d": 4 } } }));
    // A top-level `$` name makes the document an operator update: 9 FailedToParse.
    for name in ["$c", "$ref", "$id", "$db"] {
        assert_code(&t.update(doc! { "a.b": 1 }, doc! { name: 1 }), 9);
    }
    // Nested reserved names are fine in replacements.
    assert_worked(&t.update(doc! { "a.b": 1 }, doc! { "a": { "$ref": 1 } }));
    assert_worked(&t.update(doc! { "a.b": 1 }, doc! { "b": { "$id": 1 } }));
    assert_worked(&t.update(doc! { "a.b": 1 }, doc! { "c": { "$db": 1 } }));
}

// jstests/core/write/update/updateh.js — `$` cannot start a top-level update path; it may
// start a nested part or appear elsewhere in a name.
#[test]
fn updateh() {
    let mut t = Coll::new();
    t.seed(doc! { "_id": 1, "x": 1 });
    assert_worked(&t.update(doc! { "x": 1 }, doc! { "$set": { "y": 1 } }));
    assert_code(&t.update(doc! { "x": 1 }, doc! { "$set": { "$z": 1 } }), 52);
    assert_code(&t.update(doc! { "x": 1 }, doc! { "$inc": { "$z": 1 } }), 52);
    assert_worked(&t.update(doc! { "x": 1 }, doc! { "$set": { "a.$b": 1 } }));
    assert_worked(&t.update(doc! { "x": 1 }, doc! { "$set": { "a": { "$z": 1 } } }));

    let mut t = Coll::new();
    t.seed(doc! { "_id": 0, "n": 0 });
    for bad in ["$x", "$$$", "$secret.agent.x", "$reffoo", "$idbar", "$dbbaz"] {
        assert_code(&t.update(doc! { "n": 0 }, doc! { "$set": { bad: 1 } }), 52);
    }
    for good in ["sneaky.$x", "secret.agent$.$x", "secret.agent$", "ke$sha", "more$$moreproblem$"] {
        assert_worked(&t.update(doc! { "n": 0 }, doc! { "$set": { good: 1 } }));
    }
    assert_worked(&t.update(doc! { "n": 0 }, doc! { "$set": { "x": { "$ref": "1", "$id": 1, "$db": "1" } } }));
}
