//! MongoDB commands and their replies as JavaScript: what a JavaScript executor
//! receives and returns, and what `Engine.execute` takes and gives. Documents leave in
//! canonical Extended JSON; documents coming in may be in any form the value
//! conversion reads ([`crate::values`]), nested at most as deep as a stored document.

use js_sys::Object;
use streamdoc_core::limits::MAX_STORED_DEPTH;
use streamdoc_core::{Command, Namespace, Reply};
use wasm_bindgen::{JsCast, JsValue};

use crate::js::{get, is_absent, set, string_field, to_u64};
use crate::values::{bson_to_js, canonical, to_bson, to_document, Values};

/// A command as the JavaScript executor receives it (documents in canonical Extended
/// JSON).
pub fn command_to_js(command: &Command) -> JsValue {
    let object = Object::new();
    set(&object, "kind", &JsValue::from_str(command.kind()));
    let ns = command.namespace();
    set(&object, "database", &JsValue::from_str(&ns.db));
    set(&object, "collection", &JsValue::from_str(&ns.collection));
    match command {
        Command::CreateIndex { keys, name, unique, .. } => {
            set(&object, "keys", &canonical(keys));
            set(&object, "name", &JsValue::from_str(name));
            set(&object, "unique", &JsValue::from_bool(*unique));
        }
        Command::FindOne { filter, projection, .. } => {
            set(&object, "filter", &canonical(filter));
            set(&object, "projection", &projection.as_ref().map_or(JsValue::NULL, canonical));
        }
        Command::Find { filter, projection, sort, skip, limit, .. } => {
            set(&object, "filter", &canonical(filter));
            set(&object, "projection", &projection.as_ref().map_or(JsValue::NULL, canonical));
            set(&object, "sort", &sort.as_ref().map_or(JsValue::NULL, canonical));
            set(&object, "skip", &JsValue::from_f64(*skip as f64));
            set(&object, "limit", &JsValue::from_f64(*limit as f64));
        }
        Command::Count { filter, skip, limit, .. } => {
            set(&object, "filter", &canonical(filter));
            set(&object, "skip", &JsValue::from_f64(*skip as f64));
            set(&object, "limit", &JsValue::from_f64(*limit as f64));
        }
        Command::UpdateOne { filter, update, upsert, .. } => {
            set(&object, "filter", &canonical(filter));
            set(&object, "update", &canonical(update));
            set(&object, "upsert", &JsValue::from_bool(*upsert));
        }
        Command::InsertOne { document, .. } => set(&object, "document", &canonical(document)),
        Command::DeleteOne { filter, .. } => set(&object, "filter", &canonical(filter)),
    }
    object.into()
}

/// A command given as JavaScript (the shape [`command_to_js`] produces).
pub fn command_from_js(v: &JsValue) -> Result<Command, String> {
    let kind = string_field(v, "kind", "command")?;
    let ns = Namespace::new(string_field(v, "database", "command")?, string_field(v, "collection", "command")?);
    let doc = |key: &str| to_document(&get(v, key), &format!("command `{key}`"), MAX_STORED_DEPTH);
    let flag = |key: &str| get(v, key).as_bool().unwrap_or(false);
    let optional_doc = |key: &str| {
        let value = get(v, key);
        if is_absent(&value) {
            Ok(None)
        } else {
            doc(key).map(Some)
        }
    };
    // `skip` and `limit` may be left out (0; a limit of 0 is none, as MongoDB reads it).
    let optional_count = |key: &str| {
        let value = get(v, key);
        if is_absent(&value) {
            return Ok(0);
        }
        to_u64(&value, key).map_err(|_| format!("command `{key}` must be a non-negative integer"))
    };
    Ok(match kind.as_str() {
        "createIndex" => Command::CreateIndex {
            ns,
            keys: doc("keys")?,
            name: string_field(v, "name", "command")?,
            unique: flag("unique"),
        },
        "findOne" => Command::FindOne { ns, filter: doc("filter")?, projection: optional_doc("projection")? },
        "find" => Command::Find {
            ns,
            filter: doc("filter")?,
            projection: optional_doc("projection")?,
            sort: optional_doc("sort")?,
            skip: optional_count("skip")?,
            limit: optional_count("limit")?,
        },
        "count" => Command::Count {
            ns,
            filter: doc("filter")?,
            skip: optional_count("skip")?,
            limit: optional_count("limit")?,
        },
        "updateOne" => {
            Command::UpdateOne { ns, filter: doc("filter")?, update: doc("update")?, upsert: flag("upsert") }
        }
        "insertOne" => Command::InsertOne { ns, document: doc("document")? },
        "deleteOne" => Command::DeleteOne { ns, filter: doc("filter")? },
        other => return Err(format!("unknown command kind {other:?}")),
    })
}

