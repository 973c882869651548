//! Commands and replies as JSON: the wire form a remote executor receives and answers
//! in (the host's `POST /commands`), the very shape the JavaScript package gives a
//! JavaScript executor and reads back from it.
//!
//! A command is `{ kind, database, collection, ... }`:
//!
//! | `kind` | other fields |
//! |---|---|
//! | `"createIndex"` | `keys` (document), `name` (string), `unique` (boolean) |
//! | `"findOne"` | `filter` (document), `projection` (document or `null`) |
//! | `"find"` | `filter`, `projection` and `sort` (documents or `null`), `skip`, `limit` (numbers; a limit of 0 is none) |
//! | `"count"` | `filter`, `skip`, `limit` |
//! | `"updateOne"` | `filter`, `update` (documents), `upsert` (boolean) |
//! | `"insertOne"` | `document` |
//! | `"deleteOne"` | `filter` |
//!
//! A reply is `{ kind, ... }`:
//!
//! | `kind` | other fields |
//! |---|---|
//! | `"acknowledged"` | |
//! | `"found"` | `document` (document or `null`) |
//! | `"foundMany"` | `documents` (array of documents) |
//! | `"counted"` | `count` (number) |
//! | `"updated"` | `matchedCount`, `modifiedCount` (numbers), `upsertedId` (value or `null`) |
//! | `"inserted"` | `insertedId` (value) |
//! | `"deleted"` | `deletedCount` (number) |
//! | `"duplicateKey"` | `message` (string) |
//! | `"serverError"` | `code` (number), `message` (string) |
//!
//! **Out** ([`command_to_json`], [`reply_to_json`]): every field above is written,
//! documents and values in canonical Extended JSON (`{ "$numberInt": "1" }`), so they
//! round-trip exactly.
//!
//! **In** ([`command_from_json`], [`reply_from_json`]): documents and values may be in
//! any Extended JSON, canonical or relaxed. An object with an Extended JSON type key
//! ([`EXTENDED_JSON_KEYS`]) is a typed value (adding no level); a plain JSON number
//! follows core's one number rule ([`crate::json::json_number`]), as a JavaScript
//! `number` does; other keys are kept verbatim (`$set` and `a.b` are data). Documents
//! nest at most [`MAX_STORED_DEPTH`] levels, as a stored document does, and the
//! conversion never descends past that limit. The flags (`unique`, `upsert`) may be left
//! out (false), as may `projection`, `sort`, `document` of a found reply and `upsertedId` (none),
//! `skip` and `limit` (0),
//! and `message` (empty); every other field is required. A field of the wrong type, an
//! unknown `kind`, or a field the kind does not have is refused with a [`WireError`]
//! (the JavaScript package's own reader ignores unknown fields).
//!
//! ```
//! use bson::doc;
//! use serde_json::json;
//! use streamdoc_core::{wire, Command, Namespace, Reply};
//!
//! let find = Command::FindOne { ns: Namespace::new("app", "order"), filter: doc! { "n": 1 }, projection: None };
//! let sent = wire::command_to_json(&find);
//! assert_eq!(
//!     sent,
//!     json!({ "kind": "findOne", "database": "app", "collection": "order",
//!             "filter": { "n": { "$numberInt": "1" } }, "projection": null })
//! );
//! assert_eq!(wire::command_from_json(&sent).unwrap(), find);
//!
//! let reply = wire::reply_from_json(&json!({ "kind": "deleted", "deletedCount": 1 })).unwrap();
//! assert_eq!(reply, Reply::Deleted { count: 1 });
//! assert!(wire::command_from_json(&json!({ "kind": "drop", "database": "app", "collection": "order" })).is_err());
//! ```

use std::fmt;

use bson::{Bson, Document};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::command::{Command, Namespace, Reply};
use crate::limits::MAX_STORED_DEPTH;

/// The command kinds, as `kind` spells them.
pub const COMMAND_KINDS: [&str; 7] = ["createIndex", "findOne", "find", "count", "updateOne", "insertOne", "deleteOne"];

/// The reply kinds, as `kind` spells them.
pub const REPLY_KINDS: [&str; 9] =
    ["acknowledged", "found", "foundMany", "counted", "updated", "inserted", "deleted", "duplicateKey", "serverError"];

/// The Extended JSON keys that make an object a typed value rather than a document.
pub const EXTENDED_JSON_KEYS: [&str; 17] = [
    "$oid",
    "$symbol",
    "$numberInt",
    "$numberLong",
    "$numberDouble",
    "$numberDecimal",
    "$binary",
    "$uuid",
    "$code",
    "$timestamp",
    "$regularExpression",
    "$regex",
    "$dbPointer",
    "$date",
    "$minKey",
    "$maxKey",
    "$undefined",
];

/// How deep an Extended JSON typed value may nest within itself (the deepest form,
/// `$dbPointer`, nests 3 levels).
const MAX_EXTENDED_JSON_DEPTH: usize = 4;

