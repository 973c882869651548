//! The seam: MongoDB commands and their replies, as data.
//!
//! Operations ([`crate::ops`]) yield [`Command`]s and consume [`Reply`]s; an executor
//! (core's [`crate::engine::Engine`], or a MongoDB driver in the host) runs them. A
//! command holds exactly what goes over the wire, so it can also be shown as mongosh
//! syntax ([`Command::to_mongosh`]).

use std::fmt;

use bson::{Bson, Document};
use serde::{Deserialize, Serialize};

use crate::mongosh;

/// Where a command runs: a database and a collection in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Namespace {
    /// The database name.
    pub db: String,
    /// The collection name.
    pub collection: String,
}

impl Namespace {
    /// A namespace from its two parts.
    pub fn new(db: impl Into<String>, collection: impl Into<String>) -> Self {
        Self { db: db.into(), collection: collection.into() }
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.db, self.collection)
    }
}

/// One MongoDB command, as the driver would send it.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `createIndexes` with one index. Idempotent when the same index exists.
    ///
    /// Expected replies: [`Reply::Acknowledged`], [`Reply::DuplicateKey`] (existing
    /// documents violate a unique index) or [`Reply::ServerError`].
    CreateIndex {
        ns: Namespace,
        /// The key pattern, e.g. `{ streamName: 1 }`.
        keys: Document,
        /// The index name, e.g. `streamName_1`.
        name: String,
        unique: bool,
    },
    /// `find` with `limit: 1`, `singleBatch: true`.
    ///
    /// Expected replies: [`Reply::Found`] or [`Reply::ServerError`] (e.g. 238
    /// NotImplemented from servers without `$slice` projections).
    FindOne { ns: Namespace, filter: Document, projection: Option<Document> },
    /// `find` returning every matching document (all batches), ordered by `sort`, after
    /// skipping `skip` of them, at most `limit` (0: no limit, as MongoDB reads it).
    ///
    /// Expected replies: [`Reply::FoundMany`] or [`Reply::ServerError`].
    Find {
        ns: Namespace,
        filter: Document,
        projection: Option<Document>,
        sort: Option<Document>,
        skip: u64,
        limit: u64,
    },
    /// `countDocuments`: how many documents match `filter`, after skipping `skip`, at
    /// most `limit` (0: no limit). The drivers run it as the aggregation
    /// `[{ $match }, { $skip }?, { $limit }?, { $group: { _id: 1, n: { $sum: 1 } } }]`.
    ///
    /// Expected replies: [`Reply::Counted`] or [`Reply::ServerError`].
    Count { ns: Namespace, filter: Document, skip: u64, limit: u64 },
    /// `update` with one statement, `multi: false`.
    ///
    /// Expected replies: [`Reply::Updated`], [`Reply::DuplicateKey`] or
    /// [`Reply::ServerError`].
    UpdateOne { ns: Namespace, filter: Document, update: Document, upsert: bool },
    /// `insert` of one document (archiving copies documents with it).
    ///
    /// Expected replies: [`Reply::Inserted`], [`Reply::DuplicateKey`] or
    /// [`Reply::ServerError`].
    InsertOne { ns: Namespace, document: Document },
    /// `delete` with one statement, `limit: 1`.
    ///
    /// Expected replies: [`Reply::Deleted`] or [`Reply::ServerError`].
    DeleteOne { ns: Namespace, filter: Document },
}

impl Command {
    /// The namespace the command targets.
    pub fn namespace(&self) -> &Namespace {
        match self {
            Command::CreateIndex { ns, .. }
            | Command::FindOne { ns, .. }
            | Command::Find { ns, .. }
            | Command::Count { ns, .. }
            | Command::UpdateOne { ns, .. }
            | Command::InsertOne { ns, .. }
            | Command::DeleteOne { ns, .. } => ns,
        }
    }

