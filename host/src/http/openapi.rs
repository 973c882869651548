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
    let stream_type = json!({
        "name": "streamType", "in": "path", "required": true,
        "description": "The stream type (the part of a stream name before the first colon)",
        "schema": { "type": "string", "example": "order" }
    });
    let projection_name = json!({
        "name": "projection", "in": "path", "required": true,
        "description": "The projection's name: the read model lives at `projections.<name>` (not `rebuild`, whose path is the rebuild's)",
        "schema": { "type": "string", "example": "summary" }
    });
    let json_param = |name: &str, description: &str| {
        json!({ "name": name, "in": "query", "required": false, "description": description,
                "content": { "application/json": { "schema": { "type": "object" } } } })
    };
    let streams_param = json!({
        "name": "streams", "in": "query", "required": false,
        "description": "Only these streams: full stream names, comma separated and/or repeated (`%2C` is a comma inside a name); given but empty, none",
        "schema": { "type": "array", "items": { "type": "string" } }, "style": "form", "explode": true
    });
    let rebuild_request = json!({
        "required": false,
        "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RebuildRequest" } } }
    });
    let mut doc = json!({
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
                        "actual": { "type": ["integer", "null"], "description": "412: the stream's version (null: no stream)" },
                        "position": { "type": "integer", "description": "409 `stream-archived`: the position the stream was archived at" },
                        "successor": { "type": ["string", "null"], "description": "409 `stream-archived`: the stream that continues it (null: archived without one)" }
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
                        "kind": { "enum": ["createIndex", "findOne", "find", "count", "updateOne", "insertOne", "deleteOne"] },
                        "database": { "type": "string", "description": scratch },
                        "collection": { "type": "string" },
                        "keys": document, "name": { "type": "string" }, "unique": { "type": "boolean" },
                        "filter": document, "projection": { "type": ["object", "null"] },
                        "sort": { "type": ["object", "null"] },
                        "skip": { "type": "integer", "minimum": 0 },
                        "limit": { "type": "integer", "minimum": 0, "description": "0: no limit" },
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
                        "kind": { "enum": ["acknowledged", "found", "foundMany", "counted", "updated", "inserted", "deleted", "duplicateKey", "serverError"] },
                        "document": { "type": ["object", "null"] },
                        "documents": { "type": "array", "items": { "type": "object" } },
                        "count": { "type": "integer", "minimum": 0 },
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
                "ReadModel": {
                    "type": "object",
                    "description": "A read model as stored in the stream document at `projections.<name>`: the state's fields, then `_metadata`; relaxed Extended JSON, as event data",
                    "required": ["_metadata"],
                    "properties": {
                        "_metadata": { "type": "object", "required": ["name", "schemaVersion", "streamPosition"],
                            "properties": { "streamId": { "type": "string" }, "name": { "type": "string" },
                                "schemaVersion": { "type": "integer" },
                                "streamPosition": { "type": "integer", "description": "The stream's position when the read model was last written" } } }
                    },
                    "additionalProperties": true
                },
                "ReadModels": {
                    "type": "object", "required": ["streamType", "projection", "readModels"],
                    "properties": {
                        "streamType": { "type": "string" }, "projection": { "type": "string" },
                        "readModels": { "type": "array", "items": { "type": "object", "required": ["streamName", "readModel"],
                            "properties": { "streamName": { "type": "string" }, "readModel": { "$ref": "#/components/schemas/ReadModel" } } } }
                    }
                },
                "ReadModelCount": {
                    "type": "object", "required": ["streamType", "projection", "count"],
                    "properties": { "streamType": { "type": "string" }, "projection": { "type": "string" }, "count": { "type": "integer", "minimum": 0 } }
                },
                "RebuildRequest": {
                    "type": "object", "additionalProperties": false,
                    "description": "Optional (no body: every projection of the stream type)",
                    "properties": { "projection": { "type": ["string", "null"], "description": "Only this projection" } }
                },
                "RebuildResult": {
                    "type": "object", "required": ["streamName", "streamExists", "streamPosition"],
                    "properties": { "streamName": { "type": "string" }, "streamExists": { "type": "boolean", "const": true },
                        "streamPosition": { "type": "integer", "description": "The position the read models were rebuilt at" } }
                },
                "RebuildAllResult": {
                    "type": "object", "required": ["streamType", "streams"],
                    "properties": { "streamType": { "type": "string" }, "streams": { "type": "integer", "description": "How many streams were rebuilt" } }
                },
                "SubscriptionBatch": {
                    "type": "object", "required": ["stream", "after", "events"],
                    "description": "The `data` of a `batch` message: events of one stream at positions `after + 1 ..`, in order",
                    "properties": {
                        "stream": { "type": "string" },
                        "after": { "type": "integer", "minimum": 0, "description": "The position the batch follows" },
                        "events": { "type": "array", "minItems": 1, "items": { "$ref": "#/components/schemas/RecordedEvent" } }
                    }
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
                        "409": problem("Too many concurrent appends raced for the position (`contention`), or the stream is archived (`stream-archived`: `position`, and `successor` when it was closed into one)"),
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
                        { "name": "fromArchive", "in": "query", "required": false, "schema": { "type": "boolean", "default": false },
                          "description": "`true`: read the archive collection (a stream archived or closed), which takes no precondition" },
                        { "name": "If-Match", "in": "header", "required": false, "schema": { "type": "string" },
                          "description": "`\"<n>\"`: read only if the stream is at version n; `*`: only if it exists (not with `fromArchive=true`)" }
                    ],
                    "responses": {
                        "200": { "description": "The stream (from the archive with `fromArchive=true`)", "headers": etag,
                                 "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ReadResult" } } } },
                        "400": problem("An invalid stream name, range, query parameter (`invalid-query`) or precondition (`invalid-precondition`, also any precondition with `fromArchive=true`)"),
                        "401": problem("No or a wrong bearer token"),
                        "404": problem("The stream does not exist; with `fromArchive=true`, it is not in the archive"),
                        "409": problem("The stream is archived (`stream-archived`: `position`, `successor`): read it with `fromArchive=true`"),
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
            "/streams/{streamName}/projections/{projection}": {
                "parameters": [stream_name, projection_name.clone()],
                "get": {
                    "operationId": "getReadModel",
                    "summary": "The stream's read model of the projection (registered or not)",
                    "security": [{}, { "bearer": [] }],
                    "responses": {
                        "200": { "description": "The read model", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ReadModel" } } } },
                        "400": problem("An invalid stream name (`invalid-stream-name`) or projection name (`invalid-read-model-query`)"),
                        "401": problem("No or a wrong bearer token"),
                        "404": problem("The stream does not exist, or has no read model of the projection (`read-model-not-found`)"),
                        "503": problem("The MongoDB server does not answer")
                    }
                }
            },
            "/streams/{streamName}/projections/rebuild": {
                "parameters": [stream_name],
                "post": {
                    "operationId": "rebuildReadModels",
                    "summary": "Recompute the stream's read models from its events (the projections must be registered in the store)",
                    "description": "Written at the position read, in one conditional update; read again when an append moved the stream. `streamdoc serve` registers no projection: there it is always a 422.",
                    "security": [{}, { "bearer": [] }],
                    "requestBody": rebuild_request.clone(),
                    "responses": {
                        "200": { "description": "Rebuilt", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RebuildResult" } } } },
                        "400": problem("Malformed JSON, a body of the wrong shape, or an invalid stream name"),
                        "401": problem("No or a wrong bearer token"),
                        "404": problem("The stream does not exist"),
                        "409": problem("Appends kept moving the stream while it was rebuilt (`contention`), or the stream is archived (`stream-archived`)"),
                        "413": problem("The body is larger than --max-body"),
                        "415": problem("A body that is not application/json"),
                        "422": problem("The store defines no such projection for the stream's type (`unknown-projection`), a projection failed on the events (`projection-failed`), or the read models would pass the 16 MiB document limit"),
                        "503": problem("The MongoDB server does not answer")
                    }
                }
            },
            "/projections/{streamType}/{projection}": {
                "parameters": [stream_type.clone(), projection_name.clone()],
                "get": {
                    "operationId": "findReadModels",
                    "summary": "The read models of the projection in the streams of a type, filtered, sorted (ties by stream name), paged",
                    "security": [{}, { "bearer": [] }],
                    "parameters": [
                        json_param("filter", "A filter on the read model's fields, e.g. `{\"status\":\"open\",\"total\":{\"$gte\":10}}`; only `$and`, `$or` and `$nor` at its top level"),
                        json_param("sort", "A sort on the read model's fields, e.g. `{\"total\":-1}` (1 or -1); ties, and no sort, are ordered by stream name"),
                        position("skip", "Skip this many"),
                        position("limit", "At most this many (0: no limit)"),
                        streams_param.clone()
                    ],
                    "responses": {
                        "200": { "description": "The read models found", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ReadModels" } } } },
                        "400": problem("An unknown, repeated or unreadable query parameter, filter or sort not a JSON object (`invalid-query`); a filter or sort core refuses, e.g. `$where` (`invalid-read-model-query`); one the server refuses (`refused-query`); an invalid stream type"),
                        "401": problem("No or a wrong bearer token"),
                        "501": problem("The store does not implement an operator of the filter, e.g. `$regex` on the in-memory engine (`query-operator-unsupported`), or places streams with a custom resolver, which cannot list the streams of a type (`queries-unsupported`)"),
                        "503": problem("The MongoDB server does not answer")
                    }
                }
            },
            "/projections/{streamType}/{projection}/count": {
                "parameters": [stream_type.clone(), projection_name],
                "get": {
                    "operationId": "countReadModels",
                    "summary": "How many read models of the projection in the streams of a type match (skip and limit applied)",
                    "security": [{}, { "bearer": [] }],
                    "parameters": [
                        json_param("filter", "A filter on the read model's fields, as for the query"),
                        position("skip", "Skip this many"),
                        position("limit", "Count at most this many (0: no limit)"),
                        streams_param
                    ],
                    "responses": {
                        "200": { "description": "The count", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ReadModelCount" } } } },
                        "400": problem("As for the query (`sort` is not a parameter of the count)"),
                        "401": problem("No or a wrong bearer token"),
                        "501": problem("As for the query (`query-operator-unsupported`, `queries-unsupported`)"),
                        "503": problem("The MongoDB server does not answer")
                    }
                }
            },
            "/projections/{streamType}/rebuild": {
                "parameters": [stream_type],
                "post": {
                    "operationId": "rebuildAllReadModels",
                    "summary": "Recompute the read models of every stream of the type, one stream at a time (the projections must be registered in the store)",
                    "security": [{}, { "bearer": [] }],
                    "requestBody": rebuild_request,
                    "responses": {
                        "200": { "description": "Rebuilt", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/RebuildAllResult" } } } },
                        "400": problem("Malformed JSON, a body of the wrong shape, or an invalid stream type"),
                        "401": problem("No or a wrong bearer token"),
                        "409": problem("Appends kept moving a stream while it was rebuilt (`contention`)"),
                        "413": problem("The body is larger than --max-body"),
                        "415": problem("A body that is not application/json"),
                        "422": problem("The store defines no such projection for the type (`unknown-projection`), or a projection failed on a stream's events (`projection-failed`)"),
                        "501": problem("The store places streams with a custom resolver (`queries-unsupported`)"),
                        "503": problem("The MongoDB server does not answer")
                    }
                }
            },
            "/subscribe": {
                "get": {
                    "operationId": "subscribe",
                    "summary": "A consumer's new events as Server-Sent Events, one message per batch, from the consumer's checkpoints",
                    "description": "Each batch is one message: `event: batch`, `id: <stream>@<lastPosition>` (the stream name with `%`, control characters and non-ASCII bytes percent-encoded; the position of the message's last event), `data:` a `SubscriptionBatch`. A `: keep-alive` comment comes every --subscription-heartbeat seconds (default 15). If the subscription fails once the answer has started, one `event: error` message carries the problem and the answer ends.\n\nDelivery is at least once up to the connection: the next batch is read only once the answer has taken the previous message, and the consumer's checkpoint moves when the answer takes a message, not when the client has read it, so a message in flight when the connection drops is lost to the client, and one taken but not checkpointed is sent again. A client that reconnects with the same `consumer` resumes from the consumer's checkpoints; with `Last-Event-ID: <stream>@<position>` the server does not resend the events of that stream at or before that position (the checkpoint then moves past them). Clients dedupe by `id` or by each event's `metadata.streamPosition`.\n\nTwo connections with one `consumer` are two instances of one consumer: allowed; each batch goes to the instance that advances the checkpoint first (checkpoints are conditional), and both may receive one that neither has checkpointed yet. At most --max-subscriptions (default 64) are open at once.",
                    "security": [{}, { "bearer": [] }],
                    "parameters": [
                        { "name": "consumer", "in": "query", "required": true, "schema": { "type": "string", "minLength": 1, "maxLength": 200 },
                          "description": "The consumer's name: its checkpoints are its own" },
                        { "name": "streamType", "in": "query", "required": false, "schema": { "type": "string", "example": "order" },
                          "description": "Only streams of this type; required when the store keeps a collection per stream type (`streamdoc serve --storage per-type`, the default)" },
                        { "name": "batchSize", "in": "query", "required": false, "schema": { "type": "integer", "minimum": 1, "default": 100 },
                          "description": "At most this many events in one message" },
                        { "name": "source", "in": "query", "required": false, "schema": { "enum": ["auto", "changeStream", "polling"], "default": "auto" },
                          "description": "Where new events are learnt of: a change stream (a replica set, or the in-memory engine), polling, or whichever the server has" },
                        { "name": "Last-Event-ID", "in": "header", "required": false, "schema": { "type": "string", "example": "order:1@3" },
                          "description": "`<stream>@<position>`, the `id` of the last message the client has: that stream's events at or before the position are not sent again" }
                    ],
                    "responses": {
                        "200": { "description": "The subscription: a stream of `batch` messages and keep-alive comments that ends only when the client disconnects, the subscription fails (`error` message) or the server shuts down",
                                 "content": { "text/event-stream": { "schema": { "type": "string" },
                                     "itemSchema": { "$ref": "#/components/schemas/SubscriptionBatch" } } } },
                        "400": problem("An unknown, repeated or unreadable query parameter, or no `consumer` (`invalid-query`); a consumer name, batch size or missing stream type the subscription refuses (`invalid-subscription`); an invalid stream type; a `Last-Event-ID` that is not `<stream>@<position>` (`invalid-last-event-id`)"),
                        "401": problem("No or a wrong bearer token"),
                        "501": problem("`source=changeStream` on a server without change streams (`change-streams-unsupported`)"),
                        "503": problem("Every subscription slot is taken (`too-many-subscriptions`, with `Retry-After` in seconds); a server that stops answering once the answer has started is an `error` message")
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
    });
    // Archiving and closing the books, apart: one `json!` of the whole document passes
    // the macro's recursion limit.
    let archive_schemas = json!({
                "ArchiveResult": {
                    "type": "object", "required": ["streamPosition"], "additionalProperties": false,
                    "properties": {
                        "streamPosition": { "type": "integer", "minimum": 1, "description": "The position of the archived stream's last event" },
                        "successor": { "type": "string", "description": "The stream that continues it, when it was closed into one" }
                    }
                },
                "CloseRequest": {
                    "type": "object", "required": ["successor", "summary"], "additionalProperties": false,
                    "properties": {
                        "successor": { "type": "string", "description": "The stream that continues this one; it must not exist (and cannot be this stream)", "example": "account:2027" },
                        "summary": { "$ref": "#/components/schemas/NewEvent", "description": "The successor's first event (its id defaults to `closed:<stream>@<position>`, so a retry is idempotent)" }
                    }
                },
                "CloseResult": {
                    "type": "object", "required": ["closedAt", "successor", "nextExpectedStreamVersion"], "additionalProperties": false,
                    "properties": {
                        "closedAt": { "type": "integer", "description": "The position the closed stream was archived at" },
                        "successor": { "type": "string" },
                        "nextExpectedStreamVersion": { "type": "integer", "description": "The successor's version after its summary event" }
                    }
                },
                "StreamStatus": {
                    "type": "object", "required": ["state", "streamPosition"], "additionalProperties": false,
                    "properties": {
                        "state": { "enum": ["missing", "live", "sealed", "archived"],
                                   "description": "`sealed`: an archive has begun (no more appends) and not finished; `archived`: the events are in the archive, the live collection keeps a tombstone" },
                        "streamPosition": { "type": "integer", "minimum": 0, "description": "The position of the stream's last event (0 when missing)" },
                        "successor": { "type": "string", "description": "The stream that continues this one, when it was closed into one" },
                        "predecessor": { "type": "object", "required": ["streamName", "streamPosition"], "additionalProperties": false,
                            "description": "The stream this one continues, when it was started by a close",
                            "properties": { "streamName": { "type": "string" }, "streamPosition": { "type": "integer", "description": "Where the predecessor was closed" } } }
                    }
                }
    });
    let archive_paths = json!({
            "/streams/{streamName}/archive": {
                "parameters": [stream_name.clone()],
                "post": {
                    "operationId": "archiveStream",
                    "summary": "Move the stream to the archive collection, optionally under a precondition",
                    "description": "Seals the stream (no more appends: an append racing the archive either lands before the seal and is archived with the stream, or is a 409 `stream-archived`), copies it to the archive collection and leaves a tombstone in the live one. Repeating it, after an interruption or not, finishes it and answers the same. No body is read.",
                    "security": [{}, { "bearer": [] }],
                    "parameters": [
                        { "name": "If-Match", "in": "header", "required": false, "schema": { "type": "string" },
                          "description": "`\"<n>\"`: archive only if the stream is at version n; `*`: only if it exists (If-None-Match is a 400)" }
                    ],
                    "responses": {
                        "200": { "description": "Archived (also when it already was, at the same position)",
                                 "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ArchiveResult" } } } },
                        "400": problem("An invalid stream name or precondition (`invalid-precondition`)"),
                        "401": problem("No or a wrong bearer token"),
                        "404": problem("No precondition and the stream does not exist"),
                        "409": problem("The stream was archived or closed otherwise: into a successor, or at another position than If-Match names (`stream-archived`); appends kept moving it (`contention`)"),
                        "412": problem("The stream is not at the version If-Match names (`actual`: null when it does not exist)"),
                        "422": problem("The document is too large for the archive collection's server (`stream-too-large`)"),
                        "501": problem("The store keeps streams as segments, which cannot be archived yet (`unsupported-by-store`)"),
                        "503": problem("The MongoDB server does not answer")
                    }
                }
            },
            "/streams/{streamName}/close": {
                "parameters": [stream_name.clone()],
                "post": {
                    "operationId": "closeStream",
                    "summary": "Close the books: archive the stream and start its successor with a summary event",
                    "description": "Checks that the successor does not exist, archives the stream (recording its successor) and appends the summary to the new successor (recording its predecessor). Repeating it finishes an interrupted close and answers the same.",
                    "security": [{}, { "bearer": [] }],
                    "parameters": [
                        { "name": "If-Match", "in": "header", "required": false, "schema": { "type": "string" },
                          "description": "`\"<n>\"`: close only if the stream is at version n; `*`: only if it exists (If-None-Match is a 400)" }
                    ],
                    "requestBody": { "required": true, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CloseRequest" } } } },
                    "responses": {
                        "200": { "description": "Closed", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/CloseResult" } } } },
                        "400": problem("Malformed JSON, a body of the wrong shape (`invalid-body`, unknown fields too), an invalid stream or successor name, a successor that is the stream itself (`invalid-successor`), an invalid summary event (`invalid-event`), or an invalid precondition"),
                        "401": problem("No or a wrong bearer token"),
                        "404": problem("No precondition and the stream does not exist"),
                        "409": problem("The stream is archived already, or closed into another successor (`stream-archived`); appends kept moving it (`contention`)"),
                        "412": problem("The stream is not at the version If-Match names, or the successor exists (`stream` names it, `expected` is \"noStream\"): nothing was archived"),
                        "413": problem("The body is larger than --max-body"),
                        "415": problem("The body is not application/json"),
                        "422": problem("The summary would pass the document limit, or the server refused its data"),
                        "501": problem("The store keeps streams as segments, which cannot be archived yet (`unsupported-by-store`)"),
                        "503": problem("The MongoDB server does not answer")
                    }
                }
            },
            "/streams/{streamName}/status": {
                "parameters": [stream_name.clone()],
                "get": {
                    "operationId": "getStreamStatus",
                    "summary": "Whether the stream is missing, live, sealed or archived; its position, successor and predecessor",
                    "security": [{}, { "bearer": [] }],
                    "responses": {
                        "200": { "description": "The status (a stream that does not exist is `missing`)",
                                 "content": { "application/json": { "schema": { "$ref": "#/components/schemas/StreamStatus" } } } },
                        "400": problem("An invalid stream name"),
                        "401": problem("No or a wrong bearer token"),
                        "503": problem("The MongoDB server does not answer")
                    }
                }
            }
    });
    for (pointer, more) in [("/components/schemas", archive_schemas), ("/paths", archive_paths)] {
        if let (Some(Value::Object(into)), Value::Object(more)) = (doc.pointer_mut(pointer), more) {
            into.extend(more);
        }
    }
    doc
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
