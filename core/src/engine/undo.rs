//! The undo log of an in-place update: what to put back, newest step first, so a refused
//! update (too large, duplicate key, an error on a later path) leaves the stored document
//! exactly as it was without the document ever being copied.
//!
//! Locations are prefixes of the update's own paths (`PathRef`), so recording a step
//! allocates nothing but the step.

use bson::{Bson, Document};

use super::path::array_index;

/// The first `parts` parts of a dotted path: a location in a document.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PathRef<'u> {
    path: &'u str,
    parts: usize,
}

impl<'u> PathRef<'u> {
    pub(crate) fn new(path: &'u str, parts: usize) -> Self {
        Self { path, parts }
    }
}

/// One step of an undo log.
#[derive(Debug)]
pub(crate) enum Undo<'u> {
    /// A field was appended to the document at `parent`.
    RemoveField { parent: PathRef<'u>, key: &'u str },
    /// A field was removed from the document at `parent`, from position `pos`.
    Reinsert { parent: PathRef<'u>, pos: usize, key: &'u str, old: Bson },
    /// The value at `at` was replaced.
    Restore { at: PathRef<'u>, old: Bson },
    /// The array at `at` grew from `len` elements.
    Truncate { at: PathRef<'u>, len: usize },
}

/// Undoes an application, newest step first.
pub(crate) fn rollback(doc: &mut Document, undo: Vec<Undo<'_>>) {
    for step in undo.into_iter().rev() {
        match step {
            Undo::RemoveField { parent, key } => {
                if let Some(d) = document_at(doc, parent) {
                    d.remove(key);
                }
            }
            Undo::Reinsert { parent, pos, key, old } => {
                if let Some(d) = document_at(doc, parent) {
                    insert_at(d, pos, key, old);
                }
            }
            Undo::Restore { at, old } => {
                if let Some(v) = value_at(doc, at) {
                    *v = old;
                }
            }
            Undo::Truncate { at, len } => {
                if let Some(Bson::Array(items)) = value_at(doc, at) {
                    items.truncate(len);
                }
            }
        }
    }
}

fn value_at<'d>(doc: &'d mut Document, at: PathRef<'_>) -> Option<&'d mut Bson> {
    let mut parts = at.path.split('.').take(at.parts);
    let mut current = doc.get_mut(parts.next()?)?;
    for part in parts {
        current = match current {
            Bson::Document(d) => d.get_mut(part)?,
            Bson::Array(items) => items.get_mut(array_index(part)?)?,
            _ => return None,
        };
    }
    Some(current)
}

fn document_at<'d>(doc: &'d mut Document, at: PathRef<'_>) -> Option<&'d mut Document> {
    if at.parts == 0 {
        return Some(doc);
    }
    match value_at(doc, at)? {
        Bson::Document(d) => Some(d),
        _ => None,
    }
}

/// Inserts `key: value` at position `pos` (bson's `Document` only appends).
fn insert_at(doc: &mut Document, pos: usize, key: &str, value: Bson) {
    let mut entries: Vec<(String, Bson)> = std::mem::take(doc).into_iter().collect();
    entries.insert(pos.min(entries.len()), (key.to_owned(), value));
    *doc = entries.into_iter().collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    #[test]
    fn rollback_restores_positions_values_and_lengths() {
        let original = doc! { "a": 1, "b": { "c": [1, 2] }, "d": 4 };
        let mut doc = doc! { "b": { "c": [1, 9, 3], "new": 1 }, "d": 4 };
        let undo = vec![
            Undo::Reinsert { parent: PathRef::new("a", 0), pos: 0, key: "a", old: Bson::Int32(1) },
            Undo::Truncate { at: PathRef::new("b.c", 2), len: 2 },
            Undo::Restore { at: PathRef::new("b.c.1", 3), old: Bson::Int32(2) },
            Undo::RemoveField { parent: PathRef::new("b.new", 1), key: "new" },
        ];
        rollback(&mut doc, undo);
        assert_eq!(doc, original);
        assert_eq!(doc.keys().next().map(String::as_str), Some("a"), "the removed field is back in its place");
    }
}
