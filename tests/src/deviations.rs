//! Where a live server departs from MongoDB's documented behaviour, as the suites meet it.
//!
//! Every [`Deviation`] here is written up, with a minimal reproduction and the MongoDB
//! documentation it contradicts, in `tests/DEVIATIONS.md`. The suites that compare a
//! server with core's engine (parity, differential) stay strict: the first operation on
//! which the two disagree must be explained by a deviation that applies to the server
//! in use — its input has the feature in question and the server answered in the
//! documented way — or the suite fails. After an explained divergence the two stores
//! hold different data, so the rest of that run is not compared; nothing is deleted.
//! On MongoDB no deviation applies, so every difference fails.

use bson::{Bson, Document};
use serde_json::Value;
use streamdoc_host::ServerInfo;

use crate::canonical::doc_from_scenario_json;
use crate::scenario::ScenarioOp;

/// A documented difference between a server and MongoDB.
#[derive(Debug)]
pub struct Deviation {
    /// Its heading in `tests/DEVIATIONS.md`.
    pub id: &'static str,
    /// One line: what the server does instead.
    pub summary: &'static str,
    /// The corpus tag that marks scenarios meeting it, if any.
    pub tag: Option<&'static str>,
    applies_to: fn(&ServerInfo) -> bool,
    explains: fn(&Divergence<'_>) -> bool,
}

/// The first operation on which the engine and a server disagree.
#[derive(Debug, Clone, Copy)]
pub struct Divergence<'a> {
    /// The operation.
    pub op: &'a ScenarioOp,
    /// The engine's result (`{"ok": ...}` or `{"error": {...}}`).
    pub engine: &'a Value,
    /// The server's result.
    pub live: &'a Value,
}

impl Deviation {
    /// True when this deviation applies to `server` and accounts for `divergence`.
    pub fn explains(&self, server: &ServerInfo, divergence: &Divergence<'_>) -> bool {
        (self.applies_to)(server) && (self.explains)(divergence)
    }
}

fn ferretdb(server: &ServerInfo) -> bool {
    server.is_ferretdb()
}

fn mongo_java_server(server: &ServerInfo) -> bool {
    server.is_mongo_java_server()
}

/// An append the engine refuses as past 16 MiB, acknowledged by the server.
fn big_append_succeeds(d: &Divergence<'_>) -> bool {
    matches!(d.op, ScenarioOp::Append { .. })
        && d.engine.pointer("/error/kind") == Some(&Value::from("StreamTooLarge"))
        && is_ok(d.live)
}

/// Every deviation the suites know of.
pub const KNOWN: &[Deviation] = &[
    Deviation {
        id: "ferretdb-dollar-and-dotted-keys",
        summary: "FerretDB refuses field names that start with `$` or contain `.` at any depth (error 2), \
                  which MongoDB 5.0+ stores",
        tag: Some("dollarKeys"),
        applies_to: ferretdb,
        explains: |d| {
            // Refused before the filter is looked at: whatever the engine answered
            // (a success, or a conflict), the server answers error 2.
            appended_events(d.op).iter().any(|e| has_key(e, &|k| k.starts_with('$') || k.contains('.')))
                && is_server_error(d.live, 2, "invalid key")
        },
    },
    Deviation {
        id: "ferretdb-nested-arrays",
        summary: "FerretDB refuses arrays directly inside arrays (error 2), which MongoDB stores",
        tag: None,
        applies_to: ferretdb,
        explains: |d| {
            appended_events(d.op).iter().any(has_nested_array)
                && is_server_error(d.live, 2, "nested arrays are not supported")
        },
    },
    Deviation {
        id: "ferretdb-no-16-mib-limit",
        summary: "FerretDB does not enforce the 16 MiB document limit on updates and upserts \
                  (MongoDB answers 17419 / 17420), so the append succeeds",
        tag: Some("bigDocument"),
        applies_to: ferretdb,
        explains: big_append_succeeds,
    },
    Deviation {
        id: "mongo-java-server-no-16-mib-limit",
        summary: "mongo-java-server does not enforce the 16 MiB limit on a document an update grows \
                  (MongoDB answers 17419), so the append succeeds",
        tag: Some("bigDocument"),
        applies_to: mongo_java_server,
        explains: big_append_succeeds,
    },
    Deviation {
        id: "mongo-java-server-drops-oversized-commands",
        summary: "mongo-java-server closes the connection when a command holds a document over 16 MiB \
                  (MongoDB answers with an error), so the append's outcome is unknown",
        tag: Some("bigDocument"),
        applies_to: mongo_java_server,
        explains: |d| {
            matches!(d.op, ScenarioOp::Append { .. })
                && d.engine.pointer("/error/kind") == Some(&Value::from("StreamTooLarge"))
                && d.live.pointer("/error/kind") == Some(&Value::from("Unavailable"))
                && d.live.pointer("/error/outcomeUnknown") == Some(&Value::from(true))
                && d.live.pointer("/error/message").and_then(Value::as_str).is_some_and(|m| m.contains("I/O error"))
        },
    },
];