/// The largest integer a JSON number written by JavaScript holds exactly (2^53 - 1).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// What a [`WireError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Part {
    /// A command.
    Command,
    /// A reply.
    Reply,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Part::Command => "command",
            Part::Reply => "reply",
        })
    }
}

/// Why JSON is not a command or a reply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[serde(tag = "reason", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum WireError {
    /// The value is not a JSON object.
    #[error("a {part} must be a JSON object")]
    NotAnObject { part: Part },
    /// A required field is absent.
    #[error("the {part} has no `{field}`")]
    MissingField { part: Part, field: &'static str },
    /// A field holds a value of the wrong type.
    #[error("the {part}'s `{field}` must be {expected}")]
    WrongType { part: Part, field: &'static str, expected: &'static str },
    /// `kind` names no command (no reply).
    #[error("unknown {part} kind {kind:?}: expected one of {}", expected_kinds(*part))]
    UnknownKind { part: Part, kind: String },
    /// A field this kind of command (reply) does not have.
    #[error("a {kind} {part} has no field `{field}`")]
    UnknownField { part: Part, kind: &'static str, field: String },
    /// A document or value nests deeper than a stored document may.
    #[error("the {part}'s `{field}` nests deeper than {limit} levels")]
    TooDeep { part: Part, field: &'static str, limit: usize },
    /// An object with an Extended JSON type key that is not a valid typed value.
    #[error("the {part}'s `{field}` holds invalid Extended JSON: {message}")]
    InvalidExtendedJson { part: Part, field: &'static str, message: String },
}

fn expected_kinds(part: Part) -> String {
    let kinds: &[&str] = match part {
        Part::Command => &COMMAND_KINDS,
        Part::Reply => &REPLY_KINDS,
    };
    kinds.join(", ")
}

// ---------------------------------------------------------------- out

/// A document as canonical Extended JSON.
fn canonical(doc: &Document) -> Value {
    Bson::Document(doc.clone()).into_canonical_extjson()
}

/// A command in the wire form (documents in canonical Extended JSON).
pub fn command_to_json(command: &Command) -> Value {
    let ns = command.namespace();
    let mut object = Map::new();
    object.insert("kind".into(), command.kind().into());
    object.insert("database".into(), ns.db.clone().into());
    object.insert("collection".into(), ns.collection.clone().into());
    let mut set = |key: &str, value: Value| object.insert(key.into(), value);
    match command {
        Command::CreateIndex { keys, name, unique, .. } => {
            set("keys", canonical(keys));
            set("name", name.clone().into());
            set("unique", (*unique).into());
        }
        Command::FindOne { filter, projection, .. } => {
            set("filter", canonical(filter));
            set("projection", projection.as_ref().map_or(Value::Null, canonical));
        }
        Command::Find { filter, projection, sort, skip, limit, .. } => {
            set("filter", canonical(filter));
            set("projection", projection.as_ref().map_or(Value::Null, canonical));
            set("sort", sort.as_ref().map_or(Value::Null, canonical));
            set("skip", (*skip).into());
            set("limit", (*limit).into());
        }
        Command::Count { filter, skip, limit, .. } => {
            set("filter", canonical(filter));
            set("skip", (*skip).into());
            set("limit", (*limit).into());
        }
        Command::UpdateOne { filter, update, upsert, .. } => {
            set("filter", canonical(filter));
            set("update", canonical(update));
            set("upsert", (*upsert).into());
        }
        Command::InsertOne { document, .. } => {
            set("document", canonical(document));
        }
        Command::DeleteOne { filter, .. } => {
            set("filter", canonical(filter));
        }
    }
    Value::Object(object)
}

/// A reply in the wire form (documents and values in canonical Extended JSON).
pub fn reply_to_json(reply: &Reply) -> Value {
    let mut object = Map::new();
    let kind = match reply {
        Reply::Acknowledged => "acknowledged",
        Reply::Found(_) => "found",
        Reply::FoundMany(_) => "foundMany",
        Reply::Counted(_) => "counted",
        Reply::Updated { .. } => "updated",
        Reply::Inserted { .. } => "inserted",
        Reply::Deleted { .. } => "deleted",
        Reply::DuplicateKey { .. } => "duplicateKey",
        Reply::ServerError { .. } => "serverError",
    };
    object.insert("kind".into(), kind.into());
    let mut set = |key: &str, value: Value| object.insert(key.into(), value);
    match reply {
        Reply::Acknowledged => {}
        Reply::Found(doc) => {
            set("document", doc.as_ref().map_or(Value::Null, canonical));
        }
        Reply::FoundMany(docs) => {
            set("documents", Value::Array(docs.iter().map(canonical).collect()));
        }
        Reply::Counted(n) => {
            set("count", (*n).into());
        }
        Reply::Updated { matched, modified, upserted_id } => {
            set("matchedCount", (*matched).into());
            set("modifiedCount", (*modified).into());
            set("upsertedId", upserted_id.clone().map_or(Value::Null, Bson::into_canonical_extjson));
        }
        Reply::Inserted { id } => {
            set("insertedId", id.clone().into_canonical_extjson());
        }
        Reply::Deleted { count } => {
            set("deletedCount", (*count).into());
        }
        Reply::DuplicateKey { message } => {
            set("message", message.clone().into());
        }
        Reply::ServerError { code, message } => {
            set("code", (*code).into());
            set("message", message.clone().into());
        }
    }
    Value::Object(object)
}

// ---------------------------------------------------------------- in

/// The fields of one command or reply object, read by name.
struct Fields<'a> {
    part: Part,
    object: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    fn of(value: &'a Value, part: Part) -> Result<Self, WireError> {
        match value {
            Value::Object(object) => Ok(Self { part, object }),
            _ => Err(WireError::NotAnObject { part }),
        }
    }

    /// The field, `None` when absent or `null`.
    fn optional(&self, field: &'static str) -> Option<&'a Value> {
        self.object.get(field).filter(|v| !v.is_null())
    }

    fn required(&self, field: &'static str) -> Result<&'a Value, WireError> {
        self.optional(field).ok_or(WireError::MissingField { part: self.part, field })
    }

    fn wrong(&self, field: &'static str, expected: &'static str) -> WireError {
        WireError::WrongType { part: self.part, field, expected }
    }

    fn string(&self, field: &'static str) -> Result<String, WireError> {
        let value = self.required(field)?;
        value.as_str().map(str::to_owned).ok_or_else(|| self.wrong(field, "a string"))
    }

    /// A string that may be left out (empty).
    fn message(&self) -> Result<String, WireError> {
        match self.optional("message") {
            None => Ok(String::new()),
            Some(v) => v.as_str().map(str::to_owned).ok_or_else(|| self.wrong("message", "a string")),
        }
    }

    /// A boolean that may be left out (false).
    fn flag(&self, field: &'static str) -> Result<bool, WireError> {
        match self.optional(field) {
            None => Ok(false),
            Some(v) => v.as_bool().ok_or_else(|| self.wrong(field, "a boolean")),
        }
    }

    fn count(&self, field: &'static str) -> Result<u64, WireError> {
        let value = self.required(field)?;
        let exact = value.as_u64();
        let written_as_float = || value.as_f64().filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n <= MAX_SAFE_INTEGER);
        exact
            .or_else(|| written_as_float().map(|n| n as u64))
            .ok_or_else(|| self.wrong(field, "a non-negative integer"))
    }

    /// A count that may be left out (0).
    fn optional_count(&self, field: &'static str) -> Result<u64, WireError> {
        match self.optional(field) {
            None => Ok(0),
            Some(_) => self.count(field),
        }
    }

    /// An array of documents.
    fn documents(&self, field: &'static str) -> Result<Vec<Document>, WireError> {
        match self.required(field)? {
            Value::Array(items) => items.iter().map(|item| self.document_value(field, item)).collect(),
            _ => Err(self.wrong(field, "an array of documents")),
        }
    }

    fn code(&self) -> Result<i32, WireError> {
        let value = self.required("code")?;
        let exact = value.as_i64().and_then(|n| i32::try_from(n).ok());
        let written_as_float =
            || value.as_f64().filter(|n| n.fract() == 0.0 && *n >= f64::from(i32::MIN) && *n <= f64::from(i32::MAX));
        exact.or_else(|| written_as_float().map(|n| n as i32)).ok_or_else(|| self.wrong("code", "a 32-bit integer"))
    }

    fn document(&self, field: &'static str) -> Result<Document, WireError> {
        self.document_value(field, self.required(field)?)
    }

    fn optional_document(&self, field: &'static str) -> Result<Option<Document>, WireError> {
        self.optional(field).map(|v| self.document_value(field, v)).transpose()
    }

    fn document_value(&self, field: &'static str, value: &Value) -> Result<Document, WireError> {
        match self.bson(field, value)? {
            Bson::Document(doc) => Ok(doc),
            _ => Err(self.wrong(field, "a document (a JSON object)")),
        }
    }

    fn bson(&self, field: &'static str, value: &Value) -> Result<Bson, WireError> {
        let reader = Reader { part: self.part, field };
        reader.value(value, 0)
    }
}

/// Reads one field's JSON as BSON, refusing anything nested past [`MAX_STORED_DEPTH`].
struct Reader {
    part: Part,
    field: &'static str,
}

impl Reader {
    fn too_deep(&self) -> WireError {
        WireError::TooDeep { part: self.part, field: self.field, limit: MAX_STORED_DEPTH }
    }

    /// The level of a child of an element at `level`, if within the limit.
    fn child(&self, level: usize) -> Result<usize, WireError> {
        if level >= MAX_STORED_DEPTH {
            return Err(self.too_deep());
        }
        Ok(level + 1)
    }

    /// `value`, held by an element at nesting `level` (0: the field's value itself).
    fn value(&self, value: &Value, level: usize) -> Result<Bson, WireError> {
        Ok(match value {
            Value::Null => Bson::Null,
            Value::Bool(b) => Bson::Boolean(*b),
            Value::Number(n) => crate::json::json_number(n),
            Value::String(s) => Bson::String(s.clone()),
            Value::Array(items) => {
                let level = self.child(level)?;
                Bson::Array(items.iter().map(|item| self.value(item, level)).collect::<Result<_, _>>()?)
            }
            Value::Object(map) if map.keys().any(|k| EXTENDED_JSON_KEYS.contains(&k.as_str())) => {
                // A typed value is a scalar: it adds no level to the document.
                if json_deeper_than(value, MAX_EXTENDED_JSON_DEPTH) {
                    return Err(self.invalid("it nests too deep".into()));
                }
                Bson::try_from(value.clone()).map_err(|e| self.invalid(e.to_string()))?
            }
            Value::Object(map) => {
                let level = self.child(level)?;
                let mut doc = Document::new();
                for (key, item) in map {
                    doc.insert(key.clone(), self.value(item, level)?);
                }
                Bson::Document(doc)
            }
        })
    }

    fn invalid(&self, message: String) -> WireError {
        WireError::InvalidExtendedJson { part: self.part, field: self.field, message }
    }
}

/// Whether the containers of `value` nest deeper than `limit` (without descending past
/// it); an empty one adds no level.
fn json_deeper_than(value: &Value, limit: usize) -> bool {
    let deeper = |mut children: Box<dyn Iterator<Item = &Value> + '_>| match limit {
        0 => children.next().is_some(),
        _ => children.any(|v| json_deeper_than(v, limit - 1)),
    };
    match value {
        Value::Array(items) => deeper(Box::new(items.iter())),
        Value::Object(map) => deeper(Box::new(map.values())),
        _ => false,
    }
}

/// The fields every command has.
const COMMAND_FIELDS: [&str; 3] = ["kind", "database", "collection"];

/// The other fields of each kind of command.
const COMMAND_SHAPES: [(&str, &[&str]); 7] = [
    ("createIndex", &["keys", "name", "unique"]),
    ("findOne", &["filter", "projection"]),
    ("find", &["filter", "projection", "sort", "skip", "limit"]),
    ("count", &["filter", "skip", "limit"]),
    ("updateOne", &["filter", "update", "upsert"]),
    ("insertOne", &["document"]),
    ("deleteOne", &["filter"]),
];

/// The other fields of each kind of reply (beside `kind`).
const REPLY_SHAPES: [(&str, &[&str]); 9] = [
    ("acknowledged", &[]),
    ("found", &["document"]),
    ("foundMany", &["documents"]),
    ("counted", &["count"]),
    ("updated", &["matchedCount", "modifiedCount", "upsertedId"]),
    ("inserted", &["insertedId"]),
    ("deleted", &["deletedCount"]),
    ("duplicateKey", &["message"]),
    ("serverError", &["code", "message"]),
];

impl Fields<'_> {
    /// The `kind`, one of `shapes`, once no field is one its kind does not have
    /// (`common` or its own).
    fn kind(&self, shapes: &[(&'static str, &[&str])], common: &[&str]) -> Result<&'static str, WireError> {
        let kind = self.string("kind")?;
        let Some((kind, own)) = shapes.iter().find(|(k, _)| *k == kind) else {
            return Err(WireError::UnknownKind { part: self.part, kind });
        };
        match self.object.keys().find(|k| !common.contains(&k.as_str()) && !own.contains(&k.as_str())) {
            Some(field) => Err(WireError::UnknownField { part: self.part, kind, field: field.clone() }),
            None => Ok(kind),
        }
    }
}

/// A command in the wire form (see the [module documentation](self) for what is read,
/// and what is refused).
pub fn command_from_json(value: &Value) -> Result<Command, WireError> {
    let fields = Fields::of(value, Part::Command)?;
    let kind = fields.kind(&COMMAND_SHAPES, &COMMAND_FIELDS)?;
    let ns = Namespace::new(fields.string("database")?, fields.string("collection")?);
    Ok(match kind {
        "createIndex" => Command::CreateIndex {
            ns,
            keys: fields.document("keys")?,
            name: fields.string("name")?,
            unique: fields.flag("unique")?,
        },
        "findOne" => Command::FindOne {
            ns,
            filter: fields.document("filter")?,
            projection: fields.optional_document("projection")?,
        },
        "find" => Command::Find {
            ns,
            filter: fields.document("filter")?,
            projection: fields.optional_document("projection")?,
            sort: fields.optional_document("sort")?,
            skip: fields.optional_count("skip")?,
            limit: fields.optional_count("limit")?,
        },
        "count" => Command::Count {
            ns,
            filter: fields.document("filter")?,
            skip: fields.optional_count("skip")?,
            limit: fields.optional_count("limit")?,
        },
        "updateOne" => Command::UpdateOne {
            ns,
            filter: fields.document("filter")?,
            update: fields.document("update")?,
            upsert: fields.flag("upsert")?,
        },
        "insertOne" => Command::InsertOne { ns, document: fields.document("document")? },
        _ => Command::DeleteOne { ns, filter: fields.document("filter")? },
    })
}

/// A reply in the wire form (see the [module documentation](self) for what is read, and
/// what is refused).
pub fn reply_from_json(value: &Value) -> Result<Reply, WireError> {
    let fields = Fields::of(value, Part::Reply)?;
    Ok(match fields.kind(&REPLY_SHAPES, &["kind"])? {
        "acknowledged" => Reply::Acknowledged,
        "found" => Reply::Found(fields.optional_document("document")?),
        "foundMany" => Reply::FoundMany(fields.documents("documents")?),
        "counted" => Reply::Counted(fields.count("count")?),
        "updated" => Reply::Updated {
            matched: fields.count("matchedCount")?,
            modified: fields.count("modifiedCount")?,
            upserted_id: fields.optional("upsertedId").map(|v| fields.bson("upsertedId", v)).transpose()?,
        },
        "inserted" => Reply::Inserted { id: fields.bson("insertedId", fields.required("insertedId")?)? },
        "deleted" => Reply::Deleted { count: fields.count("deletedCount")? },
        "duplicateKey" => Reply::DuplicateKey { message: fields.message()? },
        _ => Reply::ServerError { code: fields.code()?, message: fields.message()? },
    })
}

#[cfg(test)]
mod tests {
    use bson::{doc, oid::ObjectId, DateTime};
    use serde_json::json;

    use super::*;

    fn ns() -> Namespace {
        Namespace::new("scratch_app", "order")
    }

    /// One command of every kind, with values of several BSON types.
    fn commands() -> Vec<Command> {
        let oid = ObjectId::from_bytes([7; 12]);
        vec![
            Command::CreateIndex {
                ns: ns(),
                keys: doc! { "streamName": 1 },
                name: "streamName_1".into(),
                unique: true,
            },
            Command::CreateIndex { ns: ns(), keys: doc! { "a": -1, "b": 1 }, name: "a_-1_b_1".into(), unique: false },
            Command::FindOne {
                ns: ns(),
                filter: doc! { "streamName": { "$eq": "order:1" } },
                projection: Some(doc! { "_id": 0, "events": { "$slice": [1, 2] } }),
            },
            Command::FindOne { ns: ns(), filter: doc! { "_id": oid }, projection: None },
            Command::Find {
                ns: ns(),
                filter: doc! { "projections.summary.total": { "$gt": 5 } },
                projection: Some(doc! { "streamName": 1, "projections.summary": 1 }),
                sort: Some(doc! { "projections.summary.total": -1, "streamName": 1 }),
                skip: 2,
                limit: 10,
            },
            Command::Find { ns: ns(), filter: doc! {}, projection: None, sort: None, skip: 0, limit: 0 },
            Command::Count { ns: ns(), filter: doc! { "metadata.streamType": { "$eq": "order" } }, skip: 1, limit: 0 },
            Command::UpdateOne {
                ns: ns(),
                filter: doc! { "streamName": { "$eq": "order:1" }, "metadata.streamPosition": 0_i64 },
                update: doc! {
                    "$push": { "events": { "$each": [{ "type": "Placed", "data": { "f": 1.5, "n": 1, "big": 5_000_000_000_i64 } }] } },
                    "$set": { "metadata.streamPosition": 1_i64, "metadata.updatedAt": DateTime::from_millis(1_700_000_000_000) },
                    "$setOnInsert": { "streamName": "order:1" },
                },
                upsert: true,
            },
            Command::UpdateOne { ns: ns(), filter: doc! {}, update: doc! { "$inc": { "n": 1 } }, upsert: false },
            Command::InsertOne { ns: ns(), document: doc! { "_id": oid, "neg": -0.0, "list": [1, null, "x"] } },
            Command::DeleteOne { ns: ns(), filter: doc! { "_id": 3 } },
        ]
    }

    fn replies() -> Vec<Reply> {
        let oid = ObjectId::from_bytes([9; 12]);
        vec![
            Reply::Acknowledged,
            Reply::Found(None),
            Reply::Found(Some(doc! { "_id": oid, "metadata": { "streamPosition": 3_i64 } })),
            Reply::FoundMany(vec![]),
            Reply::FoundMany(vec![doc! { "streamName": "order:1" }, doc! { "streamName": "order:2", "n": 2.5 }]),
            Reply::Counted(0),
            Reply::Counted(42),
            Reply::Updated { matched: 0, modified: 0, upserted_id: Some(oid.into()) },
            Reply::Updated { matched: 1, modified: 1, upserted_id: None },
            Reply::Updated { matched: 0, modified: 0, upserted_id: Some(Bson::Int32(4)) },
            Reply::Inserted { id: oid.into() },
            Reply::Inserted { id: Bson::String("x".into()) },
            Reply::Deleted { count: 1 },
            Reply::DuplicateKey { message: "E11000 duplicate key error collection: scratch_app.order".into() },
            Reply::ServerError {
                code: 17419,
                message: "Resulting document after update is larger than 16777216".into(),
            },
        ]
    }

    #[test]
    fn every_command_kind_round_trips() {
        let mut kinds = std::collections::BTreeSet::new();
        for command in commands() {
            let json = command_to_json(&command);
            kinds.insert(json["kind"].as_str().unwrap().to_owned());
            assert_eq!(command_from_json(&json).as_ref(), Ok(&command), "{json}");
            // Through text, as over HTTP.
            let text: Value = serde_json::from_str(&json.to_string()).unwrap();
            assert_eq!(command_from_json(&text).as_ref(), Ok(&command), "{json}");
        }
        assert_eq!(kinds.len(), COMMAND_KINDS.len());
    }

    #[test]
    fn every_reply_kind_round_trips() {
        let mut kinds = std::collections::BTreeSet::new();
        for reply in replies() {
            let json = reply_to_json(&reply);
            kinds.insert(json["kind"].as_str().unwrap().to_owned());
            let text: Value = serde_json::from_str(&json.to_string()).unwrap();
            assert_eq!(reply_from_json(&text).as_ref(), Ok(&reply), "{json}");
        }
        assert_eq!(kinds.len(), REPLY_KINDS.len());
    }

    /// The exact shape the JavaScript package's `command_to_js` and `reply_to_js` give.
    #[test]
    fn the_shape_is_the_packages() {
        let update = &commands()[7];
        let json = command_to_json(update);
        let keys: Vec<&str> = json.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["kind", "database", "collection", "filter", "update", "upsert"]);
        assert_eq!(json["filter"]["metadata.streamPosition"], json!({ "$numberLong": "0" }));
        assert_eq!(
            json["update"]["$set"]["metadata.updatedAt"],
            json!({ "$date": { "$numberLong": "1700000000000" } })
        );
        assert_eq!(json["update"]["$push"]["events"]["$each"][0]["data"]["f"], json!({ "$numberDouble": "1.5" }));
        assert_eq!(json["upsert"], true);
        assert_eq!(
            command_to_json(&commands()[0]),
            json!({ "kind": "createIndex", "database": "scratch_app", "collection": "order",
                    "keys": { "streamName": { "$numberInt": "1" } }, "name": "streamName_1", "unique": true })
        );
        assert_eq!(
            command_to_json(&commands()[4]),
            json!({ "kind": "find", "database": "scratch_app", "collection": "order",
                    "filter": { "projections.summary.total": { "$gt": { "$numberInt": "5" } } },
                    "projection": { "streamName": { "$numberInt": "1" }, "projections.summary": { "$numberInt": "1" } },
                    "sort": { "projections.summary.total": { "$numberInt": "-1" }, "streamName": { "$numberInt": "1" } },
                    "skip": 2, "limit": 10 })
        );
        assert_eq!(reply_to_json(&Reply::Counted(3)), json!({ "kind": "counted", "count": 3 }));
        assert_eq!(
            command_to_json(&commands()[10]),
            json!({ "kind": "deleteOne", "database": "scratch_app", "collection": "order",
                    "filter": { "_id": { "$numberInt": "3" } } })
        );
        assert_eq!(
            reply_to_json(&replies()[7]),
            json!({ "kind": "updated", "matchedCount": 0, "modifiedCount": 0,
                    "upsertedId": { "$oid": "090909090909090909090909" } })
        );
        assert_eq!(
            reply_to_json(&Reply::Updated { matched: 1, modified: 0, upserted_id: None }),
            json!({ "kind": "updated", "matchedCount": 1, "modifiedCount": 0, "upsertedId": null })
        );
        assert_eq!(reply_to_json(&Reply::Acknowledged), json!({ "kind": "acknowledged" }));
        assert_eq!(reply_to_json(&Reply::Found(None)), json!({ "kind": "found", "document": null }));
        assert_eq!(reply_to_json(&Reply::Deleted { count: 2 }), json!({ "kind": "deleted", "deletedCount": 2 }));
        assert_eq!(
            reply_to_json(&Reply::ServerError { code: 2, message: "bad".into() }),
            json!({ "kind": "serverError", "code": 2, "message": "bad" })
        );
        assert_eq!(
            reply_to_json(&Reply::Inserted { id: Bson::Int64(5) }),
            json!({ "kind": "inserted", "insertedId": { "$numberLong": "5" } })
        );
    }

    #[test]
    fn relaxed_and_plain_json_are_read_by_the_number_rule() {
        let command = json!({ "kind": "insertOne", "database": "scratch", "collection": "c",
            "document": { "i": 1, "whole": 1.0, "f": 0.5, "big": 5_000_000_000_i64, "d": { "$date": "2024-01-01T00:00:00Z" },
                          "$set": 1, "a.b": { "$numberLong": "7" } } });
        let Command::InsertOne { document, .. } = command_from_json(&command).unwrap() else { panic!("insertOne") };
        assert_eq!(
            document,
            doc! { "i": 1, "whole": 1, "f": 0.5, "big": 5_000_000_000_i64,
            "d": DateTime::from_millis(1_704_067_200_000), "$set": 1, "a.b": 7_i64 }
        );
        // Optional fields left out, or null.
        let minimal = json!({ "kind": "updateOne", "database": "d", "collection": "c", "filter": {}, "update": {} });
        assert_eq!(
            command_from_json(&minimal),
            Ok(Command::UpdateOne { ns: Namespace::new("d", "c"), filter: doc! {}, update: doc! {}, upsert: false })
        );
        let found = json!({ "kind": "found" });
        assert_eq!(reply_from_json(&found), Ok(Reply::Found(None)));
        let written_as_float =
            json!({ "kind": "updated", "matchedCount": 1.0, "modifiedCount": 0, "upsertedId": null });
        assert_eq!(
            reply_from_json(&written_as_float),
            Ok(Reply::Updated { matched: 1, modified: 0, upserted_id: None })
        );
        assert_eq!(reply_from_json(&json!({ "kind": "duplicateKey" })), Ok(Reply::DuplicateKey { message: "".into() }));
    }

    #[test]
    fn the_kinds_are_the_shapes_kinds() {
        assert_eq!(COMMAND_SHAPES.map(|(k, _)| k), COMMAND_KINDS);
        assert_eq!(REPLY_SHAPES.map(|(k, _)| k), REPLY_KINDS);
        assert_eq!(
            Command::CreateIndex { ns: ns(), keys: doc! {}, name: "n".into(), unique: false }.kind(),
            COMMAND_KINDS[0]
        );
    }

    #[test]
    fn unknown_kinds_are_refused() {
        let drop = json!({ "kind": "drop", "database": "d", "collection": "c" });
        let e = command_from_json(&drop).unwrap_err();
        assert_eq!(e, WireError::UnknownKind { part: Part::Command, kind: "drop".into() });
        assert!(e.to_string().contains("createIndex, findOne, find, count, updateOne, insertOne, deleteOne"), "{e}");
        assert_eq!(
            reply_from_json(&json!({ "kind": "ok" })),
            Err(WireError::UnknownKind { part: Part::Reply, kind: "ok".into() })
        );
        // Kinds are case-sensitive, as JavaScript's are.
        let upper = json!({ "kind": "FindOne", "database": "d", "collection": "c", "filter": {} });
        assert!(matches!(command_from_json(&upper), Err(WireError::UnknownKind { .. })));
    }

    #[test]
    fn missing_fields_are_refused() {
        let missing = |json: Value, field: &'static str| {
            assert_eq!(command_from_json(&json), Err(WireError::MissingField { part: Part::Command, field }), "{json}");
        };
        missing(json!({ "database": "d", "collection": "c" }), "kind");
        missing(json!({ "kind": "findOne", "collection": "c", "filter": {} }), "database");
        missing(json!({ "kind": "findOne", "database": "d", "filter": {} }), "collection");
        missing(json!({ "kind": "findOne", "database": "d", "collection": "c" }), "filter");
        missing(json!({ "kind": "findOne", "database": "d", "collection": "c", "filter": null }), "filter");
        missing(json!({ "kind": "updateOne", "database": "d", "collection": "c", "filter": {} }), "update");
        missing(json!({ "kind": "createIndex", "database": "d", "collection": "c", "keys": { "a": 1 } }), "name");
        missing(json!({ "kind": "insertOne", "database": "d", "collection": "c" }), "document");
        let reply_missing = |json: Value, field: &'static str| {
            assert_eq!(reply_from_json(&json), Err(WireError::MissingField { part: Part::Reply, field }), "{json}");
        };
        reply_missing(json!({ "kind": "updated", "modifiedCount": 0 }), "matchedCount");
        reply_missing(json!({ "kind": "updated", "matchedCount": 0 }), "modifiedCount");
        reply_missing(json!({ "kind": "inserted" }), "insertedId");
        reply_missing(json!({ "kind": "deleted" }), "deletedCount");
        reply_missing(json!({ "kind": "serverError", "message": "x" }), "code");
        reply_missing(json!({}), "kind");
    }

    #[test]
    fn wrong_types_are_refused() {
        let wrong = |json: Value, field: &'static str| match command_from_json(&json) {
            Err(WireError::WrongType { part: Part::Command, field: f, .. }) if f == field => {}
            other => panic!("{json}: {other:?}"),
        };
        wrong(json!({ "kind": 1, "database": "d", "collection": "c" }), "kind");
        wrong(json!({ "kind": "findOne", "database": 5, "collection": "c", "filter": {} }), "database");
        wrong(json!({ "kind": "findOne", "database": "d", "collection": ["c"], "filter": {} }), "collection");
        wrong(json!({ "kind": "findOne", "database": "d", "collection": "c", "filter": [] }), "filter");
        wrong(json!({ "kind": "findOne", "database": "d", "collection": "c", "filter": "x" }), "filter");
        wrong(
            json!({ "kind": "findOne", "database": "d", "collection": "c", "filter": {}, "projection": 1 }),
            "projection",
        );
        wrong(
            json!({ "kind": "updateOne", "database": "d", "collection": "c", "filter": {}, "update": {}, "upsert": "yes" }),
            "upsert",
        );
        wrong(
            json!({ "kind": "createIndex", "database": "d", "collection": "c", "keys": {}, "name": "n", "unique": 1 }),
            "unique",
        );
        // An Extended JSON value is not a document.
        wrong(
            json!({ "kind": "deleteOne", "database": "d", "collection": "c", "filter": { "$numberInt": "1" } }),
            "filter",
        );
        let reply_wrong = |json: Value, field: &'static str| match reply_from_json(&json) {
            Err(WireError::WrongType { part: Part::Reply, field: f, .. }) if f == field => {}
            other => panic!("{json}: {other:?}"),
        };
        reply_wrong(json!({ "kind": "deleted", "deletedCount": -1 }), "deletedCount");
        reply_wrong(json!({ "kind": "deleted", "deletedCount": 1.5 }), "deletedCount");
        reply_wrong(json!({ "kind": "deleted", "deletedCount": "1" }), "deletedCount");
        reply_wrong(json!({ "kind": "serverError", "code": 1e10, "message": "x" }), "code");
        reply_wrong(json!({ "kind": "serverError", "code": 2, "message": 3 }), "message");
        reply_wrong(json!({ "kind": "found", "document": [1] }), "document");
        assert_eq!(command_from_json(&json!([])), Err(WireError::NotAnObject { part: Part::Command }));
        assert_eq!(reply_from_json(&json!("found")), Err(WireError::NotAnObject { part: Part::Reply }));
    }

    #[test]
    fn fields_a_kind_does_not_have_are_refused() {
        let typo = json!({ "kind": "updateOne", "database": "d", "collection": "c", "filter": {}, "update": {}, "upset": true });
        assert_eq!(
            command_from_json(&typo),
            Err(WireError::UnknownField { part: Part::Command, kind: "updateOne", field: "upset".into() })
        );
        let other_kinds = json!({ "kind": "findOne", "database": "d", "collection": "c", "filter": {}, "update": {} });
        assert!(matches!(command_from_json(&other_kinds), Err(WireError::UnknownField { .. })));
        let extra = json!({ "kind": "acknowledged", "ok": 1 });
        assert_eq!(
            reply_from_json(&extra),
            Err(WireError::UnknownField { part: Part::Reply, kind: "acknowledged", field: "ok".into() })
        );
    }

    fn nested(levels: usize) -> Value {
        let mut value = json!(1);
        for _ in 0..levels {
            value = json!({ "x": value });
        }
        value
    }

    #[test]
    fn documents_nest_at_most_as_deep_as_a_stored_document() {
        let insert =
            |document: Value| json!({ "kind": "insertOne", "database": "d", "collection": "c", "document": document });
        let at_limit = command_from_json(&insert(nested(MAX_STORED_DEPTH))).unwrap();
        let Command::InsertOne { document, .. } = &at_limit else { panic!("insertOne") };
        assert_eq!(crate::limits::depth(document), MAX_STORED_DEPTH);
        // A typed value adds no level.
        let mut typed = json!({ "$numberLong": "1" });
        for _ in 0..MAX_STORED_DEPTH {
            typed = json!({ "x": typed });
        }
        assert!(command_from_json(&insert(typed)).is_ok());
        assert_eq!(
            command_from_json(&insert(nested(MAX_STORED_DEPTH + 1))),
            Err(WireError::TooDeep { part: Part::Command, field: "document", limit: MAX_STORED_DEPTH })
        );
        let mut arrays = json!(1);
        for _ in 0..=MAX_STORED_DEPTH {
            arrays = json!([arrays]);
        }
        let found = json!({ "kind": "found", "document": { "a": arrays } });
        assert!(matches!(reply_from_json(&found), Err(WireError::TooDeep { part: Part::Reply, .. })));
    }

    #[test]
    fn invalid_extended_json_is_refused() {
        let insert =
            |document: Value| json!({ "kind": "insertOne", "database": "d", "collection": "c", "document": document });
        for bad in [
            json!({ "n": { "$numberInt": "x" } }),
            json!({ "id": { "$oid": "short" } }),
            json!({ "d": { "$date": { "a": { "b": { "c": { "d": 1 } } } } } }),
        ] {
            match command_from_json(&insert(bad.clone())) {
                Err(WireError::InvalidExtendedJson { field: "document", .. }) => {}
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
