//! Find projections: `$slice`, inclusion and exclusion, `_id`, dotted paths, collisions.

use bson::{doc, Bson, Document};

use super::support::{assert_doc, Coll};

fn with(doc: Document) -> Coll {
    let mut t = Coll::new();
    t.seed(doc);
    t
}

fn ints(values: &[i32]) -> Bson {
    Bson::Array(values.iter().copied().map(Bson::Int32).collect())
}

/// `testSingleDocument` of slice1.js: insert `input`, project, drop `_id` unless kept.
fn single(projection: Document, input: Document, delete_id: bool) -> Document {
    let mut t = with(input);
    let mut out = t.project(projection);
    if delete_id {
        out.remove("_id");
    }
    out
}

// jstests/core/query/project/slice1.js — `$slice: n`, `$slice: -n`, `[skip, limit]`.
#[test]
fn slice1_counts_and_ranges() {
    let mut t = with(doc! { "_id": 1, "a": [0, 1, 2, 3, 4, 5, -5, -4, -3, -2, -1], "b": 1, "c": 1 });
    let a = |t: &mut Coll, slice: Bson| t.project(doc! { "a": { "$slice": slice } }).get("a").cloned();
    assert_eq!(a(&mut t, 3.into()), Some(ints(&[0, 1, 2])), "1");
    assert_eq!(a(&mut t, (-3).into()), Some(ints(&[-3, -2, -1])), "2");
    assert_eq!(a(&mut t, ints(&[2, 3])), Some(ints(&[2, 3, 4])), "3");
    assert_eq!(a(&mut t, ints(&[-5, 4])), Some(ints(&[-5, -4, -3, -2])), "4");
    assert_eq!(a(&mut t, ints(&[-5, 10])), Some(ints(&[-5, -4, -3, -2, -1])), "5");

    // Interaction with other fields: alone, $slice is an exclusion projection.
    let out = t.project(doc! { "a": { "$slice": 3 } });
    assert_doc(&out, &doc! { "_id": 1, "a": [0, 1, 2], "b": 1, "c": 1 });
    let out = t.project(doc! { "a": { "$slice": 3 }, "b": true });
    assert_doc(&out, &doc! { "_id": 1, "a": [0, 1, 2], "b": 1 });
    let out = t.project(doc! { "a": { "$slice": 3 }, "b": false });
    assert_doc(&out, &doc! { "_id": 1, "a": [0, 1, 2], "c": 1 });
}

// jstests/core/query/project/slice1.js — $slice in inclusion and exclusion projections.
#[test]
fn slice1_inclusion_and_exclusion() {
    let comments = || {
        vec![
            Bson::Document(doc! { "id": 0, "text": "a" }),
            Bson::Document(doc! { "id": 1, "text": "b" }),
            Bson::Document(doc! { "id": 2, "text": "c" }),
            Bson::Document(doc! { "id": 3, "text": "d" }),
        ]
    };
    let mut t = with(doc! { "_id": 1, "comments": comments(), "title": "foo" });
    let first_two = Bson::Array(comments()[..2].to_vec());
    let out = t.project(doc! { "comments": { "$slice": 2 }, "irrelevantField": 1 });
    assert_eq!((out.get("comments"), out.get("title")), (Some(&first_two), None));
    let out = t.project(doc! { "comments": { "$slice": 2 } });
    assert_eq!((out.get("comments"), out.get("title")), (Some(&first_two), Some(&Bson::from("foo"))));
    let out = t.project(doc! { "comments": { "$slice": 2 }, "title": 0 });
    assert_eq!((out.get("comments"), out.get("title")), (Some(&first_two), None));
}