/// How a comparison of the engine with a server came out.
#[derive(Debug)]
pub enum Verdict {
    /// Identical results (and documents, where compared).
    Identical,
    /// They first disagree on operation `op_index`, as `deviation` documents.
    Explained { op_index: usize, deviation: &'static Deviation },
    /// They disagree and no deviation accounts for it.
    Unexplained { op_index: Option<usize>, problems: Vec<String> },
}

/// Compares results operation by operation (`ops[i]` produced `engine[i]` and
/// `live[i]`), then `documents_differ`, and explains the first difference if a known
/// deviation applying to `server` accounts for it.
pub fn judge(
    server: &ServerInfo,
    ops: &[&ScenarioOp],
    engine: &[Value],
    live: &[Value],
    document_problems: Vec<String>,
) -> Verdict {
    let first = engine.iter().zip(live).position(|(e, l)| e != l);
    match first {
        None if engine.len() == live.len() && document_problems.is_empty() => Verdict::Identical,
        None => {
            let mut problems = document_problems;
            if engine.len() != live.len() {
                problems.push(format!("{} results from the engine, {} from the server", engine.len(), live.len()));
            }
            Verdict::Unexplained { op_index: None, problems }
        }
        Some(i) => {
            let Some(op) = ops.get(i) else {
                return Verdict::Unexplained { op_index: Some(i), problems: vec![format!("no operation {i}")] };
            };
            let divergence = Divergence { op, engine: &engine[i], live: &live[i] };
            match KNOWN.iter().find(|d| d.explains(server, &divergence)) {
                Some(deviation) => Verdict::Explained { op_index: i, deviation },
                None => Verdict::Unexplained {
                    op_index: Some(i),
                    problems: vec![format!("operation {i}:\n  engine {}\n  server {}", engine[i], live[i])],
                },
            }
        }
    }
}

fn is_ok(result: &Value) -> bool {
    result.get("ok").is_some()
}

fn is_server_error(result: &Value, code: i64, message_part: &str) -> bool {
    result.pointer("/error/kind") == Some(&Value::from("Server"))
        && result.pointer("/error/code").and_then(Value::as_i64) == Some(code)
        && result.pointer("/error/message").and_then(Value::as_str).is_some_and(|m| m.contains(message_part))
}

/// The `data` and `metadata` of an append's events, as BSON.
fn appended_events(op: &ScenarioOp) -> Vec<Document> {
    let ScenarioOp::Append { events, .. } = op else { return Vec::new() };
    events
        .iter()
        .flat_map(|e| ["data", "metadata"].map(|k| e.get(k).cloned()))
        .flatten()
        .filter_map(|v| doc_from_scenario_json(&v).ok())
        .collect()
}

fn has_key(doc: &Document, pred: &dyn Fn(&str) -> bool) -> bool {
    doc.iter().any(|(k, v)| pred(k) || value_has_key(v, pred))
}

fn value_has_key(value: &Bson, pred: &dyn Fn(&str) -> bool) -> bool {
    match value {
        Bson::Document(d) => has_key(d, pred),
        Bson::Array(items) => items.iter().any(|v| value_has_key(v, pred)),
        _ => false,
    }
}

fn has_nested_array(doc: &Document) -> bool {
    fn nested(value: &Bson, in_array: bool) -> bool {
        match value {
            Bson::Array(_) if in_array => true,
            Bson::Array(items) => items.iter().any(|v| nested(v, true)),
            Bson::Document(d) => d.values().any(|v| nested(v, false)),
            _ => false,
        }
    }
    doc.values().any(|v| nested(v, false))
}

#[cfg(test)]
mod tests {
    use bson::doc;
    use serde_json::json;

    use super::*;

