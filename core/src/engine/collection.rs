//! A collection: documents in natural (insertion) order, each with its cached BSON size
//! and index keys, and the collection's indexes.
//!
//! Every write here is atomic: it is validated (size, unique indexes) before it becomes
//! visible, or undone before returning an error.

use std::collections::BTreeMap;

use bson::{Bson, Document};

use super::arg::Arg;
use super::bson_size::bson_size;
use super::compare::identical_documents;
use super::error::{EngineError, EngineResult};
use super::filter::Filter;
use super::index::{Index, IndexKey, Records};
use super::update::{depth_error, document_too_deep, rollback, Modifiers};
use crate::command::{codes, Namespace};

/// A stored document.
#[derive(Debug, Clone)]
struct Stored {
    doc: Document,
    /// The exact length of `doc`'s BSON encoding.
    size: usize,
    /// The keys `doc` yields, one list per index of the collection (same order).
    keys: Vec<Vec<IndexKey>>,
}

/// One collection.
#[derive(Debug, Clone)]
pub(crate) struct Collection {
    /// `db.collection`, for E11000 messages.
    full_name: String,
    /// Documents by record id; record ids grow, so this is natural order.
    docs: BTreeMap<u64, Stored>,
    next_record: u64,
    /// `_id_` first, then in creation order.
    indexes: Vec<Index>,
}

/// Where a filter's matches may be.
enum Candidates<'c> {
    /// Anywhere: scan.
    All,
    /// Only these records (from an index).
    Some(&'c Records),
    /// Nowhere (the index has no such key).
    None,
}

impl Collection {
    /// An empty collection with its `_id_` index.
    pub(crate) fn new(ns: &Namespace) -> Self {
        Self { full_name: ns.to_string(), docs: BTreeMap::new(), next_record: 0, indexes: vec![Index::id_index()] }
    }

    /// The documents in natural order.
    pub(crate) fn documents(&self) -> impl Iterator<Item = &Document> {
        self.docs.values().map(|s| &s.doc)
    }

    /// Index names, `_id_` first.
    pub(crate) fn index_names(&self) -> Vec<String> {
        self.indexes.iter().map(|i| i.name.clone()).collect()
    }

    /// The stored document `record`.
    pub(crate) fn get(&self, record: u64) -> Option<&Document> {
        self.docs.get(&record).map(|s| &s.doc)
    }

    /// The first document in natural order that matches `filter`. Uses an index when the
    /// filter has equality on all of its key fields (unique indexes first), so a lookup by
    /// `_id` or by a unique key never scans the collection.
    pub(crate) fn find_first(&self, filter: &Filter<'_>) -> Option<u64> {
        let matches = |record: &u64| self.docs.get(record).is_some_and(|s| filter.matches(&s.doc));
        match self.candidates(filter) {
            Candidates::All => self.docs.iter().find(|(_, s)| filter.matches(&s.doc)).map(|(r, _)| *r),
            Candidates::Some(records) => records.iter().find(|r| matches(r)),
            Candidates::None => None,
        }
    }

    /// Every document matching `filter`, in natural order.
    pub(crate) fn find_all(&self, filter: &Filter<'_>) -> Vec<&Document> {
        match self.candidates(filter) {
            Candidates::All => self.docs.values().map(|s| &s.doc).filter(|d| filter.matches(d)).collect(),
            Candidates::Some(records) => {
                let mut records: Vec<u64> = records.iter().collect();
                records.sort_unstable();
                records.iter().filter_map(|r| self.get(*r)).filter(|d| filter.matches(d)).collect()
            }
            Candidates::None => Vec::new(),
        }
    }