// jstests/core/query/project/slice1.js — nested arrays are sliced one level deep; a
// `$slice` under a path reaches into arrays of documents but not into arrays of arrays.
#[test]
fn slice1_nesting() {
    let mut t = with(doc! { "_id": 1, "a": [[1, 1, 1], [2, 2, 2], [3, 3, 3]], "b": 1, "c": 1 });
    assert_eq!(t.project(doc! { "a": { "$slice": 1 } }).get("a"), Some(&Bson::Array(vec![ints(&[1, 1, 1])])));
    assert_eq!(t.project(doc! { "a": { "$slice": -1 } }).get("a"), Some(&Bson::Array(vec![ints(&[3, 3, 3])])));
    assert_eq!(
        t.project(doc! { "a": { "$slice": [0, 2] } }).get("a"),
        Some(&Bson::Array(vec![ints(&[1, 1, 1]), ints(&[2, 2, 2])]))
    );

    let cases = [
        (doc! { "_id": 1, "a": { "b": [1, 2, 3] } }, doc! { "_id": 1, "a": { "b": [2] } }),
        (doc! { "_id": 2, "a": [{ "b": [1, 2, 3] }] }, doc! { "_id": 2, "a": [{ "b": [2] }] }),
        (doc! { "_id": 3, "a": [[{ "b": [1, 2, 3] }]] }, doc! { "_id": 3, "a": [[{ "b": [1, 2, 3] }]] }),
        (
            doc! { "_id": 4, "a": [[{ "b": [1, 2, 3] }], { "b": [1, 2, 3] }, 1, null, {}] },
            doc! { "_id": 4, "a": [[{ "b": [1, 2, 3] }], { "b": [2] }, 1, null, {}] },
        ),
    ];
    for (input, expected) in cases {
        assert_doc(&single(doc! { "a": { "b": { "$slice": [1, 1] } } }, input, false), &expected);
    }
    assert_doc(
        &single(
            doc! { "a.b.c.d.e": { "$slice": [1, 1] } },
            doc! { "a": [{ "b": [{ "c": [{ "d": [{ "e": [1, 2, 3] }] }] }] }] },
            true,
        ),
        &doc! { "a": [{ "b": [{ "c": [{ "d": [{ "e": [2] }] }] }] }] },
    );
}

