//! The handlers of the stream routes and `/health`.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use streamdoc_core::{NewEvent, ReadRange};

use super::json;
use super::preconditions::{self, etag};
use super::problem::Problem;
use super::Store;

/// The body of an append.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AppendBody {
    events: Vec<EventBody>,
}

/// One event to append.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct EventBody {
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default)]
    data: Option<Map<String, Value>>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    id: Option<String>,
}

impl EventBody {
    pub(super) fn into_event(self) -> NewEvent {
        let mut event = NewEvent::new(self.event_type, self.data.as_ref().map(json::to_document).unwrap_or_default());
        event.metadata = self.metadata.as_ref().map(json::to_document).unwrap_or_default();
        event.id = self.id;
        event
    }
}

/// The query of a read.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct ReadQuery {
    from: Option<u64>,
    to: Option<u64>,
    max_count: Option<u64>,
    /// Read the archive collection (a stream archived or closed) instead of the live one.
    #[serde(default)]
    from_archive: bool,
}

pub(super) fn stream_name(path: Result<Path<String>, PathRejection>) -> Result<String, Problem> {
    path.map(|Path(name)| name).map_err(|e| Problem::invalid_path(e.body_text()))
}

/// Checks that the body is declared as JSON (`application/json` or `…+json`).
fn require_json(headers: &HeaderMap) -> Result<(), Problem> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Err(Problem::unsupported_media_type(None));
    };
    let text = value.to_str().unwrap_or("");
    let essence = text.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    let is_json = essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"));
    if is_json {
        Ok(())
    } else {
        Err(Problem::unsupported_media_type(Some(text)))
    }
}

/// The bytes of a body declared as JSON, within the body limit of `max_body` bytes.
pub(super) fn json_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    max_body: usize,
) -> Result<Bytes, Problem> {
    require_json(headers)?;
    body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Problem::body_too_large(max_body),
        _ => Problem::invalid_body(e.body_text()),
    })
}

/// serde reads a struct from an array too (`[["A"]]` as `{"events": [{"type": "A"}]}`):
/// `None` when `value` is an object whose `objects` fields are objects (or absent) and
/// whose `lists` fields are arrays of objects (or not arrays: serde says what they are
/// not), else what is not an object.
pub(super) fn not_an_object(value: &Value, objects: &[&str], lists: &[&str]) -> Option<String> {
    let Value::Object(map) = value else { return Some("the body".into()) };
    let object = objects.iter().find(|f| map.get(**f).is_some_and(|v| !v.is_object())).map(|f| format!("`{f}`"));
    object.or_else(|| {
        lists.iter().find_map(|field| match map.get(*field) {
            Some(Value::Array(items)) => {
                items.iter().position(|item| !item.is_object()).map(|i| format!("`{field}[{i}]`"))
            }
            _ => None,
        })
    })
}

fn parse_append(bytes: &[u8]) -> Result<Vec<NewEvent>, Problem> {
    const SHAPE: &str =
        "expected {\"events\": [{\"type\": string, \"data\"?: object, \"metadata\"?: object, \"id\"?: string}]}";
    let value: Value = serde_json::from_slice(bytes).map_err(|e| Problem::malformed_json(e.to_string()))?;
    if let Some(what) = not_an_object(&value, &[], &["events"]) {
        return Err(Problem::invalid_body(format!("{what} is not a JSON object; {SHAPE}")));
    }
    let body: AppendBody = serde_json::from_value(value).map_err(|e| Problem::invalid_body(format!("{e}; {SHAPE}")))?;
    Ok(body.events.into_iter().map(EventBody::into_event).collect())
}

/// `POST /streams/{streamName}`.
pub(super) async fn append(
    State(store): State<Store>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let stream = stream_name(path)?;
    let expected =
        preconditions::expected_version(&headers).map_err(|e| Problem::invalid_precondition(e.to_string()))?;
    let bytes = json_body(&headers, body, store.max_body())?;
    let events = parse_append(&bytes)?;
    let result = store.append_to_stream(&stream, events, expected).await?;
    let body = json!({
        "nextExpectedStreamVersion": result.next_expected_stream_version,
        "createdNewStream": result.created_new_stream,
    });
    Ok(([(header::ETAG, etag(result.next_expected_stream_version))], Json(body)).into_response())
}

/// `GET /streams/{streamName}`: `If-Match` makes the read conditional (412 when the
/// stream is elsewhere); `fromArchive=true` reads the archive collection (an archived
/// stream no longer moves, so no precondition is taken there).
pub(super) async fn read(
    State(store): State<Store>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<ReadQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let stream = stream_name(path)?;
    let Query(query) = query.map_err(|e| Problem::invalid_query(e.body_text()))?;
    let range = ReadRange { from: query.from, to: query.to, max_count: query.max_count };
    if query.from_archive {
        if headers.contains_key(header::IF_MATCH) || headers.contains_key(header::IF_NONE_MATCH) {
            return Err(Problem::invalid_precondition(
                "an archived stream no longer moves: a read with fromArchive=true takes no If-Match or If-None-Match",
            ));
        }
        let read = store.read_archived_stream(&stream, range).await?;
        if !read.stream_exists {
            return Err(Problem::not_in_archive(&stream));
        }
        let etag = etag(read.current_stream_version);
        return Ok(([(header::ETAG, etag)], Json(json::read(&stream, &read))).into_response());
    }
    let expected =
        preconditions::read_expected_version(&headers).map_err(|e| Problem::invalid_precondition(e.to_string()))?;
    let read = store.read_stream_expecting(&stream, range, expected).await?;
    if !read.stream_exists {
        return Err(Problem::stream_not_found(&stream));
    }
    Ok(([(header::ETAG, etag(read.current_stream_version))], Json(json::read(&stream, &read))).into_response())
}

/// `GET /streams/{streamName}/document`.
pub(super) async fn document(
    State(store): State<Store>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    let stream = stream_name(path)?;
    match store.stream_document(&stream).await? {
        Some(doc) => Ok(Json(json::canonical(&doc)).into_response()),
        None => Err(Problem::stream_not_found(&stream)),
    }
}

/// `GET /health`: `{"status": "ok", "store": "memory" | "mongodb"}`, plus for MongoDB the
/// `server` and, when it does not guarantee optimistic concurrency, a `warning`; a 503
/// problem when the executor does not answer its ping ([`crate::AsyncExecutor::ping`]).
pub(super) async fn health(State(store): State<Store>) -> Result<Response, Problem> {
    let executor = store.executor();
    if let Err(e) = store.ping().await {
        let what = if executor.server().is_some() { "the MongoDB server" } else { "the store" };
        return Err(Problem::server_unavailable(format!("{what} does not answer: {}", e.message))
            .with("store", executor.kind()));
    }
    let mut body = json!({ "status": "ok", "store": executor.kind() });
    if let Some(server) = executor.server() {
        body["server"] = server.to_string().into();
        if let Some(warning) = server.concurrency_warning() {
            body["warning"] = warning.into();
        }
    }
    Ok(Json(body).into_response())
}