    fn append(data: Value) -> ScenarioOp {
        ScenarioOp::Append {
            stream: "a:1".into(),
            events: vec![json!({ "type": "E", "data": data })],
            expected: Default::default(),
        }
    }

    fn ferret() -> ServerInfo {
        ServerInfo::from_build_info(&doc! { "version": "7.0.42", "ferretdbVersion": "v1.24.2" })
    }

    fn mongo() -> ServerInfo {
        ServerInfo::from_build_info(&doc! { "version": "8.0.4" })
    }

    #[test]
    fn a_dollar_key_refusal_is_explained_on_ferretdb_only() {
        let op = append(json!({ "a": { "$x": 1 } }));
        let engine = json!({ "ok": { "nextExpectedStreamVersion": 1, "createdNewStream": true } });
        let live = json!({ "error": { "kind": "Server", "code": 2, "message": "invalid key: \"$x\"" } });
        let (engine, live) = ([engine], [live]);
        let verdict = judge(&ferret(), &[&op], &engine, &live, vec![]);
        assert!(
            matches!(verdict, Verdict::Explained { op_index: 0, deviation } if deviation.id == "ferretdb-dollar-and-dotted-keys")
        );
        assert!(matches!(judge(&mongo(), &[&op], &engine, &live, vec![]), Verdict::Unexplained { .. }));
        // Refused before the filter is read: also where the engine saw a conflict.
        let conflict = [json!({ "error": { "kind": "ConcurrencyConflict", "actual": 1 } })];
        assert!(matches!(judge(&ferret(), &[&op], &conflict, &live, vec![]), Verdict::Explained { .. }));
        // Extended JSON's own `$numberInt` is not a dollar key of the data.
        let plain = append(json!({ "n": { "$numberInt": "1" } }));
        assert!(matches!(judge(&ferret(), &[&plain], &engine, &live, vec![]), Verdict::Unexplained { .. }));
    }

    #[test]
    fn a_dropped_connection_on_an_oversized_append_is_explained_on_mongo_java_server_only() {
        let java = ServerInfo::from_build_info(&doc! { "version": "7.0.0", "mongoJavaServer": "1.47.0" });
        let op = append(json!({}));
        let engine = [json!({ "error": { "kind": "StreamTooLarge", "stream": "blob:1", "limitBytes": 16777216 } })];
        let dropped = [json!({ "error": { "kind": "Unavailable", "outcomeUnknown": true,
            "message": "updateOne failed: Kind: I/O error: unexpected end of file" } })];
        let verdict = judge(&java, &[&op], &engine, &dropped, vec![]);
        assert!(
            matches!(verdict, Verdict::Explained { deviation, .. } if deviation.id == "mongo-java-server-drops-oversized-commands")
        );
        assert!(matches!(judge(&ferret(), &[&op], &engine, &dropped, vec![]), Verdict::Unexplained { .. }));
        assert!(matches!(judge(&mongo(), &[&op], &engine, &dropped, vec![]), Verdict::Unexplained { .. }));
        // A write that cannot have been applied is not this deviation.
        let refused = [json!({ "error": { "kind": "Unavailable", "outcomeUnknown": false, "message": "I/O error" } })];
        assert!(matches!(judge(&java, &[&op], &engine, &refused, vec![]), Verdict::Unexplained { .. }));
        let ok = [json!({ "ok": { "nextExpectedStreamVersion": 2 } })];
        assert!(
            matches!(judge(&java, &[&op], &engine, &ok, vec![]), Verdict::Explained { deviation, .. } if deviation.id == "mongo-java-server-no-16-mib-limit")
        );
    }

    #[test]
    fn nested_arrays_are_found_at_any_depth_but_not_arrays_of_documents() {
        assert!(has_nested_array(&doc! { "a": { "b": [1, [2]] } }));
        assert!(!has_nested_array(&doc! { "a": [ { "b": [1] } ] }));
    }

    #[test]
    fn identical_runs_and_document_differences_are_told_apart() {
        let op = append(json!({}));
        let r = json!({ "ok": true });
        let results = [r];
        assert!(matches!(judge(&ferret(), &[&op], &results, &results, vec![]), Verdict::Identical));
        assert!(matches!(
            judge(&ferret(), &[&op], &results, &results, vec!["stored documents differ".into()]),
            Verdict::Unexplained { op_index: None, .. }
        ));
    }
}
