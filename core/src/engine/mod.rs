//! The in-memory engine: a small, faithful MongoDB (5.0+) for the commands in
//! [`crate::command`].
//!
//! It knows nothing of events or streams. It keeps collections of `bson::Document`s with
//! unique indexes (every collection has `_id_`), matches filters on dotted paths, applies
//! update operators, builds upserted documents from the filter's equality predicates,
//! projects (including `$slice`), counts matched/modified documents as the server does,
//! and answers with the server's error codes and messages — the 16 MiB limit computed on
//! the real BSON bytes. See `MONGODB_SUBSET.md` for the behaviours and their sources.
//!
//! Every command is atomic: an error leaves the data exactly as it was. The engine reads
//! no clock and no random source: ObjectIds come from a seeded
//! [`ObjectIdGenerator`], and one is consumed only when a document is actually inserted.
//!
//! Module map: `filter` (parsing and matching), `path` (dotted-path traversal),
//! `compare` (BSON order and equality), `index`, `collection` (storage, atomic writes),
//! `update` (operators, in-place application), `arg` (the update's values, borrowed and
//! cloned or owned and moved), `undo` (the undo log of an in-place update), `upsert` (the document
//! built from the filter), `projection`, `bson_size`, `display` (server-style values in
//! messages), `error`.

mod arg;
mod bson_size;
pub mod change_feed;
mod collection;
mod compare;
mod display;
mod error;
mod filter;
mod index;
mod path;
mod projection;
mod sort;
mod undo;
mod update;
mod upsert;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use bson::{Bson, Document};

pub use bson_size::bson_size;
pub use change_feed::{ChangeCursor, ChangeFeed, FeedError};

use self::arg::Arg;
use self::collection::{replaced, Collection};
use self::error::{code, EngineError, EngineResult};
use self::filter::Filter;
use self::index::{check_new_index, validate_pattern, Index};
use self::projection::Projection;
use self::sort::Sort;
use self::update::{depth_error, document_too_deep, UpdatePlan};
use self::upsert::{document_from_filter, Fields};
use crate::command::{codes, Command, Namespace, Reply};
use crate::ids::ObjectIdGenerator;

/// How the engine behaves where servers differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// `false` emulates servers that answer 238 NotImplemented to any `$slice` projection
    /// (in fact to any document-valued projection), as FerretDB 1.24 does.
    pub slice_projection: bool,
    /// The largest BSON document a write may produce, in bytes. Default 16 MiB; the check is
    /// `size > max`, so a document of exactly this size is allowed.
    pub max_document_size: usize,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self { slice_projection: true, max_document_size: crate::limits::MAX_DOCUMENT_BYTES }
    }
}

/// An in-memory MongoDB for the commands core emits.
///
/// ```
/// use bson::doc;
/// use streamdoc_core::engine::Engine;
/// use streamdoc_core::{Command, Namespace, Reply};
///
/// let mut engine = Engine::new(7);
/// let ns = Namespace::new("app", "order");
///
/// // No stream yet: the conditional update upserts it.
/// let reply = engine.execute(&Command::UpdateOne {
///     ns: ns.clone(),
///     filter: doc! { "streamName": { "$eq": "order:1" }, "metadata.streamPosition": 0_i64 },
///     update: doc! {
///         "$push": { "events": { "$each": [{ "type": "Placed" }] } },
///         "$set": { "metadata.streamPosition": 1_i64 },
///     },
///     upsert: true,
/// });
/// assert!(matches!(reply, Reply::Updated { matched: 0, modified: 0, upserted_id: Some(_) }));
///
/// let found = engine.execute(&Command::FindOne {
///     ns,
///     filter: doc! { "streamName": "order:1" },
///     projection: Some(doc! { "_id": 0, "streamName": 1, "metadata.streamPosition": 1 }),
/// });
/// assert_eq!(
///     found,
///     Reply::Found(Some(doc! { "metadata": { "streamPosition": 1_i64 }, "streamName": "order:1" }))
/// );
/// ```
#[derive(Debug, Clone)]
pub struct Engine {
    collections: BTreeMap<Namespace, Collection>,
    ids: ObjectIdGenerator,
    options: EngineOptions,
    feed: Option<FeedSlot>,
}