// jstests/core/query/project/slice1.js — "unlimited array depth" of the inclusion and
// exclusion parts next to a `$slice`, and several `$slice`s in one projection.
#[test]
fn slice1_with_inclusion_exclusion_under_arrays() {
    let input = doc! { "a": [
        { "b": { "c": [1, 2, 3], "d": 123 } },
        [{ "b": { "c": [1, 2, 3], "d": 123 } }, { "b": { "c": [4, 5, 6], "d": 456 } }],
        { "b": [{ "c": [1, 2, 3], "d": 123 }, { "c": [4, 5, 6], "d": 456 }] },
        { "b": [[{ "c": [1, 2, 3], "d": 123 }], [{ "c": [4, 5, 6], "d": 456 }]] },
    ] };
    // Inclusion of `d` (the jstest compares with docEq: field order not asserted).
    let got = single(doc! { "a": { "b": { "c": { "$slice": [1, 1] }, "d": 1 } } }, input.clone(), true);
    assert_eq!(
        got,
        doc! { "a": [
            { "b": { "c": [2], "d": 123 } },
            [{ "b": { "c": [1, 2, 3], "d": 123 } }, { "b": { "c": [4, 5, 6], "d": 456 } }],
            { "b": [{ "c": [2], "d": 123 }, { "c": [5], "d": 456 }] },
            { "b": [[{ "c": [1, 2, 3], "d": 123 }], [{ "c": [4, 5, 6], "d": 456 }]] },
        ] }
    );
    let got = single(doc! { "a": { "b": { "c": { "$slice": [1, 1] }, "d": 0 } } }, input, true);
    assert_doc(
        &got,
        &doc! { "a": [
            { "b": { "c": [2] } },
            [{ "b": { "c": [1, 2, 3] } }, { "b": { "c": [4, 5, 6] } }],
            { "b": [{ "c": [2] }, { "c": [5] }] },
            { "b": [[{ "c": [1, 2, 3] }], [{ "c": [4, 5, 6] }]] },
        ] },
    );
    let got = single(
        doc! { "a": { "b": { "c": { "$slice": [1, 1] }, "d": { "$slice": -1 } } } },
        doc! { "a": [
            { "b": { "c": [1, 2, 3], "d": [4, 5, 6] } },
            [{ "b": { "c": [1, 2, 3], "d": [4, 5, 6] } }, { "b": { "c": [7, 8, 9], "d": [10, 11, 12] } }],
            { "b": [{ "c": [1, 2, 3], "d": [4, 5, 6] }, { "c": [7, 8, 9], "d": [10, 11, 12] }] },
            { "b": [[{ "c": [1, 2, 3], "d": [4, 5, 6] }], [{ "c": [7, 8, 9], "d": [10, 11, 12] }]] },
        ] },
        true,
    );
    assert_doc(
        &got,
        &doc! { "a": [
            { "b": { "c": [2], "d": [6] } },
            [{ "b": { "c": [1, 2, 3], "d": [4, 5, 6] } }, { "b": { "c": [7, 8, 9], "d": [10, 11, 12] } }],
            { "b": [{ "c": [2], "d": [6] }, { "c": [8], "d": [12] }] },
            { "b": [[{ "c": [1, 2, 3], "d": [4, 5, 6] }], [{ "c": [7, 8, 9], "d": [10, 11, 12] }]] },
        ] },
    );
    let got = single(
        doc! { "a": { "b": { "$slice": [1, 1] } }, "c": { "d": { "$slice": -1 } } },
        doc! {
            "a": [{ "b": [1, 2, 3] }, [{ "b": [1, 2, 3] }, { "b": [4, 5, 6] }], { "b": [[1, 2, 3], [4, 5, 6]] }],
            "c": [{ "d": [1, 2, 3] }, [{ "d": [1, 2, 3] }, { "d": [4, 5, 6] }], { "d": [[1, 2, 3], [4, 5, 6], [7, 8, 9]] }],
        },
        true,
    );
    assert_doc(
        &got,
        &doc! {
            "a": [{ "b": [2] }, [{ "b": [1, 2, 3] }, { "b": [4, 5, 6] }], { "b": [[4, 5, 6]] }],
            "c": [{ "d": [3] }, [{ "d": [1, 2, 3] }, { "d": [4, 5, 6] }], { "d": [[7, 8, 9]] }],
        },
    );
}

// jstests/core/query/project/slice1.js — a `$slice` that cannot apply (a subdocument, a
// missing path, arrays of arrays) leaves the value as it is; `_id` inclusion/exclusion.
#[test]
fn slice1_when_slice_cannot_apply() {
    let s = |p: Document, input: Document| single(p, input, true);
    assert_doc(&s(doc! { "a": { "$slice": 1 } }, doc! { "a": { "c": 123 } }), &doc! { "a": { "c": 123 } });
    assert_eq!(
        s(doc! { "a": { "$slice": 1 }, "d": 1 }, doc! { "a": { "c": 123 }, "d": 456 }),
        doc! { "a": { "c": 123 }, "d": 456 }
    );
    assert_doc(
        &s(doc! { "a": { "$slice": 1 }, "d": 0 }, doc! { "a": { "c": 123 }, "d": 456 }),
        &doc! { "a": { "c": 123 } },
    );
    assert_doc(&s(doc! { "a": { "$slice": 1 } }, doc! { "b": { "e": 123 } }), &doc! { "b": { "e": 123 } });
    assert_doc(&s(doc! { "a": { "$slice": 1 }, "d": 1 }, doc! { "b": { "e": 123 }, "d": 456 }), &doc! { "d": 456 });
    assert_doc(
        &s(doc! { "a": { "$slice": 1 }, "d": 0 }, doc! { "b": { "e": 123 }, "d": 456 }),
        &doc! { "b": { "e": 123 } },
    );
    let deep = || doc! { "a": [[[{ "b": [[[{ "c": [1, 2, 3] }]]] }]]] };
    assert_doc(&s(doc! { "a.b.c": { "$slice": 1 } }, deep()), &deep());
    let mut deep_d = deep();
    deep_d.insert("d", 456);
    assert_eq!(s(doc! { "a.b.c": { "$slice": 1 }, "d": 1 }, deep_d.clone()), deep_d);
    assert_doc(&s(doc! { "a.b.c": { "$slice": 1 }, "d": 0 }, deep_d), &deep());
    assert_doc(
        &s(doc! { "e": 1, "a.b": { "$slice": 1 } }, doc! { "e": 123, "a": [[[{ "b": [1, 2, 3], "d": 4, "f": 5 }]]] }),
        &doc! { "e": 123, "a": [[[{ "b": [1, 2, 3] }]]] },
    );
    assert_doc(
        &single(doc! { "_id": 1, "a": { "$slice": [1, 1] } }, doc! { "_id": 123, "a": [1, 2, 3] }, false),
        &doc! { "_id": 123, "a": [2] },
    );
    assert_doc(
        &single(doc! { "_id": 0, "a": { "$slice": [1, 1] } }, doc! { "_id": 123, "a": [1, 2, 3] }, false),
        &doc! { "a": [2] },
    );
}

