//! The limits every layer applies: one place for nesting depth and document size.
//!
//! The *nesting depth* of a document is the level of its deepest element, its own
//! fields being at level 1: `{}` has depth 0, `{ a: 1 }` depth 1, `{ a: { b: 1 } }` and
//! `{ a: [1] }` depth 2. An empty subdocument or array adds no level.
//!
//! ```
//! use bson::doc;
//! use streamdoc_core::limits::{depth, MAX_STORED_DEPTH, MAX_VALUE_DEPTH};
//!
//! assert_eq!(depth(&doc! {}), 0);
//! assert_eq!(depth(&doc! { "a": { "b": 1 }, "c": [] }), 2);
//! assert!(MAX_VALUE_DEPTH < MAX_STORED_DEPTH);
//! ```

use bson::{Bson, Document};

/// The deepest an event's `data` or `metadata` may nest: 100 levels, the nesting MongoDB
/// documents as supported ("MongoDB supports no more than 100 levels of nesting for
/// BSON documents", and `jstests/core/nestedobj1.js`'s `kMaxDocumentDepthSoftLimit`).
///
/// Every boundary refuses deeper input with a typed error before it reaches a store,
/// and without recursing past it: the JavaScript conversion (cycles included), the
/// HTTP API, and an append's own validation.
pub const MAX_VALUE_DEPTH: usize = 100;

/// The deepest a stored document may nest: what servers enforce on every document
/// they store, `BSONDepth::getMaxDepthForUserStorage()` = the default `maxBSONDepth`
/// (200) less the 20 levels kept for system use (`src/mongo/bson/bson_depth.h`), or
/// error 15 `Overflow`. MongoDB's jstests pin the counting: with `maxBSONDepth: 21`
/// (a user depth of 1) `{ a: {} }` is stored and `{ a: { b: 1 } }` is refused. The
/// in-memory engine answers with this limit.
pub const MAX_STORED_DEPTH: usize = 180;

/// The largest BSON document a server stores: 16 MiB, the check being `size > limit`.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// The level of an event's `data` and `metadata` fields in its stream document
/// (`events` → the event → `data` → its fields, counted from `events` at level 1).
pub const EVENT_FIELD_LEVEL: usize = 4;

// An event that passes `MAX_VALUE_DEPTH` can never make its stream document too deep.
const _: () = assert!(EVENT_FIELD_LEVEL - 1 + MAX_VALUE_DEPTH <= MAX_STORED_DEPTH);

/// The nesting depth of `doc` (see the [module documentation](self)).
pub fn depth(doc: &Document) -> usize {
    doc.values().map(|v| 1 + value_depth(v)).max().unwrap_or(0)
}

/// How many levels `value` adds below the element holding it.
fn value_depth(value: &Bson) -> usize {
    match value {
        Bson::Document(d) => depth(d),
        Bson::Array(items) => items.iter().map(|v| 1 + value_depth(v)).max().unwrap_or(0),
        _ => 0,
    }
}

/// Whether `doc` nests deeper than `limit`, without descending past the limit.
pub fn deeper_than(doc: &Document, limit: usize) -> bool {
    doc.values().any(|v| element_too_deep(v, 1, limit))
}

/// Whether an element at `level` holding `value` is, or holds, an element past `limit`.
pub(crate) fn element_too_deep(value: &Bson, level: usize, limit: usize) -> bool {
    if level > limit {
        return true;
    }
    match value {
        Bson::Document(d) => d.values().any(|v| element_too_deep(v, level + 1, limit)),
        Bson::Array(items) => items.iter().any(|v| element_too_deep(v, level + 1, limit)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    fn nested(levels: usize) -> Document {
        let mut doc = doc! { "x": 1 };
        for _ in 1..levels {
            doc = doc! { "x": doc };
        }
        doc
    }

    #[test]
    fn depth_counts_element_levels() {
        assert_eq!(depth(&doc! { "a": {} }), 1);
        assert_eq!(depth(&doc! { "a": [[]] }), 2);
        assert_eq!(depth(&doc! { "a": [{ "b": [1] }] }), 4);
        assert_eq!(depth(&nested(MAX_VALUE_DEPTH)), MAX_VALUE_DEPTH);
    }

    #[test]
    fn deeper_than_agrees_with_depth() {
        for levels in [1, 2, 99, 100, 101, 181] {
            let doc = nested(levels);
            assert_eq!(deeper_than(&doc, MAX_VALUE_DEPTH), depth(&doc) > MAX_VALUE_DEPTH, "{levels}");
        }
    }
}
