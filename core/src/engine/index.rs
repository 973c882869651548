//! Indexes: a key pattern over dotted paths, the keys each document yields, and the
//! unique constraint. Every collection has the unique `_id_` index.
//!
//! Keys follow MongoDB: a missing field is indexed as `null`, an array yields one key per
//! element (an empty array yields `undefined`), and values compare as in queries
//! (`Int32(5)` and `Int64(5)` are the same key). An index is a hash map from key to
//! records: it is only ever searched for one key, never walked in order.

use std::borrow::Borrow;
use std::collections::BTreeSet;
use std::hash::{Hash, Hasher};

use bson::{doc, Bson, Document};

use super::compare::{compare_documents, hash_value, values_equal, Ordered};
use super::display;
use super::error::{code, EngineError, EngineResult};
use super::path::{any_reached, LeafArrays};
use crate::command::codes;
use crate::det::DetHashMap;

/// The key one document yields for an index: one value per key-pattern field. Keys are
/// equal when their values compare equal, and hash accordingly ([`hash_value`]).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct IndexKey(pub(crate) Vec<Ordered>);

impl Hash for IndexKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self as &dyn KeyValues).hash(state);
    }
}

/// A key as a sequence of values, owned ([`IndexKey`]) or borrowed (`&[&Bson]`), so an
/// index is searched with the values of a filter without cloning them. Equal and hashed
/// as `IndexKey` is.
trait KeyValues {
    fn arity(&self) -> usize;
    fn value(&self, i: usize) -> &Bson;
}

impl KeyValues for IndexKey {
    fn arity(&self) -> usize {
        self.0.len()
    }

    fn value(&self, i: usize) -> &Bson {
        &self.0[i].0
    }
}

impl KeyValues for &[&Bson] {
    fn arity(&self) -> usize {
        self.len()
    }

    fn value(&self, i: usize) -> &Bson {
        self[i]
    }
}

impl PartialEq for dyn KeyValues + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.arity() == other.arity() && (0..self.arity()).all(|i| values_equal(self.value(i), other.value(i)))
    }
}

impl Eq for dyn KeyValues + '_ {}

impl Hash for dyn KeyValues + '_ {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.arity());
        for i in 0..self.arity() {
            hash_value(self.value(i), state);
        }
    }
}

impl<'a> Borrow<dyn KeyValues + 'a> for IndexKey {
    fn borrow(&self) -> &(dyn KeyValues + 'a) {
        self
    }
}

/// One index of a collection.
#[derive(Debug, Clone)]
pub(crate) struct Index {
    /// The index name, e.g. `streamName_1`.
    pub(crate) name: String,
    /// The key pattern as given, e.g. `{ streamName: 1 }`.
    pub(crate) pattern: Document,
    /// The dotted paths of the key pattern.
    pub(crate) paths: Vec<String>,
    /// Whether the index refuses duplicate keys.
    pub(crate) unique: bool,
    /// Whether `unique: true` was part of its specification (false for `_id_`, which is
    /// unique without saying so).
    pub(crate) spec_unique: bool,
    entries: DetHashMap<IndexKey, Records>,
}

/// The records that have one key, in natural order: usually one (always, in a unique
/// index), held without a set.
#[derive(Debug, Clone)]
pub(crate) enum Records {
    One(u64),
    Many(BTreeSet<u64>),
}

impl Records {
    /// The records, in natural order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        let (one, many) = match self {
            Records::One(record) => (Some(*record), None),
            Records::Many(records) => (None, Some(records)),
        };
        one.into_iter().chain(many.into_iter().flatten().copied())
    }

    fn insert(&mut self, record: u64) {
        match self {
            Records::One(only) if *only == record => {}
            Records::One(only) => *self = Records::Many(BTreeSet::from([*only, record])),
            Records::Many(records) => {
                records.insert(record);
            }
        }
    }

    /// Removes `record`; whether none is left.
    fn remove(&mut self, record: u64) -> bool {
        match self {
            Records::One(only) => *only == record,
            Records::Many(records) => {
                records.remove(&record);
                records.is_empty()
            }
        }
    }
}

