//! The document an upsert starts from: the filter's equality predicates
//! (`UpdateDriver::populateDocumentWithQueryFields`, `pathsupport::addEqualitiesToDoc`).
//!
//! Only equalities are copied: `f: v`, `f: {$eq: v}`, the equality children of a top-level
//! AND (`$and` or implicit), a one-clause `$or`, a one-value `$in`. They are added in path
//! order (the server keeps them in a `std::map` keyed by path); a dotted path becomes
//! nested documents. Equality on both `a` and `a.b` (or twice on `a`) is error 54.

use bson::{Bson, Document};

use super::error::{code, EngineError, EngineResult};
use super::filter::Filter;
use super::path::overlap;
use crate::command::codes;

/// Which equalities to copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fields {
    /// Every equality (operator updates).
    All,
    /// Only `_id` (replacement updates).
    IdOnly,
}

/// Builds the pre-image of an upserted document from `filter`.
pub(crate) fn document_from_filter(filter: &Filter<'_>, fields: Fields) -> EngineResult<Document> {
    let mut equalities = filter.equalities();
    if fields == Fields::IdOnly {
        // A replacement takes only `_id` from the query, and only as a whole: equality on a
        // part of it (`_id.x`) is NotExactValueField (`pathsupport::checkPathIsPrefixOf`;
        // jstests/core/write/update/upsert_fields.js: `{_id: 1, '_id.x': 1}` and
        // `{'_id.x': 1, '_id.y': 2}` with a replacement are write errors).
        if let Some((path, _)) = equalities.iter().find(|(path, _)| path.starts_with("_id.")) {
            return Err(EngineError::new(
                code::NOT_EXACT_VALUE_FIELD,
                format!("field at '_id' must be exactly specified, field at sub-path '{path}'found"),
            ));
        }
        equalities.retain(|(path, _)| *path == "_id");
    }
    // Byte order of paths, as the server's map; a prefix sorts before its extensions.
    equalities.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut doc = Document::new();
    for (i, (path, value)) in equalities.iter().enumerate() {
        for (earlier, _) in &equalities[..i] {
            if earlier == path {
                return Err(EngineError::new(
                    codes::NOT_SINGLE_VALUE_FIELD,
                    format!("cannot infer query fields to set, path '{path}' is matched twice"),
                ));
            }
            if overlap(earlier, path) {
                return Err(EngineError::new(
                    codes::NOT_SINGLE_VALUE_FIELD,
                    format!("cannot infer query fields to set, both paths '{path}' and '{earlier}' are matched"),
                ));
            }
        }
        set_at_path(&mut doc, path, (*value).clone())?;
    }
    Ok(doc)
}

/// Sets `value` at a dotted `path`, creating subdocuments on the way.
fn set_at_path(doc: &mut Document, path: &str, value: Bson) -> EngineResult<()> {
    let (inner, last) = match path.rsplit_once('.') {
        Some((inner, last)) => (Some(inner), last),
        None => (None, path),
    };
    let mut current = doc;
    for part in inner.into_iter().flat_map(|inner| inner.split('.')) {
        let slot = current.entry(part).or_insert_with(|| Bson::Document(Document::new()));
        current = match slot {
            Bson::Document(d) => d,
            other => {
                return Err(EngineError::new(
                    codes::PATH_NOT_VIABLE,
                    format!("Cannot create field '{part}' in element {{{}}}", super::display::value(other)),
                ))
            }
        };
    }
    current.insert(last, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    fn build(filter: Document) -> EngineResult<Document> {
        let parsed = Filter::parse(&filter).expect("valid filter");
        document_from_filter(&parsed, Fields::All)
    }

    #[test]
    fn equalities_become_fields_in_path_order() {
        let d = build(doc! { "streamName": { "$eq": "order:1" }, "metadata.streamPosition": 0_i64 }).unwrap();
        assert_eq!(d, doc! { "metadata": { "streamPosition": 0_i64 }, "streamName": "order:1" });
        let keys: Vec<&str> = d.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["metadata", "streamName"]);
    }

    #[test]
    fn only_equalities_are_copied() {
        let d = build(doc! {
            "a": { "$ne": 1 }, "b": { "$exists": true }, "c": { "$gt": 1 }, "d": { "$in": [1, 2] },
            "e": { "$in": [5] }, "$and": [{ "f": 6 }], "$or": [{ "g": 7 }, { "h": 8 }], "i": null,
        })
        .unwrap();
        assert_eq!(d, doc! { "e": 5, "f": 6, "i": null });
    }

    #[test]
    fn overlapping_equalities_fail() {
        let err = build(doc! { "a.b": 1, "a": { "b": 1 } }).unwrap_err();
        assert_eq!(err, EngineError::new(54, "cannot infer query fields to set, both paths 'a.b' and 'a' are matched"));
        let err = build(doc! { "a": 1, "$and": [{ "a": 1 }] }).unwrap_err();
        assert_eq!(err, EngineError::new(54, "cannot infer query fields to set, path 'a' is matched twice"));
        assert!(build(doc! { "a": 1, "ab": 1, "a-b": 1 }).is_ok());
    }

    #[test]
    fn replacement_copies_only_id() {
        let filter = doc! { "_id": 7, "a": 1 };
        let parsed = Filter::parse(&filter).unwrap();
        assert_eq!(document_from_filter(&parsed, Fields::IdOnly).unwrap(), doc! { "_id": 7 });
    }
}