/// The engine's change feed; a cloned engine records into its own copy of the log.
#[derive(Debug)]
struct FeedSlot(ChangeFeed);

impl Clone for FeedSlot {
    fn clone(&self) -> Self {
        FeedSlot(self.0.deep_clone())
    }
}

impl Engine {
    /// An empty engine whose generated ObjectIds are fixed by `seed`, with default options.
    pub fn new(seed: u64) -> Self {
        Self::with_options(seed, EngineOptions::default())
    }

    /// An empty engine with `options`.
    pub fn with_options(seed: u64, options: EngineOptions) -> Self {
        Self { collections: BTreeMap::new(), ids: ObjectIdGenerator::seeded(seed), options, feed: None }
    }

    /// The options the engine runs with.
    pub fn options(&self) -> EngineOptions {
        self.options
    }

    /// Starts recording a change event for every write that changes a document, keeping
    /// the last `capacity` (the oplog's window), and returns the feed to watch; once
    /// enabled, a further call returns the same feed. See [`change_feed`].
    pub fn enable_change_feed(&mut self, capacity: usize) -> ChangeFeed {
        self.feed.get_or_insert_with(|| FeedSlot(ChangeFeed::new(capacity))).0.clone()
    }

    /// The change feed, when enabled.
    pub fn change_feed(&self) -> Option<ChangeFeed> {
        self.feed.as_ref().map(|f| f.0.clone())
    }

    fn record_change(&self, ns: &Namespace, event: impl FnOnce() -> Document) {
        if let Some(feed) = &self.feed {
            feed.0.record(ns, event());
        }
    }

    /// Runs one command and answers as the server would. Never panics; every failure is a
    /// [`Reply::ServerError`] or [`Reply::DuplicateKey`], and leaves the data unchanged.
    ///
    /// Replies: `CreateIndex` → `Acknowledged` (also when the identical index exists);
    /// `FindOne` → `Found`; `UpdateOne` → `Updated { matched, modified, upserted_id }`
    /// (`upserted_id` is the inserted document's `_id`, e.g. `Bson::ObjectId`);
    /// `InsertOne` → `Inserted { id }`; `DeleteOne` → `Deleted { count }`.
    pub fn execute(&mut self, command: &Command) -> Reply {
        let result = match command {
            Command::CreateIndex { ns, keys, name, unique } => self.create_index(ns, keys, name, *unique),
            Command::FindOne { ns, filter, projection } => self.find_one(ns, filter, projection.as_ref()),
            Command::Find { ns, filter, projection, sort, skip, limit } => {
                self.find(ns, filter, projection.as_ref(), sort.as_ref(), *skip, *limit)
            }
            Command::Count { ns, filter, skip, limit } => self.count(ns, filter, *skip, *limit),
            Command::UpdateOne { ns, filter, update, upsert } => {
                self.update_one(ns, filter, Arg::Shared(update), *upsert)
            }
            Command::InsertOne { ns, document } => self.insert_one(ns, document.clone()),
            Command::DeleteOne { ns, filter } => self.delete_one(ns, filter),
        };
        result.unwrap_or_else(EngineError::into_reply)
    }

    /// Runs one command it may consume: the same replies and effects as
    /// [`execute`](Self::execute), but the values an update or insert stores are moved out
    /// of the command instead of copied (an append's events are not cloned).
    ///
    /// ```
    /// use bson::doc;
    /// use streamdoc_core::engine::Engine;
    /// use streamdoc_core::{Command, Namespace, Reply};
    ///
    /// let mut engine = Engine::new(7);
    /// let ns = Namespace::new("app", "order");
    /// let reply = engine.execute_owned(Command::InsertOne { ns: ns.clone(), document: doc! { "_id": 1, "a": [1, 2] } });
    /// assert_eq!(reply, Reply::Inserted { id: 1.into() });
    /// assert_eq!(engine.documents(&ns), vec![doc! { "_id": 1, "a": [1, 2] }]);
    /// ```
    pub fn execute_owned(&mut self, command: Command) -> Reply {
        let result = match command {
            Command::UpdateOne { ns, filter, mut update, upsert } => {
                self.update_one(&ns, &filter, Arg::Owned(&mut update), upsert)
            }
            Command::InsertOne { ns, document } => self.insert_one(&ns, document),
            other => return self.execute(&other),
        };
        result.unwrap_or_else(EngineError::into_reply)
    }