/// The name of the implicit `_id` index.
pub(crate) const ID_INDEX_NAME: &str = "_id_";

impl Index {
    /// The `_id_` index.
    pub(crate) fn id_index() -> Self {
        let mut index = Self::new(ID_INDEX_NAME, &doc! { "_id": 1 }, true);
        index.spec_unique = false;
        index
    }

    /// An empty index over `pattern` (validated by the caller).
    pub(crate) fn new(name: &str, pattern: &Document, unique: bool) -> Self {
        Self {
            name: name.to_owned(),
            pattern: pattern.clone(),
            paths: pattern.keys().cloned().collect(),
            unique,
            spec_unique: unique,
            entries: DetHashMap::default(),
        }
    }

    /// Whether this index has the key pattern `pattern` (numbers compared by value).
    pub(crate) fn same_pattern(&self, pattern: &Document) -> bool {
        compare_documents(&self.pattern, pattern) == std::cmp::Ordering::Equal
    }

    /// The keys `doc` yields, sorted and without repeats.
    pub(crate) fn keys_for(&self, doc: &Document) -> EngineResult<Vec<IndexKey>> {
        if let [path] = self.paths.as_slice() {
            // One field: a key per value, no combinations.
            let mut keys = Vec::with_capacity(1);
            any_reached(doc, path, LeafArrays::ElementsOnly, &mut |v| {
                keys.push(IndexKey(vec![Ordered(v.unwrap_or(&Bson::Null).clone())]));
                false
            });
            if keys.is_empty() {
                keys.push(IndexKey(vec![Ordered(Bson::Null)]));
            }
            keys.sort();
            keys.dedup();
            return Ok(keys);
        }
        let mut per_path: Vec<Vec<&Bson>> = Vec::with_capacity(self.paths.len());
        let mut multi: Vec<&str> = Vec::new();
        for path in &self.paths {
            let mut values: Vec<&Bson> = Vec::new();
            any_reached(doc, path, LeafArrays::ElementsOnly, &mut |v| {
                values.push(v.unwrap_or(&Bson::Null));
                false
            });
            if values.is_empty() {
                values.push(&Bson::Null);
            }
            if values.len() > 1 {
                multi.push(path);
            }
            per_path.push(values);
        }
        if multi.len() > 1 {
            return Err(EngineError::new(
                code::CANNOT_INDEX_PARALLEL_ARRAYS,
                format!("cannot index parallel arrays [{}] [{}]", multi[1], multi[0]),
            ));
        }
        let mut keys: Vec<Vec<Ordered>> = vec![Vec::with_capacity(self.paths.len())];
        for values in per_path {
            let mut next = Vec::with_capacity(keys.len() * values.len());
            for prefix in &keys {
                for value in &values {
                    let mut key = prefix.clone();
                    key.push(Ordered((*value).clone()));
                    next.push(key);
                }
            }
            keys = next;
        }
        let mut keys: Vec<IndexKey> = keys.into_iter().map(IndexKey).collect();
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    /// The first of `keys` another document (not `except`) already has, if the index is
    /// unique.
    pub(crate) fn conflict<'k>(&self, keys: &'k [IndexKey], except: Option<u64>) -> Option<&'k IndexKey> {
        if !self.unique {
            return None;
        }
        keys.iter().find(|key| self.entries.get(*key).is_some_and(|records| records.iter().any(|r| Some(r) != except)))
    }

    /// Records that `record` has `keys`.
    pub(crate) fn add(&mut self, keys: &[IndexKey], record: u64) {
        for key in keys {
            self.entries
                .entry(key.clone())
                .and_modify(|records| records.insert(record))
                .or_insert(Records::One(record));
        }
    }

    /// Forgets that `record` has `keys`.
    pub(crate) fn remove(&mut self, keys: &[IndexKey], record: u64) {
        for key in keys {
            if self.entries.get_mut(key).is_some_and(|records| records.remove(record)) {
                self.entries.remove(key);
            }
        }
    }

    /// The records whose key is `values` (one per key-pattern field), in natural order.
    pub(crate) fn lookup(&self, values: &[&Bson]) -> Option<&Records> {
        self.entries.get(&values as &dyn KeyValues)
    }

    /// The records with `key` (test support).
    #[cfg(test)]
    pub(crate) fn lookup_key(&self, key: &IndexKey) -> Option<&Records> {
        self.entries.get(key)
    }

    /// The server's E11000 message for `key` in collection `full_name` (`db.coll`).
    pub(crate) fn duplicate_message(&self, full_name: &str, key: &IndexKey) -> String {
        let mut shown = Document::new();
        for (path, value) in self.paths.iter().zip(&key.0) {
            shown.insert(path.clone(), value.0.clone());
        }
        format!(
            "E11000 duplicate key error collection: {full_name} index: {} dup key: {}",
            self.name,
            display::document(&shown)
        )
    }

    /// The specification as the server prints it in conflict messages.
    pub(crate) fn spec_string(name: &str, pattern: &Document, unique: bool) -> String {
        let mut spec = doc! { "v": 2, "key": pattern.clone(), "name": name };
        if unique {
            spec.insert("unique", true);
        }
        display::document(&spec)
    }
}

