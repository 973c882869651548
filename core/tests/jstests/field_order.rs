//! The order of fields after an update or upsert: existing fields stay in place, new
//! fields are appended to their parent, and the new fields of one update are created in
//! lexicographic path order (MongoDB 5.0+), whatever the order of the operators.

use bson::{doc, Bson};

use super::support::{assert_doc, keys, upserted, Coll};

// jstests/core/write/update/updatek.js — `1.b` and `01.c` address the fields `1` and
// `01` (numeric-looking names are names, SERVER-4776); the fields keep their places.
#[test]
fn updatek() {
    let mut t = Coll::new();
    t.seed(doc! { "_id": 0, "1": {}, "01": {} });
    t.update(doc! {}, doc! { "$set": { "1.b": 1, "1.c": 2 } });
    assert_doc(&t.one(), &doc! { "_id": 0, "1": { "b": 1, "c": 2 }, "01": {} });

    let mut t = Coll::new();
    t.seed(doc! { "_id": 0, "1": {}, "01": {} });
    t.update(doc! {}, doc! { "$set": { "1.b": 1, "01.c": 2 } });
    assert_doc(&t.one(), &doc! { "_id": 0, "1": { "b": 1 }, "01": { "c": 2 } });
}

// jstests/core/write/update/update6.js — $inc on an existing field keeps the key order;
// a new field `0e` is appended; `b3.0719` is a new (fifth) name, not an array index.
#[test]
fn update6() {
    let mut t = Coll::new();
    t.seed(doc! { "_id": 1, "a": 1, "b": { "c": 1, "d": 1 } });
    t.update(doc! { "a": 1 }, doc! { "$inc": { "b.c": 1 } });
    assert_eq!(t.one().get_document("b").unwrap().get("c"), Some(&Bson::Int32(2)), "A");
    assert_eq!(keys(t.one().get_document("b").unwrap()), vec!["c", "d"], "B");
    t.update(doc! { "a": 1 }, doc! { "$inc": { "b.0e": 1 } });
    assert_eq!(t.one().get_document("b").unwrap().get("0e"), Some(&Bson::Int32(1)), "C");
    assert_doc(t.one().get_document("b").unwrap(), &doc! { "c": 2, "d": 1, "0e": 1 });

    for other in [false, true] {
        let mut t = Coll::new();
        let mut seed = doc! { "_id": 2, "b3": { "0720": 5, "0721": 12, "0722": 11, "0723": 3 } };
        if other {
            seed.insert("b324", doc! { "0720": 1 });
        }
        t.seed(seed);
        let b3 = |t: &mut Coll| {
            t.find_one(doc! { "_id": 2 }, Some(doc! { "b3": 1 })).unwrap().get_document("b3").unwrap().clone()
        };
        assert_eq!(b3(&mut t).len(), 4, "ks before");
        t.upsert(doc! { "_id": 2 }, doc! { "$inc": { "b3.0719": 1 } });
        assert_eq!(keys(&b3(&mut t)), vec!["0720", "0721", "0722", "0723", "0719"], "ks after");
    }
}

// jstests/core/write/update/updateg.js — paths whose names sort around '.' (`all.t`,
// `all-copy.t`; `all11.t`, `all2.t`) are distinct (SERVER-3370); new ones in byte order.
#[test]
fn updateg() {
    let got = upserted(doc! {}, doc! { "$inc": { "all.t": 1, "all-copy.t": 1 } }).unwrap();
    assert_eq!(&keys(&got)[1..], ["all", "all-copy"]);
    assert_eq!(
        (got.get_document("all").unwrap(), got.get_document("all-copy").unwrap()),
        (&doc! { "t": 1 }, &doc! { "t": 1 })
    );

    let mut t = Coll::new();
    t.seed(doc! { "_id": 1, "all": {}, "all-copy": {} });
    t.update(doc! {}, doc! { "$inc": { "all.t": 1, "all-copy.t": 1 } });
    assert_eq!(t.count(doc! { "all": { "t": 1 }, "all-copy": { "t": 1 } }), 1);

    let mut t = Coll::new();
    t.seed(doc! { "_id": 1, "all11": {}, "all2": {} });
    t.update(doc! {}, doc! { "$inc": { "all11.t": 1, "all2.t": 1 } });
    assert_eq!(t.count(doc! { "all11": { "t": 1 }, "all2": { "t": 1 } }), 1);
}

// jstests/core/query/inc/inc3.js — $inc in either operand order keeps the stored order.
#[test]
fn inc3() {
    for (seed, expected) in [
        (doc! { "_id": 1, "z": 1, "a": 1 }, doc! { "_id": 1, "z": 3, "a": 3 }),
        (doc! { "_id": 1, "a": 1, "z": 1 }, doc! { "_id": 1, "a": 3, "z": 3 }),
    ] {
        let mut t = Coll::new();
        t.seed(seed);
        t.update(doc! {}, doc! { "$inc": { "z": 1, "a": 1 } });
        t.update(doc! {}, doc! { "$inc": { "a": 1, "z": 1 } });
        assert_doc(&t.one(), &expected);
    }
}