    /// A short name for logs: `createIndex`, `findOne`, `updateOne`, ...
    pub fn kind(&self) -> &'static str {
        match self {
            Command::CreateIndex { .. } => "createIndex",
            Command::FindOne { .. } => "findOne",
            Command::Find { .. } => "find",
            Command::Count { .. } => "count",
            Command::UpdateOne { .. } => "updateOne",
            Command::InsertOne { .. } => "insertOne",
            Command::DeleteOne { .. } => "deleteOne",
        }
    }

    /// The command in mongosh syntax, e.g.
    /// `db.getSiblingDB("app").getCollection("order").findOne({ streamName: { $eq: "order:1" } })`.
    ///
    /// ```
    /// use bson::doc;
    /// use streamdoc_core::{Command, Namespace};
    ///
    /// let cmd = Command::FindOne {
    ///     ns: Namespace::new("app", "order"),
    ///     filter: doc! { "streamName": { "$eq": "order:1" } },
    ///     projection: None,
    /// };
    /// assert_eq!(
    ///     cmd.to_mongosh(),
    ///     r#"db.getSiblingDB("app").getCollection("order").findOne({ streamName: { $eq: "order:1" } })"#
    /// );
    /// ```
    pub fn to_mongosh(&self) -> String {
        let ns = self.namespace();
        let target =
            format!("db.getSiblingDB({}).getCollection({})", mongosh::string(&ns.db), mongosh::string(&ns.collection));
        match self {
            Command::CreateIndex { keys, name, unique, .. } => {
                let mut options = Document::new();
                options.insert("name", name.clone());
                if *unique {
                    options.insert("unique", true);
                }
                format!("{target}.createIndex({}, {})", mongosh::document(keys), mongosh::document(&options))
            }
            Command::FindOne { filter, projection, .. } => match projection {
                Some(p) => format!("{target}.findOne({}, {})", mongosh::document(filter), mongosh::document(p)),
                None => format!("{target}.findOne({})", mongosh::document(filter)),
            },
            Command::Find { filter, projection, sort, skip, limit, .. } => {
                let mut call = match projection {
                    Some(p) => format!("{target}.find({}, {})", mongosh::document(filter), mongosh::document(p)),
                    None => format!("{target}.find({})", mongosh::document(filter)),
                };
                if let Some(sort) = sort {
                    call.push_str(&format!(".sort({})", mongosh::document(sort)));
                }
                if *skip > 0 {
                    call.push_str(&format!(".skip({skip})"));
                }
                if *limit > 0 {
                    call.push_str(&format!(".limit({limit})"));
                }
                call
            }
            Command::Count { filter, skip, limit, .. } => {
                let mut options = Document::new();
                if *skip > 0 {
                    options.insert("skip", *skip as i64);
                }
                if *limit > 0 {
                    options.insert("limit", *limit as i64);
                }
                match options.is_empty() {
                    true => format!("{target}.countDocuments({})", mongosh::document(filter)),
                    false => format!(
                        "{target}.countDocuments({}, {})",
                        mongosh::document(filter),
                        mongosh::document(&options)
                    ),
                }
            }
            Command::UpdateOne { filter, update, upsert, .. } => {
                let options = if *upsert { ", { upsert: true }" } else { "" };
                format!("{target}.updateOne({}, {}{options})", mongosh::document(filter), mongosh::document(update))
            }
            Command::InsertOne { document, .. } => format!("{target}.insertOne({})", mongosh::document(document)),
            Command::DeleteOne { filter, .. } => format!("{target}.deleteOne({})", mongosh::document(filter)),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_mongosh())
    }
}

/// A server's answer to a [`Command`], in core's terms.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// A command that returns nothing but success (`createIndex`).
    Acknowledged,
    /// The answer to [`Command::FindOne`].
    Found(Option<Document>),
    /// The answer to [`Command::Find`]: the documents, in order.
    FoundMany(Vec<Document>),
    /// The answer to [`Command::Count`].
    Counted(u64),
    /// The answer to [`Command::UpdateOne`]; `upserted_id` is set when the upsert inserted.
    Updated { matched: u64, modified: u64, upserted_id: Option<Bson> },
    /// The answer to [`Command::InsertOne`].
    Inserted { id: Bson },
    /// The answer to [`Command::DeleteOne`].
    Deleted { count: u64 },
    /// Write error 11000: a unique index refused the write.
    DuplicateKey { message: String },
    /// Any other server error, with its code (e.g. 17419 document too large, 238 not
    /// implemented).
    ServerError { code: i32, message: String },
}