/// Validates a key pattern (`{ field: 1 | -1, ... }`).
pub(crate) fn validate_pattern(pattern: &Document) -> EngineResult<()> {
    if pattern.is_empty() {
        return Err(EngineError::new(code::CANNOT_CREATE_INDEX, "Index keys cannot be empty."));
    }
    for (field, direction) in pattern {
        if field.is_empty() || field.split('.').any(str::is_empty) {
            return Err(EngineError::new(code::CANNOT_CREATE_INDEX, "Index keys cannot be an empty field."));
        }
        if field == "$**" || field.ends_with(".$**") {
            return Err(EngineError::not_implemented("wildcard indexes"));
        }
        if field.starts_with('$') {
            return Err(EngineError::new(
                code::CANNOT_CREATE_INDEX,
                "Index key contains an illegal field name: field name starts with '$'.",
            ));
        }
        match direction {
            Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => {
                if values_equal(direction, &Bson::Int32(0)) {
                    return Err(EngineError::new(code::CANNOT_CREATE_INDEX, "Values in the index key pattern can't be 0."));
                }
            }
            Bson::String(kind) => return Err(EngineError::not_implemented(format!("{kind} indexes"))),
            other => {
                return Err(EngineError::new(
                    code::CANNOT_CREATE_INDEX,
                    format!(
                        "Values in v:2 index key pattern cannot be of type {}. Only numbers > 0, numbers < 0, and strings are allowed.",
                        display::type_name(other)
                    ),
                ))
            }
        }
    }
    Ok(())
}

