//! Canonical Extended JSON, and the normalisations that make documents comparable
//! across engines and servers.

use bson::{Bson, Document};
use serde_json::{json, Map, Value};

/// Strings longer than this are compared by length and prefix only, so that the
/// 16 MiB scenarios stay readable.
pub const LONG_STRING: usize = 1024;

/// A BSON value as canonical Extended JSON, with long strings abbreviated.
pub fn to_json(value: &Bson) -> Value {
    abbreviate(value.clone().into_canonical_extjson())
}

/// A document as canonical Extended JSON, with long strings abbreviated.
pub fn doc_to_json(doc: &Document) -> Value {
    to_json(&Bson::Document(doc.clone()))
}

fn abbreviate(value: Value) -> Value {
    match value {
        Value::String(s) if s.len() > LONG_STRING => {
            let prefix: String = s.chars().take(16).collect();
            json!({ "$longString": { "length": s.len(), "prefix": prefix } })
        }
        Value::Array(items) => Value::Array(items.into_iter().map(abbreviate).collect()),
        Value::Object(map) => Value::Object(map.into_iter().map(|(k, v)| (k, abbreviate(v))).collect()),
        other => other,
    }
}

/// Replaces a generated `_id` (an ObjectId: the engine's and a server's differ) by
/// `{"$oid": "<generated>"}`.
pub fn normalise_stored(mut doc: Value) -> Value {
    if let Value::Object(map) = &mut doc {
        if let Some(Value::Object(id)) = map.get("_id") {
            if id.contains_key("$oid") {
                map.insert("_id".into(), json!({ "$oid": "<generated>" }));
            }
        }
    }
    doc
}

/// Parses scenario JSON into BSON: Extended JSON (canonical or relaxed) plus the
/// `{"$repeat": [string, count]}` macro, which expands to the string repeated.
pub fn from_scenario_json(value: &Value) -> Result<Bson, String> {
    let expanded = expand(value)?;
    Bson::try_from(expanded).map_err(|e| format!("invalid Extended JSON: {e}"))
}

/// Parses a scenario JSON object into a document.
pub fn doc_from_scenario_json(value: &Value) -> Result<Document, String> {
    match from_scenario_json(value)? {
        Bson::Document(d) => Ok(d),
        other => Err(format!("expected an object, found {other}")),
    }
}

fn expand(value: &Value) -> Result<Value, String> {
    Ok(match value {
        Value::Object(map) if map.len() == 1 && map.contains_key("$repeat") => match &map["$repeat"] {
            Value::Array(args) if args.len() == 2 => {
                let s = args[0].as_str().ok_or("$repeat takes [string, count]")?;
                let n = args[1].as_u64().ok_or("$repeat takes [string, count]")?;
                Value::String(s.repeat(n as usize))
            }
            _ => return Err("$repeat takes [string, count]".into()),
        },
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| Ok((k.clone(), expand(v)?))).collect::<Result<Map<_, _>, String>>()?)
        }
        Value::Array(items) => Value::Array(items.iter().map(expand).collect::<Result<_, _>>()?),
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dollar_and_dotted_keys_survive_parsing() {
        let d = doc_from_scenario_json(&json!({ "$set": 1, "a.b": { "$inc": 2 } })).unwrap();
        assert_eq!(d, bson::doc! { "$set": 1, "a.b": { "$inc": 2 } });
    }

    #[test]
    fn repeat_expands_and_long_strings_abbreviate() {
        let b = from_scenario_json(&json!({ "$repeat": ["ab", 1000] })).unwrap();
        assert_eq!(b.as_str().map(str::len), Some(2000));
        assert_eq!(to_json(&b), json!({ "$longString": { "length": 2000, "prefix": "abababababababab" } }));
    }
}