    fn candidates(&self, filter: &Filter<'_>) -> Candidates<'_> {
        let usable = |path: &str| {
            filter.equality(path, |v| {
                !matches!(v, Bson::Array(_) | Bson::Null | Bson::Undefined | Bson::RegularExpression(_))
            })
        };
        for unique in [true, false] {
            for index in self.indexes.iter().filter(|i| i.unique == unique) {
                let found = match index.paths.as_slice() {
                    [path] => usable(path).map(|value| index.lookup(&[value])),
                    paths => paths.iter().map(|p| usable(p)).collect::<Option<Vec<_>>>().map(|key| index.lookup(&key)),
                };
                if let Some(records) = found {
                    return match records {
                        Some(records) => Candidates::Some(records),
                        None => Candidates::None,
                    };
                }
            }
        }
        Candidates::All
    }

    /// Computes `doc`'s keys for every index and checks the unique ones (`except`: the
    /// record being replaced).
    fn keys_checked(&self, doc: &Document, except: Option<u64>) -> EngineResult<Vec<Vec<IndexKey>>> {
        let mut all = Vec::with_capacity(self.indexes.len());
        for index in &self.indexes {
            let keys = index.keys_for(doc)?;
            if let Some(dup) = index.conflict(&keys, except) {
                return Err(EngineError::duplicate_key(index.duplicate_message(&self.full_name, dup)));
            }
            all.push(keys);
        }
        Ok(all)
    }

    /// Inserts a complete document (`_id` set) whose BSON size is `size`.
    pub(crate) fn insert(&mut self, doc: Document, size: usize) -> EngineResult<()> {
        let keys = self.keys_checked(&doc, None)?;
        let record = self.next_record;
        self.next_record += 1;
        for (index, index_keys) in self.indexes.iter_mut().zip(&keys) {
            index.add(index_keys, record);
        }
        self.docs.insert(record, Stored { doc, size, keys });
        Ok(())
    }

    /// Removes a document.
    pub(crate) fn remove(&mut self, record: u64) {
        if let Some(stored) = self.docs.remove(&record) {
            for (index, keys) in self.indexes.iter_mut().zip(&stored.keys) {
                index.remove(keys, record);
            }
        }
    }

    /// Applies update operators to `record` in place; whether it changed. On any error
    /// (including 17419 and E11000) the document is exactly as before.
    pub(crate) fn modify(&mut self, record: u64, modifiers: &mut Modifiers<'_>, max_size: usize) -> EngineResult<bool> {
        let affected: Vec<usize> =
            (0..self.indexes.len()).filter(|&i| self.indexes[i].paths.iter().any(|p| modifiers.touches(p))).collect();
        let Some(stored) = self.docs.get_mut(&record) else {
            return Ok(false);
        };
        let applied = modifiers.apply(&mut stored.doc, false)?;
        if !applied.changed {
            return Ok(false);
        }
        let new_size = (stored.size as i64).saturating_add(applied.delta);
        if new_size > max_size as i64 {
            rollback(&mut stored.doc, applied.undo);
            return Err(EngineError::new(
                codes::DOCUMENT_TOO_LARGE_AFTER_UPDATE,
                format!("Resulting document after update is larger than {max_size}"),
            ));
        }
        let mut changed_keys = Vec::new();
        for &i in &affected {
            let keys = match self.indexes[i].keys_for(&stored.doc) {
                Ok(keys) => keys,
                Err(e) => {
                    rollback(&mut stored.doc, applied.undo);
                    return Err(e);
                }
            };
            if keys == stored.keys[i] {
                continue;
            }
            if let Some(dup) = self.indexes[i].conflict(&keys, Some(record)) {
                let message = self.indexes[i].duplicate_message(&self.full_name, dup);
                rollback(&mut stored.doc, applied.undo);
                return Err(EngineError::duplicate_key(message));
            }
            changed_keys.push((i, keys));
        }
        for (i, keys) in changed_keys {
            self.indexes[i].remove(&stored.keys[i], record);
            self.indexes[i].add(&keys, record);
            stored.keys[i] = keys;
        }
        stored.size = usize::try_from(new_size).unwrap_or(0);
        #[cfg(test)]
        assert_eq!(stored.size, bson_size(&stored.doc), "cached size is exact");
        Ok(true)
    }

    /// Replaces `record` with `replacement` (keeping `_id`); whether it changed.
    pub(crate) fn replace(
        &mut self,
        record: u64,
        replacement: &mut Arg<'_, Document>,
        max_size: usize,
    ) -> EngineResult<bool> {
        let Some(stored) = self.docs.get(&record) else {
            return Ok(false);
        };
        let new_doc = replaced(&stored.doc, replacement)?;
        if identical_documents(&new_doc, &stored.doc) {
            return Ok(false);
        }
        if document_too_deep(&new_doc) {
            return Err(depth_error());
        }
        let size = bson_size(&new_doc);
        if size > max_size {
            return Err(EngineError::new(
                codes::DOCUMENT_TOO_LARGE_AFTER_UPDATE,
                format!("Resulting document after update is larger than {max_size}"),
            ));
        }
        let keys = self.keys_checked(&new_doc, Some(record))?;
        self.remove(record);
        for (index, index_keys) in self.indexes.iter_mut().zip(&keys) {
            index.add(index_keys, record);
        }
        self.docs.insert(record, Stored { doc: new_doc, size, keys });
        Ok(true)
    }

    /// Adds an index (the caller has checked the specification against existing indexes).
    /// Fails, changing nothing, when existing documents violate a unique index.
    pub(crate) fn add_index(&mut self, index: Index) -> EngineResult<()> {
        let mut index = index;
        let mut all_keys = Vec::with_capacity(self.docs.len());
        for (record, stored) in &self.docs {
            let keys = index.keys_for(&stored.doc)?;
            if let Some(dup) = index.conflict(&keys, Some(*record)) {
                return Err(EngineError::duplicate_key(index.duplicate_message(&self.full_name, dup)));
            }
            index.add(&keys, *record);
            all_keys.push(keys);
        }
        for (stored, keys) in self.docs.values_mut().zip(all_keys) {
            stored.keys.push(keys);
        }
        self.indexes.push(index);
        Ok(())
    }

    /// The indexes, `_id_` first.
    pub(crate) fn indexes(&self) -> &[Index] {
        &self.indexes
    }

    /// Test support: how many records an index lookup narrows `filter` to (`None`: a scan).
    #[cfg(test)]
    pub(crate) fn candidates_for_test(&self, filter: &Filter<'_>) -> Option<usize> {
        match self.candidates(filter) {
            Candidates::All => None,
            Candidates::Some(records) => Some(records.iter().count()),
            Candidates::None => Some(0),
        }
    }

    /// Test support: every cached size and index entry agrees with the documents.
    #[cfg(test)]
    pub(crate) fn check_invariants(&self) {
        for (record, stored) in &self.docs {
            assert_eq!(stored.size, bson_size(&stored.doc), "size of record {record}");
            for (index, keys) in self.indexes.iter().zip(&stored.keys) {
                assert_eq!(&index.keys_for(&stored.doc).unwrap(), keys, "keys of record {record} in {}", index.name);
                for key in keys {
                    assert!(index.lookup_key(key).is_some_and(|r| r.iter().any(|r| r == *record)));
                }
            }
        }
    }
}

/// The document a replacement produces: `_id` first (kept from the original; the
/// replacement may repeat it but not change it), then the replacement's fields (placed:
/// apply a replacement once).
pub(crate) fn replaced(original: &Document, replacement: &mut Arg<'_, Document>) -> EngineResult<Document> {
    let mut out = Document::new();
    if let Some(id) = original.get("_id") {
        if let Some(new_id) = replacement.get().get("_id") {
            if !super::compare::values_equal(id, new_id) {
                return Err(EngineError::new(
                    codes::IMMUTABLE_FIELD,
                    format!(
                        "After applying the update, the (immutable) field '_id' was found to have been altered to {}",
                        super::display::element("_id", new_id)
                    ),
                ));
            }
        }
        out.insert("_id", id.clone());
    }
    // The replacement's own `_id` is kept only when the original has none.
    let keep = |key: &str| key != "_id" || !original.contains_key("_id");
    match replacement {
        Arg::Shared(fields) => {
            for (key, value) in fields.iter().filter(|(key, _)| keep(key)) {
                out.insert(key.clone(), value.clone());
            }
        }
        Arg::Owned(fields) => out.extend(std::mem::take(*fields).into_iter().filter(|(key, _)| keep(key))),
    }
    Ok(out)
}