/// Checks a requested index against the existing ones (`_doesSpecConflictWithExisting`):
/// `Ok(true)` if an identical index exists (nothing to do), `Ok(false)` if it can be
/// built, 86 for the same name over other keys, 85 for the same keys under another name
/// or with other options.
pub(crate) fn check_new_index(existing: &[Index], name: &str, pattern: &Document, unique: bool) -> EngineResult<bool> {
    let requested = || Index::spec_string(name, pattern, unique);
    if let Some(same_name) = existing.iter().find(|i| i.name == name) {
        let existing_spec = Index::spec_string(&same_name.name, &same_name.pattern, same_name.spec_unique);
        if !same_name.same_pattern(pattern) {
            return Err(EngineError::new(
                codes::INDEX_KEY_SPECS_CONFLICT,
                format!(
                    "An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: {}, existing index: {existing_spec}",
                    requested()
                ),
            ));
        }
        if same_name.spec_unique != unique {
            return Err(EngineError::new(
                codes::INDEX_OPTIONS_CONFLICT,
                format!(
                    "An equivalent index already exists with the same name but different options. Requested index: {}, existing index: {existing_spec}",
                    requested()
                ),
            ));
        }
        return Ok(true);
    }
    if let Some(same_keys) = existing.iter().find(|i| i.same_pattern(pattern)) {
        if same_keys.spec_unique == unique {
            return Err(EngineError::new(
                codes::INDEX_OPTIONS_CONFLICT,
                format!("Index already exists with a different name: {}", same_keys.name),
            ));
        }
        return Err(EngineError::new(
            codes::INDEX_OPTIONS_CONFLICT,
            format!(
                "An equivalent index already exists with a different name and options. Requested index: {}, existing index: {}",
                requested(),
                Index::spec_string(&same_keys.name, &same_keys.pattern, same_keys.spec_unique)
            ),
        ));
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(values: &[Bson]) -> IndexKey {
        IndexKey(values.iter().cloned().map(Ordered).collect())
    }

    #[test]
    fn keys_follow_mongodb() {
        let index = Index::new("a_1", &doc! { "a": 1 }, true);
        assert_eq!(index.keys_for(&doc! {}).unwrap(), vec![key(&[Bson::Null])]);
        assert_eq!(index.keys_for(&doc! { "a": [2, 1, 2] }).unwrap(), vec![key(&[1.into()]), key(&[2.into()])]);
        assert_eq!(index.keys_for(&doc! { "a": [] }).unwrap(), vec![key(&[Bson::Undefined])]);
        // numbers are one key whatever their type
        assert_eq!(index.keys_for(&doc! { "a": 5_i64 }).unwrap(), vec![key(&[Bson::Int32(5)])]);
        let nested = Index::new("m.p_1", &doc! { "m.p": 1 }, false);
        assert_eq!(nested.keys_for(&doc! { "m": { "p": 3_i64 } }).unwrap(), vec![key(&[3_i64.into()])]);
    }

    #[test]
    fn compound_keys_and_parallel_arrays() {
        let index = Index::new("a_1_b_1", &doc! { "a": 1, "b": -1 }, false);
        assert_eq!(index.keys_for(&doc! { "a": [1, 2], "b": "x" }).unwrap().len(), 2);
        let err = index.keys_for(&doc! { "a": [1, 2], "b": [3, 4] }).unwrap_err();
        assert_eq!(err.code, code::CANNOT_INDEX_PARALLEL_ARRAYS);
    }

    #[test]
    fn a_key_holds_its_records_in_natural_order() {
        let mut index = Index::new("a_1", &doc! { "a": 1 }, false);
        let keys = index.keys_for(&doc! { "a": 5 }).unwrap();
        for record in [3, 1, 2, 1] {
            index.add(&keys, record);
        }
        let records = |index: &Index| index.lookup(&[&Bson::Double(5.0)]).map(|r| r.iter().collect::<Vec<_>>());
        assert_eq!(records(&index), Some(vec![1, 2, 3]), "found by an equal value of another type");
        index.remove(&keys, 2);
        assert_eq!(records(&index), Some(vec![1, 3]));
        index.remove(&keys, 7);
        index.remove(&keys, 1);
        index.remove(&keys, 3);
        assert_eq!(records(&index), None, "the key is gone with its last record");
        index.add(&keys, 4);
        assert_eq!(records(&index), Some(vec![4]));
        index.remove(&keys, 5);
        assert_eq!(records(&index), Some(vec![4]), "another record is not removed");
    }

    #[test]
    fn unique_conflicts_ignore_the_document_itself() {
        let mut index = Index::new("a_1", &doc! { "a": 1 }, true);
        let keys = index.keys_for(&doc! { "a": "x" }).unwrap();
        index.add(&keys, 1);
        assert!(index.conflict(&keys, Some(1)).is_none());
        assert!(index.conflict(&keys, Some(2)).is_some());
        assert_eq!(
            index.duplicate_message("db.c", &keys[0]),
            r#"E11000 duplicate key error collection: db.c index: a_1 dup key: { a: "x" }"#
        );
        index.remove(&keys, 1);
        assert!(index.conflict(&keys, None).is_none());
    }
}
