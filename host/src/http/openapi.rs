//! The OpenAPI 3.1 document of the API, served at `/openapi.json`.

use serde_json::{json, Value};

/// The OpenAPI 3.1 document. Its paths and methods are exactly [`super::ROUTES`]
/// (checked by a test, and by the HTTP suite against the running router).
pub fn document() -> Value {
    let problem = |description: &str| json!({ "description": description, "content": { "application/problem+json": { "schema": { "$ref": "#/components/schemas/Problem" } } } });
    let stream_name = json!({
        "name": "streamName", "in": "path", "required": true,
        "description": "`{streamType}:{streamId}`, split at the first colon; one percent-encoded path segment",
        "schema": { "type": "string", "example": "order:42" }
    });
    let etag =
        json!({ "ETag": { "description": "The stream version, quoted: `\"3\"`", "schema": { "type": "string" } } });
    let scratch = "databases whose name starts with `scratch` only, never the store's own";
    let document =
        json!({ "type": "object", "description": "A document in Extended JSON (canonical when given by the server)" });
    let position = |name: &str, description: &str| {
        json!({ "name": name, "in": "query", "required": false, "description": description,
                "schema": { "type": "integer", "minimum": 0 } })
    };
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "streamdoc",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "An event store that keeps each event stream as one MongoDB document. \
                            Every error is an RFC 9457 problem (application/problem+json)."
        },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer",
                "description": "Required on the stream routes and the command endpoint when the server runs with --token" } },
            "schemas": {
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": { "type": "string", "format": "uri", "example": "https://streamdoc.dev/problems/concurrency-conflict" },
                        "title": { "type": "string" },
                        "status": { "type": "integer" },
                        "detail": { "type": "string" },
                        "kind": { "type": "string", "description": "streamdoc's error kind, for errors of the store" },
                        "expected": { "description": "412: the expected version (a number, \"noStream\" or \"streamExists\")" },
                        "actual": { "type": ["integer", "null"], "description": "412: the stream's version (null: no stream)" }
                    },
                    "additionalProperties": true
                },
                "NewEvent": {
                    "type": "object",
                    "required": ["type"],
                    "additionalProperties": false,
                    "properties": {
                        "type": { "type": "string", "minLength": 1 },
                        "data": { "type": "object", "description": "Plain JSON; keys are kept verbatim" },
                        "metadata": { "type": "object" },
                        "id": { "type": "string", "minLength": 1, "description": "Makes retries idempotent" }
                    }
                },
                "AppendRequest": {
                    "type": "object", "required": ["events"], "additionalProperties": false,
                    "properties": { "events": { "type": "array", "minItems": 1, "items": { "$ref": "#/components/schemas/NewEvent" } } }
                },
                "AppendResult": {
                    "type": "object", "required": ["nextExpectedStreamVersion", "createdNewStream"],
                    "properties": { "nextExpectedStreamVersion": { "type": "integer" }, "createdNewStream": { "type": "boolean" } }
                },
                "RecordedEvent": {
                    "type": "object", "required": ["type", "data", "metadata"],
                    "properties": {
                        "type": { "type": "string" },
                        "data": { "type": "object", "description": "Relaxed Extended JSON" },
                        "metadata": { "type": "object", "required": ["eventId", "streamName", "streamPosition"],
                            "properties": { "eventId": { "type": "string" }, "streamName": { "type": "string" },
                                "streamPosition": { "type": "integer" }, "recordedAt": { "type": "string", "format": "date-time" } } }
                    }
                },
                "WireCommand": {
                    "type": "object",
                    "description": "One of core's commands, as the JavaScript package gives it to an executor",
                    "required": ["kind", "database", "collection"],
                    "properties": {
                        "kind": { "enum": ["createIndex", "findOne", "updateOne", "insertOne", "deleteOne"] },
                        "database": { "type": "string", "description": scratch },
                        "collection": { "type": "string" },
                        "keys": document, "name": { "type": "string" }, "unique": { "type": "boolean" },
                        "filter": document, "projection": { "type": ["object", "null"] },
                        "update": document, "upsert": { "type": "boolean" },
                        "document": document
                    },
                    "additionalProperties": false
                },
                "WireReply": {
                    "type": "object",
                    "description": "The executor's reply, as the JavaScript package reads it from an executor",
                    "required": ["kind"],
                    "properties": {
                        "kind": { "enum": ["acknowledged", "found", "updated", "inserted", "deleted", "duplicateKey", "serverError"] },
                        "document": { "type": ["object", "null"] },
                        "matchedCount": { "type": "integer" }, "modifiedCount": { "type": "integer" },
                        "upsertedId": { "description": "Canonical Extended JSON, or null" },
                        "insertedId": { "description": "Canonical Extended JSON" },
                        "deletedCount": { "type": "integer" },
                        "code": { "type": "integer" }, "message": { "type": "string" }
                    }
                },
                "CommandEndpointStatus": {
                    "type": "object", "required": ["enabled", "scratchPrefix", "tokenRequired", "kinds"],
                    "properties": {
                        "enabled": { "type": "boolean", "description": "Whether the server runs with --command-endpoint" },
                        "scratchPrefix": { "type": "string", "const": "scratch" },
                        "tokenRequired": { "type": "boolean" },
                        "kinds": { "type": "array", "items": { "type": "string" } }
                    }
                },
                "StoredDocuments": {
                    "type": "object",
                    "description": "`database.collection` → its documents in canonical Extended JSON (insertion order on the engine, by `_id` on MongoDB); collections without documents left out",
                    "additionalProperties": { "type": "array", "items": { "type": "object" } }
                },
                "ReadResult": {
                    "type": "object", "required": ["streamName", "currentStreamVersion", "streamExists", "events"],
                    "properties": {
                        "streamName": { "type": "string" }, "currentStreamVersion": { "type": "integer" },
                        "streamExists": { "type": "boolean", "const": true },
                        "events": { "type": "array", "items": { "$ref": "#/components/schemas/RecordedEvent" } }
                    }
                }
            }
        },
        "paths": {
            "/streams/{streamName}": {
                "parameters": [stream_name],
                "post": {
                    "operationId": "appendToStream",
                    "summary": "Append events, optionally under a precondition",
                    "security": [{}, { "bearer": [] }],
                    "parameters": [
                        { "name": "If-Match", "in": "header", "required": false, "schema": { "type": "string" },
                          "description": "`\"<n>\"`: the stream is at version n; `*`: the stream exists" },
                        { "name": "If-None-Match", "in": "header", "required": false, "schema": { "type": "string", "const": "*" },
                          "description": "`*`: the stream does not exist" }
                    ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/AppendRequest" } } } },
                    "responses": {
                        "200": { "description": "Appended", "headers": etag,
                                 "content": { "application/json": { "schema": { "$ref": "#/components/schemas/AppendResult" } } } },
                        "400": problem("Malformed JSON, a body of the wrong shape, an invalid stream name or event, or an invalid precondition"),
                        "401": problem("No or a wrong bearer token"),
                        "409": problem("Too many concurrent appends raced for the position"),
                        "412": problem("The precondition failed: `expected` and `actual` say where the stream is"),
                        "413": problem("The body is larger than --max-body"),
                        "415": problem("The body is not application/json"),
                        "422": problem("The stream would pass the 16 MiB document limit, or the server refused the event data"),
                        "503": problem("The MongoDB server does not answer")
                    }
                },
                "get": {
                    "operationId": "readStream",
                    "summary": "Read the stream's events (inclusive, 1-based positions)",
                    "security": [{}, { "bearer": [] }],
                    "parameters": [
                        position("from", "First position (default 1; 0 reads as 1)"),
                        position("to", "Last position (default: the end); before `from` is a 400"),
                        position("maxCount", "At most this many events"),
                        { "name": "If-Match", "in": "header", "required": false, "schema": { "type": "string" },
                          "description": "`\"<n>\"`: read only if the stream is at version n; `*`: only if it exists" }
                    ],
                    "responses": {
                        "200": { "description": "The stream", "headers": etag,
                                 "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ReadResult" } } } },
                        "400": problem("An invalid stream name, range or precondition"),
                        "401": problem("No or a wrong bearer token"),
                        "404": problem("The stream does not exist"),
                        "412": problem("The stream is not at the version If-Match names"),
                        "503": problem("The MongoDB server does not answer")
                    }
                }
            },
            "/streams/{streamName}/document": {
                "parameters": [stream_name],
                "get": {
                    "operationId": "getStreamDocument",
                    "summary": "The stream's document as MongoDB holds it (canonical Extended JSON)",
                    "security": [{}, { "bearer": [] }],
                    "responses": {
                        "200": { "description": "The stored document", "content": { "application/json": { "schema": { "type": "object" } } } },
                        "400": problem("An invalid stream name"),
                        "401": problem("No or a wrong bearer token"),
                        "404": problem("The stream does not exist")
                    }
                }
            },
            "/health": {
                "get": {
                    "operationId": "health",
                    "summary": "The store kind; for MongoDB, whether the server answers",
                    "responses": {
                        "200": { "description": "Serving", "content": { "application/json": { "schema": {
                            "type": "object", "required": ["status", "store"],
                            "properties": { "status": { "const": "ok" }, "store": { "enum": ["memory", "mongodb"] },
                                            "server": { "type": "string" }, "warning": { "type": "string" } } } } } },
                        "503": problem("The MongoDB server does not answer")
                    }
                }
            },
            "/commands": {
                "get": {
                    "operationId": "commandEndpointStatus",
                    "summary": "Whether the command endpoint is on (200 whether it is or not)",
                    "responses": {
                        "200": { "description": "The endpoint's status", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CommandEndpointStatus" } } } }
                    }
                },
                "post": {
                    "operationId": "runCommand",
                    "summary": "Run one command on the store's executor (--command-endpoint)",
                    "description": "A duplicateKey or serverError reply is a 200: it is the server's answer.",
                    "security": [{}, { "bearer": [] }],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/WireCommand" } } } },
                    "responses": {
                        "200": { "description": "The reply", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/WireReply" } } } },
                        "400": problem("Malformed JSON, not a command, or an invalid database name"),
                        "401": problem("No or a wrong bearer token"),
                        "403": problem("Not a scratch database"),
                        "404": problem("The command endpoint is off"),
                        "413": problem("The body is larger than --max-body"),
                        "415": problem("The body is not application/json"),
                        "503": problem("No answer from the MongoDB server")
                    }
                }
            },
            "/commands/documents": {
                "get": {
                    "operationId": "scratchDocuments",
                    "summary": "Every document of a scratch database (--command-endpoint)",
                    "security": [{}, { "bearer": [] }],
                    "parameters": [{ "name": "database", "in": "query", "required": true, "description": scratch, "schema": { "type": "string" } }],
                    "responses": {
                        "200": { "description": "The documents", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/StoredDocuments" } } } },
                        "400": problem("No or an invalid database"),
                        "401": problem("No or a wrong bearer token"),
                        "403": problem("Not a scratch database"),
                        "404": problem("The command endpoint is off"),
                        "503": problem("No answer from the MongoDB server")
                    }
                }
            },
            "/commands/databases/{database}": {
                "parameters": [{ "name": "database", "in": "path", "required": true, "description": scratch, "schema": { "type": "string" } }],
                "delete": {
                    "operationId": "dropScratchDatabase",
                    "summary": "Drop a scratch database (--command-endpoint)",
                    "security": [{}, { "bearer": [] }],
                    "responses": {
                        "204": { "description": "Dropped (also when it did not exist)" },
                        "400": problem("An invalid database name"),
                        "401": problem("No or a wrong bearer token"),
                        "403": problem("Not a scratch database"),
                        "404": problem("The command endpoint is off"),
                        "503": problem("No answer from the MongoDB server")
                    }
                }
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": { "200": { "description": "OpenAPI 3.1", "content": { "application/json": {} } } }
                }
            }
        }
    })
}

/// The `(METHOD, path)` pairs the document describes, with paths in axum's syntax
/// (OpenAPI's `{name}` templates are the same).
pub fn operations(document: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(paths) = document["paths"].as_object() {
        for (path, item) in paths {
            for method in ["get", "put", "post", "delete", "options", "head", "patch", "trace"] {
                if item.get(method).is_some() {
                    out.push((method.to_ascii_uppercase(), path.clone()));
                }
            }
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_describes_exactly_the_routes() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut routes: Vec<(String, String)> =
            super::super::ROUTES.iter().map(|(m, p)| ((*m).to_owned(), (*p).to_owned())).collect();
        routes.sort();
        assert_eq!(operations(&doc), routes);
    }

    #[test]
    fn every_reference_resolves() {
        let doc = document();
        let text = doc.to_string();
        for reference in text.split("\"$ref\":\"").skip(1) {
            let target = reference.split('"').next().unwrap();
            let pointer = target.strip_prefix('#').unwrap();
            assert!(doc.pointer(pointer).is_some(), "dangling {target}");
        }
    }
}
