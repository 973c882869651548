//! `find`'s sort: the specification parsed once per command, then applied to the matched
//! documents.
//!
//! Each sort field's key in a document is read as an index key is (each element of an
//! array on the path, `undefined` for an empty array, `null` for a missing field); an
//! ascending field sorts by the smallest of a document's keys, a descending one by the
//! largest (MongoDB's "sort by array" rule). Documents equal on every field keep their
//! natural order, as an in-memory sort on the server does; callers that need one order
//! on every server end the specification with a unique field.

use std::cmp::Ordering;

use bson::{Bson, Document};

use super::compare::compare;
use super::error::{code, EngineError, EngineResult};
use super::path::{any_reached, LeafArrays};

/// A parsed sort specification: `(path, ascending)` in order.
#[derive(Debug)]
pub(crate) struct Sort<'a> {
    fields: Vec<(&'a str, bool)>,
}

impl<'a> Sort<'a> {
    /// Parses `{ path: 1 | -1, ... }`; other values are refused as the server refuses them.
    pub(crate) fn parse(spec: &'a Document) -> EngineResult<Self> {
        let mut fields = Vec::with_capacity(spec.len());
        for (path, value) in spec {
            if path.is_empty() || path.split('.').any(str::is_empty) {
                return Err(EngineError::new(
                    code::INVALID_SORT_PATH,
                    "FieldPath field names may not be empty strings.",
                ));
            }
            if path.starts_with('$') {
                return Err(EngineError::new(
                    code::INVALID_SORT_PATH,
                    "FieldPath field names may not start with '$'. Consider using $getField or $setField.",
                ));
            }
            let number = match value {
                Bson::Int32(n) => Some(f64::from(*n)),
                Bson::Int64(n) => Some(*n as f64),
                Bson::Double(d) => Some(*d),
                Bson::Document(d) if d.contains_key("$meta") => {
                    return Err(EngineError::not_implemented("$meta sort keys"));
                }
                _ => None,
            };
            match number {
                Some(1.0) => fields.push((path.as_str(), true)),
                Some(-1.0) => fields.push((path.as_str(), false)),
                Some(_) => {
                    return Err(EngineError::new(
                        code::BAD_SORT_ORDER,
                        "$sort key ordering must be 1 (for ascending) or -1 (for descending)",
                    ))
                }
                None => {
                    return Err(EngineError::new(
                        code::ILLEGAL_SORT_KEY,
                        format!("Illegal key in $sort specification: {path}: {}", super::display::value(value)),
                    ))
                }
            }
        }
        Ok(Self { fields })
    }

    /// `docs` sorted (stable: ties keep their order).
    pub(crate) fn apply<'d>(&self, docs: Vec<&'d Document>) -> Vec<&'d Document> {
        if self.fields.is_empty() {
            return docs;
        }
        let mut keyed: Vec<(Vec<Bson>, &Document)> = docs.into_iter().map(|d| (self.key(d), d)).collect();
        keyed.sort_by(|(a, _), (b, _)| self.compare_keys(a, b));
        keyed.into_iter().map(|(_, d)| d).collect()
    }

    /// The document's sort key: one value per field.
    fn key(&self, doc: &Document) -> Vec<Bson> {
        self.fields
            .iter()
            .map(|(path, ascending)| {
                let mut best: Option<Bson> = None;
                any_reached(doc, path, LeafArrays::ElementsOnly, &mut |reached| {
                    let value = reached.cloned().unwrap_or(Bson::Null);
                    let better = match &best {
                        None => true,
                        Some(b) if *ascending => compare(&value, b) == Ordering::Less,
                        Some(b) => compare(&value, b) == Ordering::Greater,
                    };
                    if better {
                        best = Some(value);
                    }
                    false
                });
                best.unwrap_or(Bson::Null)
            })
            .collect()
    }

    fn compare_keys(&self, a: &[Bson], b: &[Bson]) -> Ordering {
        for ((x, y), (_, ascending)) in a.iter().zip(b).zip(&self.fields) {
            let order = compare(x, y);
            if order != Ordering::Equal {
                return if *ascending { order } else { order.reverse() };
            }
        }
        Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    fn sorted(spec: Document, docs: Vec<Document>) -> Vec<Document> {
        let sort = Sort::parse(&spec).unwrap();
        sort.apply(docs.iter().collect()).into_iter().cloned().collect()
    }

    #[test]
    fn fields_sort_in_order_and_ties_keep_natural_order() {
        let docs = vec![doc! { "i": 0, "a": 2 }, doc! { "i": 1, "a": 1 }, doc! { "i": 2, "a": 2 }, doc! { "i": 3 }];
        let asc = sorted(doc! { "a": 1 }, docs.clone());
        assert_eq!(asc.iter().map(|d| d.get_i32("i").unwrap()).collect::<Vec<_>>(), [3, 1, 0, 2]);
        let desc = sorted(doc! { "a": -1, "i": -1 }, docs);
        assert_eq!(desc.iter().map(|d| d.get_i32("i").unwrap()).collect::<Vec<_>>(), [2, 0, 1, 3]);
    }

    #[test]
    fn arrays_sort_by_their_smallest_or_largest_element() {
        let docs = vec![doc! { "i": 0, "a": [1, 9] }, doc! { "i": 1, "a": 5 }, doc! { "i": 2, "a": [] }];
        let asc = sorted(doc! { "a": 1 }, docs.clone());
        assert_eq!(asc.iter().map(|d| d.get_i32("i").unwrap()).collect::<Vec<_>>(), [2, 0, 1]);
        let desc = sorted(doc! { "a": -1 }, docs);
        assert_eq!(desc.iter().map(|d| d.get_i32("i").unwrap()).collect::<Vec<_>>(), [0, 1, 2]);
    }

    #[test]
    fn bad_specifications_are_refused() {
        assert_eq!(Sort::parse(&doc! { "a": 2 }).unwrap_err().code, code::BAD_SORT_ORDER);
        assert_eq!(Sort::parse(&doc! { "a": "x" }).unwrap_err().code, code::ILLEGAL_SORT_KEY);
        assert_eq!(Sort::parse(&doc! { "a..b": 1 }).unwrap_err().code, code::INVALID_SORT_PATH);
        assert!(Sort::parse(&doc! { "a": 1.0, "b": -1_i64 }).is_ok());
    }
}