// jstests/core/query/project/projection_conflicts.js — overlapping paths collide
// (31249 / 31250), in inclusion and exclusion projections alike.
#[test]
fn projection_conflicts() {
    let mut t = with(doc! { "_id": 1, "a": { "b": 1 } });
    let conflicting = [
        doc! { "a.b": 1, "a": { "b": { "c": 1 } } },
        doc! { "a": { "b": { "c": 1 } }, "a.b": 1 },
        doc! { "a": 1, "a.b": 1 },
        doc! { "a.b": 1, "a": 1 },
        doc! { "a.b": 1, "a.b.c": 1 },
        doc! { "a.b": 0, "a": { "b": { "c": 0 } } },
        doc! { "a": { "b": { "c": 0 } }, "a.b": 0 },
        doc! { "a": 0, "a.b": 0 },
        doc! { "a.b": 0, "a": 0 },
        doc! { "a.b": 0, "a.b.c": 0 },
    ];
    for projection in conflicting {
        let reply = t.project_reply(projection.clone());
        let code = super::support::code(&reply);
        assert!(code == 31249 || code == 31250, "{projection:?} -> {reply:?}");
    }
}

// jstests/core/query/project/id_partial_projection.js — partial inclusion and exclusion
// of `_id` (SERVER-7502).
#[test]
fn id_partial_projection() {
    let mut t = Coll::new();
    t.seed(doc! { "_id": { "a": 1, "b": 1 }, "sortKey": 1 });
    t.seed(doc! { "_id": 3, "sortKey": 2 });
    let results = |t: &mut Coll, projection: Document| {
        [1, 2].map(|k| t.find_one(doc! { "sortKey": k }, Some(projection.clone())).unwrap())
    };
    let check = |got: [Document; 2], expected: [Document; 2]| {
        for (g, e) in got.iter().zip(&expected) {
            assert_doc(g, e);
        }
    };
    check(results(&mut t, doc! { "_id": 1 }), [doc! { "_id": { "a": 1, "b": 1 } }, doc! { "_id": 3 }]);
    check(results(&mut t, doc! { "_id.a": 1 }), [doc! { "_id": { "a": 1 } }, doc! {}]);
    check(results(&mut t, doc! { "_id.b": 1 }), [doc! { "_id": { "b": 1 } }, doc! {}]);
    let got = results(&mut t, doc! { "_id.a": 0 });
    assert_eq!(got, [doc! { "_id": { "b": 1 }, "sortKey": 1 }, doc! { "_id": 3, "sortKey": 2 }]);
    check(results(&mut t, doc! { "_id": 0 }), [doc! { "sortKey": 1 }, doc! { "sortKey": 2 }]);
}