fn count(v: &JsValue, key: &str) -> Result<u64, String> {
    to_u64(&get(v, key), key).map_err(|_| format!("reply `{key}` must be a non-negative integer"))
}

/// A reply as JavaScript: `{ kind: "acknowledged" | "found" | "foundMany" | "counted" | "updated" | ... }`.
pub fn reply_to_js(reply: &Reply) -> JsValue {
    let object = Object::new();
    let kind = |k: &str| set(&object, "kind", &JsValue::from_str(k));
    match reply {
        Reply::Acknowledged => kind("acknowledged"),
        Reply::Found(doc) => {
            kind("found");
            set(&object, "document", &doc.as_ref().map_or(JsValue::NULL, canonical));
        }
        Reply::FoundMany(docs) => {
            kind("foundMany");
            set(&object, "documents", &docs.iter().map(canonical).collect::<js_sys::Array>());
        }
        Reply::Counted(n) => {
            kind("counted");
            set(&object, "count", &JsValue::from_f64(*n as f64));
        }
        Reply::Updated { matched, modified, upserted_id } => {
            kind("updated");
            set(&object, "matchedCount", &JsValue::from_f64(*matched as f64));
            set(&object, "modifiedCount", &JsValue::from_f64(*modified as f64));
            let id = upserted_id.as_ref().map_or(JsValue::NULL, |id| bson_to_js(id, Values::Canonical));
            set(&object, "upsertedId", &id);
        }
        Reply::Inserted { id } => {
            kind("inserted");
            set(&object, "insertedId", &bson_to_js(id, Values::Canonical));
        }
        Reply::Deleted { count } => {
            kind("deleted");
            set(&object, "deletedCount", &JsValue::from_f64(*count as f64));
        }
        Reply::DuplicateKey { message } => {
            kind("duplicateKey");
            set(&object, "message", &JsValue::from_str(message));
        }
        Reply::ServerError { code, message } => {
            kind("serverError");
            set(&object, "code", &JsValue::from(*code));
            set(&object, "message", &JsValue::from_str(message));
        }
    }
    object.into()
}

/// A reply given by a JavaScript executor (the shape [`reply_to_js`] produces;
/// documents in any form [`to_bson`] reads).
pub fn reply_from_js(v: &JsValue) -> Result<Reply, String> {
    let kind = string_field(v, "kind", "reply")?;
    let message = || get(v, "message").as_string().unwrap_or_default();
    Ok(match kind.as_str() {
        "acknowledged" => Reply::Acknowledged,
        "found" => {
            let doc = get(v, "document");
            Reply::Found(if is_absent(&doc) {
                None
            } else {
                Some(to_document(&doc, "reply `document`", MAX_STORED_DEPTH)?)
            })
        }
        "foundMany" => {
            let documents = get(v, "documents");
            if !js_sys::Array::is_array(&documents) {
                return Err("reply `documents` must be an array of documents".into());
            }
            let documents: js_sys::Array = documents.unchecked_into();
            Reply::FoundMany(
                documents
                    .iter()
                    .map(|d| to_document(&d, "a document of reply `documents`", MAX_STORED_DEPTH))
                    .collect::<Result<_, _>>()?,
            )
        }
        "counted" => Reply::Counted(count(v, "count")?),
        "updated" => {
            let id = get(v, "upsertedId");
            let upserted_id = if is_absent(&id) {
                None
            } else {
                Some(to_bson(&id, MAX_STORED_DEPTH).map_err(|e| format!("reply `upsertedId`: {e}"))?)
            };
            Reply::Updated { matched: count(v, "matchedCount")?, modified: count(v, "modifiedCount")?, upserted_id }
        }
        "inserted" => Reply::Inserted {
            id: to_bson(&get(v, "insertedId"), MAX_STORED_DEPTH).map_err(|e| format!("reply `insertedId`: {e}"))?,
        },
        "deleted" => Reply::Deleted { count: count(v, "deletedCount")? },
        "duplicateKey" => Reply::DuplicateKey { message: message() },
        "serverError" => {
            let code = get(v, "code").as_f64().filter(|c| c.fract() == 0.0).ok_or("reply `code` must be an integer")?;
            Reply::ServerError { code: code as i32, message: message() }
        }
        other => return Err(format!("unknown reply kind {other:?}")),
    })
}