impl Reply {
    /// The reply in mongosh-like syntax, for command logs.
    pub fn to_mongosh(&self) -> String {
        match self {
            Reply::Acknowledged => "{ ok: 1 }".to_owned(),
            Reply::Found(None) => "null".to_owned(),
            Reply::Found(Some(d)) => mongosh::document(d),
            Reply::FoundMany(docs) => {
                let items: Vec<String> = docs.iter().map(mongosh::document).collect();
                format!("[ {} ]", items.join(", "))
            }
            Reply::Counted(n) => n.to_string(),
            Reply::Updated { matched, modified, upserted_id } => {
                let mut s = format!("{{ acknowledged: true, matchedCount: {matched}, modifiedCount: {modified}");
                match upserted_id {
                    Some(id) => s.push_str(&format!(", upsertedCount: 1, upsertedId: {} }}", mongosh::value(id))),
                    None => s.push_str(", upsertedCount: 0 }"),
                }
                s
            }
            Reply::Inserted { id } => format!("{{ acknowledged: true, insertedId: {} }}", mongosh::value(id)),
            Reply::Deleted { count } => format!("{{ acknowledged: true, deletedCount: {count} }}"),
            Reply::DuplicateKey { message } => format!("MongoServerError[11000]: {message}"),
            Reply::ServerError { code, message } => format!("MongoServerError[{code}]: {message}"),
        }
    }
}

/// Server error codes that core reacts to.
pub mod codes {
    /// Generic bad value (e.g. `$push` onto a non-array, `$inc` overflow).
    pub const BAD_VALUE: i32 = 2;
    /// A value of the wrong type (`$inc` on a string).
    pub const TYPE_MISMATCH: i32 = 14;
    /// Nesting deeper than the server allows.
    pub const OVERFLOW: i32 = 15;
    /// A field path cannot be created (`a.b` where `a` is a string).
    pub const PATH_NOT_VIABLE: i32 = 28;
    /// Two update operators touch the same or overlapping paths.
    pub const CONFLICTING_UPDATE_OPERATORS: i32 = 40;
    /// Equality on both `a` and `a.b` in an upsert filter.
    pub const NOT_SINGLE_VALUE_FIELD: i32 = 54;
    /// An update tried to change `_id`.
    pub const IMMUTABLE_FIELD: i32 = 66;
    /// An index with the same name and other keys exists.
    pub const INDEX_KEY_SPECS_CONFLICT: i32 = 86;
    /// An index with the same keys and other options exists.
    pub const INDEX_OPTIONS_CONFLICT: i32 = 85;
    /// The server does not implement a feature (FerretDB: `$slice` projections).
    pub const NOT_IMPLEMENTED: i32 = 238;
    /// MongoDB's `UnknownError`: what an executor reports for a failure the server
    /// answered with `ok: 0` and no code at all (mongo-java-server does, for a `$slice`
    /// past the end of the array; MongoDB always sends a code).
    pub const UNKNOWN_ERROR: i32 = 8;
    /// Unique index violation.
    pub const DUPLICATE_KEY: i32 = 11000;
    /// An update grew the document past 16 MiB.
    pub const DOCUMENT_TOO_LARGE_AFTER_UPDATE: i32 = 17419;
    /// An upsert would insert a document past 16 MiB.
    pub const DOCUMENT_TOO_LARGE_TO_UPSERT: i32 = 17420;
    /// Insert of a document past 16 MiB (`BSONObjectTooLarge`).
    pub const BSON_OBJECT_TOO_LARGE: i32 = 10334;

    /// Whether `code` says a write would make a document larger than the server allows.
    pub fn is_document_too_large(code: i32) -> bool {
        matches!(code, DOCUMENT_TOO_LARGE_AFTER_UPDATE | DOCUMENT_TOO_LARGE_TO_UPSERT | BSON_OBJECT_TOO_LARGE)
    }
}