    /// The namespaces of the collections that exist (created by an index or a write),
    /// sorted.
    pub fn namespaces(&self) -> Vec<Namespace> {
        self.collections.keys().cloned().collect()
    }

    /// The documents of a collection in natural (insertion) order; empty if there is none.
    pub fn documents(&self, ns: &Namespace) -> Vec<Document> {
        self.collections.get(ns).map(|c| c.documents().cloned().collect()).unwrap_or_default()
    }

    /// Drops every collection of `database`, documents and indexes, as `dropDatabase`
    /// does; returns how many collections it had (0 for a database that does not exist).
    ///
    /// ```
    /// use bson::doc;
    /// use streamdoc_core::engine::Engine;
    /// use streamdoc_core::{Command, Namespace};
    ///
    /// let mut engine = Engine::new(7);
    /// let ns = Namespace::new("scratch", "order");
    /// engine.execute(&Command::InsertOne { ns: ns.clone(), document: doc! { "_id": 1 } });
    /// engine.execute(&Command::InsertOne { ns: Namespace::new("app", "order"), document: doc! { "_id": 1 } });
    /// assert_eq!(engine.drop_database("scratch"), 1);
    /// assert_eq!(engine.namespaces(), vec![Namespace::new("app", "order")]);
    /// assert_eq!(engine.drop_database("scratch"), 0);
    /// ```
    pub fn drop_database(&mut self, database: &str) -> usize {
        let before = self.collections.len();
        self.collections.retain(|ns, _| ns.db != database);
        before - self.collections.len()
    }

    /// The first document of `ns` matching `filter` (`None` also for an invalid filter).
    pub fn find_document(&self, ns: &Namespace, filter: &Document) -> Option<Document> {
        let filter = Filter::parse(filter).ok()?;
        let collection = self.collections.get(ns)?;
        collection.find_first(&filter).and_then(|r| collection.get(r)).cloned()
    }

    /// The index names of a collection, `_id_` first; empty if the collection does not exist.
    pub fn index_names(&self, ns: &Namespace) -> Vec<String> {
        self.collections.get(ns).map(Collection::index_names).unwrap_or_default()
    }

    fn create_index(&mut self, ns: &Namespace, keys: &Document, name: &str, unique: bool) -> EngineResult<Reply> {
        validate_pattern(keys)?;
        if name.is_empty() {
            return Err(EngineError::new(code::CANNOT_CREATE_INDEX, "The index name cannot be empty"));
        }
        if unique && (name == index::ID_INDEX_NAME || keys == &bson::doc! { "_id": 1 }) {
            return Err(EngineError::new(
                code::INVALID_INDEX_SPECIFICATION_OPTION,
                format!(
                    "The field 'unique' is not valid for an _id index specification. Specification: {}",
                    Index::spec_string(name, keys, unique)
                ),
            ));
        }
        let implicit;
        let existing = match self.collections.get(ns) {
            Some(collection) => collection.indexes(),
            None => {
                implicit = [Index::id_index()];
                &implicit[..]
            }
        };
        let exists = check_new_index(existing, name, keys, unique)?;
        let collection = self.collections.entry(ns.clone()).or_insert_with(|| Collection::new(ns));
        if !exists {
            collection.add_index(Index::new(name, keys, unique))?;
        }
        Ok(Reply::Acknowledged)
    }

    fn find_one(&self, ns: &Namespace, filter: &Document, projection: Option<&Document>) -> EngineResult<Reply> {
        let filter = Filter::parse(filter)?;
        let projection = match projection {
            Some(spec) => Projection::parse(spec, self.options.slice_projection)?,
            None => None,
        };
        let Some(collection) = self.collections.get(ns) else {
            return Ok(Reply::Found(None));
        };
        let found = collection.find_first(&filter).and_then(|r| collection.get(r));
        Ok(Reply::Found(found.map(|doc| match &projection {
            Some(p) => p.apply(doc),
            None => doc.clone(),
        })))
    }