// jstests/core/query/project/projection_dotted_paths.js — the projected documents (the
// plan-shape assertions are about indexes the engine does not have).
#[test]
fn projection_dotted_paths() {
    let mut t = Coll::new();
    super::support::assert_worked(&t.create_index(doc! { "a": 1, "b.c": 1, "b.d": 1, "c": 1 }, false));
    t.seed(doc! { "_id": 1, "a": 1, "b": { "c": 1, "d": 1, "e": 1 }, "c": 1, "e": 1 });
    let mut find = |filter: Document, projection: Document| t.find_one(filter, Some(projection)).unwrap();
    assert_doc(
        &find(doc! { "a": 1 }, doc! { "_id": 0, "a": 1, "b.c": 1, "b.d": 1, "c": 1 }),
        &doc! { "a": 1, "b": { "c": 1, "d": 1 }, "c": 1 },
    );
    assert_doc(&find(doc! { "a": 1 }, doc! { "_id": 0, "b.c": 1, "c": 1 }), &doc! { "b": { "c": 1 }, "c": 1 });
    assert_eq!(
        find(doc! { "a": 1 }, doc! { "_id": 1, "a": 1, "b.c": 1, "b.d": 1, "c": 1 }),
        doc! { "_id": 1, "a": 1, "b": { "c": 1, "d": 1 }, "c": 1 }
    );
    assert_eq!(
        find(doc! { "a": 1 }, doc! { "_id": 0, "b.c": 1, "b.e": 1, "c": 1 }),
        doc! { "b": { "c": 1, "e": 1 }, "c": 1 }
    );
    assert_eq!(find(doc! { "a": 1 }, doc! { "_id": 0, "b.c": 1, "b.z": 1, "c": 1 }), doc! { "b": { "c": 1 }, "c": 1 });
    assert_eq!(
        find(doc! { "_id": 1 }, doc! { "_id": 0, "b.c": 1, "b.e": 1, "c": 1 }),
        doc! { "b": { "c": 1, "e": 1 }, "c": 1 }
    );
    t.seed(doc! { "_id": 2, "a": 2, "b": { "c": 1, "d": [1, 2, 3] } });
    let mut find = |filter: Document, projection: Document| t.find_one(filter, Some(projection)).unwrap();
    assert_doc(
        &find(doc! { "a": 2 }, doc! { "_id": 0, "b.c": 1, "b.d": 1 }),
        &doc! { "b": { "c": 1, "d": [1, 2, 3] } },
    );
    assert_doc(&find(doc! { "a": 2 }, doc! { "_id": 0, "b.c": 1 }), &doc! { "b": { "c": 1 } });
    t.seed(doc! { "_id": 3, "a": 3, "x": { "y": { "y": 1, "f": 1, "z": 1 }, "f": 1, "z": 1 } });
    let got = t.find_one(doc! { "a": 3 }, Some(doc! { "_id": 0, "x.y.y": 1, "x.y.z": 1, "x.z": 1 })).unwrap();
    assert_doc(&got, &doc! { "x": { "y": { "y": 1, "z": 1 }, "z": 1 } });
    t.seed(doc! { "_id": 4, "a": { "b": { "c": 1, "d": 1 } } });
    let got = t.find_one(doc! { "a.b.c": 1 }, Some(doc! { "_id": 0, "a.b": 1 })).unwrap();
    assert_doc(&got, &doc! { "a": { "b": { "c": 1, "d": 1 } } });
    let got = t.find_one(doc! { "a.b": { "c": 1, "d": 1 } }, Some(doc! { "_id": 0, "a.b": 1 })).unwrap();
    assert_doc(&got, &doc! { "a": { "b": { "c": 1, "d": 1 } } });
}
