//! Helpers shared by the ported jstests: one collection of a fresh engine, the shell's
//! `insert` / `update` / `findOne` / `createIndex`, and an order-sensitive document check.

use bson::{Bson, Document};
use streamdoc_core::command::codes;
use streamdoc_core::{Command, Engine, Namespace, Reply};

/// One collection (`test.coll`) of its own engine, as a jstest's `db.coll` after `drop()`.
pub struct Coll {
    pub engine: Engine,
    pub ns: Namespace,
}

impl Coll {
    pub fn new() -> Self {
        Self { engine: Engine::new(1), ns: Namespace::new("test", "coll") }
    }

    pub fn insert(&mut self, document: Document) -> Reply {
        self.engine.execute(&Command::InsertOne { ns: self.ns.clone(), document })
    }

    /// `insert` that must succeed (a jstest's setup `save`/`insert`).
    pub fn seed(&mut self, document: Document) {
        let reply = self.insert(document);
        assert!(matches!(reply, Reply::Inserted { .. }), "setup insert failed: {reply:?}");
    }

    pub fn update(&mut self, filter: Document, update: Document) -> Reply {
        self.engine.execute(&Command::UpdateOne { ns: self.ns.clone(), filter, update, upsert: false })
    }

    pub fn upsert(&mut self, filter: Document, update: Document) -> Reply {
        self.engine.execute(&Command::UpdateOne { ns: self.ns.clone(), filter, update, upsert: true })
    }

    pub fn find_one(&mut self, filter: Document, projection: Option<Document>) -> Option<Document> {
        match self.engine.execute(&Command::FindOne { ns: self.ns.clone(), filter, projection }) {
            Reply::Found(found) => found,
            other => panic!("findOne failed: {other:?}"),
        }
    }

    /// `findOne({}, projection)`, which must find a document.
    pub fn project(&mut self, projection: Document) -> Document {
        self.find_one(Document::new(), Some(projection)).expect("a document")
    }

    /// The reply of `findOne({}, projection)` (for projections that must fail).
    pub fn project_reply(&mut self, projection: Document) -> Reply {
        self.engine.execute(&Command::FindOne {
            ns: self.ns.clone(),
            filter: Document::new(),
            projection: Some(projection),
        })
    }

    /// `findOne()`: the first document in natural order.
    pub fn one(&self) -> Document {
        self.docs().into_iter().next().expect("the collection has a document")
    }

    pub fn docs(&self) -> Vec<Document> {
        self.engine.documents(&self.ns)
    }

    /// `find(filter).count()`.
    pub fn count(&self, filter: Document) -> usize {
        // The engine answers `findOne`; count by deleting matches on a copy.
        let mut copy = self.engine.clone();
        let mut n = 0;
        while let Reply::Deleted { count: 1 } =
            copy.execute(&Command::DeleteOne { ns: self.ns.clone(), filter: filter.clone() })
        {
            n += 1;
        }
        n
    }

    pub fn create_index(&mut self, keys: Document, unique: bool) -> Reply {
        let name = keys.iter().map(|(k, v)| format!("{k}_{}", index_direction(v))).collect::<Vec<_>>().join("_");
        self.engine.execute(&Command::CreateIndex { ns: self.ns.clone(), keys, name, unique })
    }
}

fn index_direction(value: &Bson) -> String {
    match value {
        Bson::Int32(i) => i.to_string(),
        Bson::Int64(i) => i.to_string(),
        Bson::Double(d) => format!("{d}"),
        other => other.to_string(),
    }
}

/// The encoded BSON of a document: equal bytes mean the same fields, in the same order,
/// with the same types (`bson::Document`'s `==` ignores field order).
fn bytes(doc: &Document) -> Vec<u8> {
    doc.to_vec().expect("encodable document")
}

/// Asserts that `actual` is `expected` exactly: field order and value types included.
#[track_caller]
pub fn assert_doc(actual: &Document, expected: &Document) {
    assert!(
        bytes(actual) == bytes(expected),
        "documents differ (order-sensitive)\n  actual:   {actual:?}\n  expected: {expected:?}"
    );
}

/// The keys of a document, in order.
pub fn keys(doc: &Document) -> Vec<&str> {
    doc.keys().map(String::as_str).collect()
}

/// The server error code of a failed reply.
#[track_caller]
pub fn code(reply: &Reply) -> i32 {
    match reply {
        Reply::ServerError { code, .. } => *code,
        Reply::DuplicateKey { .. } => codes::DUPLICATE_KEY,
        other => panic!("expected a write error, got {other:?}"),
    }
}

/// Asserts that a reply is a write error with `expected` code.
#[track_caller]
pub fn assert_code(reply: &Reply, expected: i32) {
    assert_eq!(code(reply), expected, "{reply:?}");
}

/// Asserts that a reply is a success (`assert.commandWorked`).
#[track_caller]
pub fn assert_worked(reply: &Reply) {
    assert!(
        !matches!(reply, Reply::ServerError { .. } | Reply::DuplicateKey { .. }),
        "expected success, got {reply:?}"
    );
}

/// The document an upsert into an empty collection stores (`upsert_fields.js`'s
/// `upsertedResult` + `findOne`), or the reply when it fails.
pub fn upserted(filter: Document, update: Document) -> Result<Document, Box<Reply>> {
    let mut coll = Coll::new();
    let reply = coll.upsert(filter, update);
    match reply {
        Reply::Updated { upserted_id: Some(_), .. } => Ok(coll.one()),
        other => Err(Box::new(other)),
    }
}