    fn find(
        &self,
        ns: &Namespace,
        filter: &Document,
        projection: Option<&Document>,
        sort: Option<&Document>,
        skip: u64,
        limit: u64,
    ) -> EngineResult<Reply> {
        let filter = Filter::parse(filter)?;
        let projection = match projection {
            Some(spec) => Projection::parse(spec, self.options.slice_projection)?,
            None => None,
        };
        let sort = sort.map(Sort::parse).transpose()?;
        let Some(collection) = self.collections.get(ns) else {
            return Ok(Reply::FoundMany(Vec::new()));
        };
        let mut matched = collection.find_all(&filter);
        if let Some(sort) = &sort {
            matched = sort.apply(matched);
        }
        let take = if limit == 0 { usize::MAX } else { usize::try_from(limit).unwrap_or(usize::MAX) };
        let docs = matched
            .into_iter()
            .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            .take(take)
            .map(|doc| match &projection {
                Some(p) => p.apply(doc),
                None => doc.clone(),
            })
            .collect();
        Ok(Reply::FoundMany(docs))
    }

    fn count(&self, ns: &Namespace, filter: &Document, skip: u64, limit: u64) -> EngineResult<Reply> {
        let filter = Filter::parse(filter)?;
        let matched = self.collections.get(ns).map_or(0, |c| c.find_all(&filter).len() as u64);
        let counted = matched.saturating_sub(skip);
        Ok(Reply::Counted(if limit == 0 { counted } else { counted.min(limit) }))
    }

    fn update_one(
        &mut self,
        ns: &Namespace,
        filter: &Document,
        update: Arg<'_, Document>,
        upsert: bool,
    ) -> EngineResult<Reply> {
        let not_matched = Reply::Updated { matched: 0, modified: 0, upserted_id: None };
        let filter = Filter::parse(filter)?;
        let mut plan = UpdatePlan::parse(update)?;
        // As on the server, an upsert creates the collection once the command has parsed,
        // before it runs (even if the insert then fails).
        if upsert && !self.collections.contains_key(ns) {
            self.collections.insert(ns.clone(), Collection::new(ns));
        }
        let max = self.options.max_document_size;
        let Some(collection) = self.collections.get_mut(ns) else {
            return Ok(not_matched);
        };
        if let Some(record) = collection.find_first(&filter) {
            let before = self.feed.as_ref().and_then(|_| collection.get(record).cloned());
            let replacing = matches!(plan, UpdatePlan::Replace(_));
            let modified = match &mut plan {
                UpdatePlan::Modify(modifiers) => collection.modify(record, modifiers, max)?,
                UpdatePlan::Replace(replacement) => collection.replace(record, replacement, max)?,
            };
            if let (Some(before), true) = (before, modified) {
                let after = collection.get(record).cloned().unwrap_or_default();
                self.record_change(ns, || match replacing {
                    true => change_feed::replace_event(&after),
                    false => change_feed::update_event(&before, &after),
                });
            }
            return Ok(Reply::Updated { matched: 1, modified: u64::from(modified), upserted_id: None });
        }
        if !upsert {
            return Ok(not_matched);
        }
        let mut ids = self.ids.clone();
        let doc = match &mut plan {
            UpdatePlan::Modify(modifiers) => {
                let mut doc = document_from_filter(&filter, Fields::All)?;
                modifiers.apply(&mut doc, true)?;
                doc
            }
            UpdatePlan::Replace(replacement) => replaced(&document_from_filter(&filter, Fields::IdOnly)?, replacement)?,
        };
        let (doc, id) = with_id_first(doc, || Bson::ObjectId(ids.next_id()));
        if let Bson::Array(_) | Bson::RegularExpression(_) | Bson::Undefined = id {
            return Err(EngineError::new(
                code::INVALID_ID_FIELD,
                format!("The '_id' value cannot be of type {}", display::type_name(&id)),
            ));
        }
        if let Some(name) = dollar_name_in_id(&id) {
            return Err(EngineError::new(
                code::DOLLAR_PREFIXED_FIELD_NAME,
                format!("The dollar ($) prefixed field '{name}' in '_id' is not valid for storage."),
            ));
        }
        if document_too_deep(&doc) {
            return Err(depth_error());
        }
        let size = bson_size(&doc);
        if size > max {
            return Err(EngineError::new(
                codes::DOCUMENT_TOO_LARGE_TO_UPSERT,
                format!("Document to upsert is larger than {max}"),
            ));
        }
        let event = self.feed.as_ref().map(|_| change_feed::insert_event(&doc));
        collection.insert(doc, size)?;
        self.ids = ids;
        if let Some(event) = event {
            self.record_change(ns, || event);
        }
        Ok(Reply::Updated { matched: 0, modified: 0, upserted_id: Some(id) })
    }

    fn insert_one(&mut self, ns: &Namespace, document: Document) -> EngineResult<Reply> {
        let mut ids = self.ids.clone();
        let (doc, id) = with_id_first(document, || Bson::ObjectId(ids.next_id()));
        if let Bson::Array(_) | Bson::RegularExpression(_) | Bson::Undefined = id {
            let kind = match id {
                Bson::Array(_) => "an array",
                Bson::RegularExpression(_) => "a regex",
                _ => "a undefined",
            };
            return Err(EngineError::bad_value(format!("can't use {kind} for _id")));
        }
        if let Some(name) = dollar_name_in_id(&id) {
            return Err(EngineError::new(
                code::DOLLAR_PREFIXED_FIELD_NAME,
                format!("_id fields may not contain '$'-prefixed fields: {name} is not valid for storage."),
            ));
        }
        if document_too_deep(&doc) {
            return Err(depth_error());
        }
        let size = bson_size(&doc);
        let max = self.options.max_document_size;
        if size > max {
            return Err(EngineError::new(
                codes::BSON_OBJECT_TOO_LARGE,
                format!("object to insert too large. size in bytes: {size}, max size: {max}"),
            ));
        }
        let event = self.feed.as_ref().map(|_| change_feed::insert_event(&doc));
        let collection = self.collections.entry(ns.clone()).or_insert_with(|| Collection::new(ns));
        collection.insert(doc, size)?;
        self.ids = ids;
        if let Some(event) = event {
            self.record_change(ns, || event);
        }
        Ok(Reply::Inserted { id })
    }

    fn delete_one(&mut self, ns: &Namespace, filter: &Document) -> EngineResult<Reply> {
        let filter = Filter::parse(filter)?;
        let Some(collection) = self.collections.get_mut(ns) else {
            return Ok(Reply::Deleted { count: 0 });
        };
        match collection.find_first(&filter) {
            Some(record) => {
                let id = collection.get(record).and_then(|d| d.get("_id").cloned()).unwrap_or(Bson::Null);
                collection.remove(record);
                self.record_change(ns, || change_feed::delete_event(id));
                Ok(Reply::Deleted { count: 1 })
            }
            None => Ok(Reply::Deleted { count: 0 }),
        }
    }
}

/// `doc` with `_id` as its first field (generated when absent), and that `_id`.
fn with_id_first(doc: Document, generate: impl FnOnce() -> Bson) -> (Document, Bson) {
    if let Some((key, id)) = doc.iter().next() {
        if key == "_id" {
            let id = id.clone();
            return (doc, id);
        }
    }
    let id = match doc.get("_id") {
        Some(id) => id.clone(),
        None => generate(),
    };
    let mut out = Document::new();
    out.insert("_id", id.clone());
    for (key, value) in doc {
        if key != "_id" {
            out.insert(key, value);
        }
    }
    (out, id)
}

/// A `$`-prefixed field name inside an `_id` value, which the server refuses to store
/// (52 DollarPrefixedFieldName) although 5.0+ accepts such names everywhere else
/// (jstests/core/field_name_validation.js: inserting `{_id: {$b: 1}}` and upserting
/// `{_id: {$invalid: 1}}` fail with DollarPrefixedFieldName).
fn dollar_name_in_id(id: &Bson) -> Option<&str> {
    match id {
        Bson::Document(d) => {
            d.iter().find_map(|(k, v)| if k.starts_with('$') { Some(k.as_str()) } else { dollar_name_in_id(v) })
        }
        Bson::Array(items) => items.iter().find_map(dollar_name_in_id),
        _ => None,
    }
}
