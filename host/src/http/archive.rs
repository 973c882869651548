//! The handlers of archiving, closing the books and a stream's status:
//! `POST /streams/{streamName}/archive`, `POST /streams/{streamName}/close` and
//! `GET /streams/{streamName}/status` (reading the archive is the read route's
//! `fromArchive=true`).

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;
use streamdoc_core::ops::Summary;
use streamdoc_core::{Error, ExpectedVersion};

use super::preconditions;
use super::problem::Problem;
use super::routes::{json_body, not_an_object, stream_name, EventBody};
use super::Store;

/// The body of a close.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    successor: String,
    summary: EventBody,
}

const CLOSE_SHAPE: &str =
    "expected {\"successor\": string, \"summary\": {\"type\": string, \"data\"?: object, \"metadata\"?: object, \"id\"?: string}}";

fn parse_close(bytes: &[u8]) -> Result<CloseBody, Problem> {
    let value: Value = serde_json::from_slice(bytes).map_err(|e| Problem::malformed_json(e.to_string()))?;
    // serde reads a struct from an array too (`["account:2027", ["S"]]`): only objects.
    if let Some(what) = not_an_object(&value, &["summary"], &[]) {
        return Err(Problem::invalid_body(format!("{what} is not a JSON object; {CLOSE_SHAPE}")));
    }
    serde_json::from_value(value).map_err(|e| Problem::invalid_body(format!("{e}; {CLOSE_SHAPE}")))
}

/// Core answers an archive or a close of a stream that is not there as a conflict with
/// no actual position. Without a precondition, nothing was expected of the stream but
/// that it be there: a 404, as a read of it.
fn missing_as_not_found(e: Error, stream: &str, expected: ExpectedVersion) -> Problem {
    match e {
        Error::ConcurrencyConflict { actual: None, .. } if expected == ExpectedVersion::Any => {
            Problem::stream_not_found(stream)
        }
        e => Problem::from(e),
    }
}

/// `POST /streams/{streamName}/archive`: `If-Match: "<n>"` or `*` makes it conditional;
/// no body is read.
pub(super) async fn archive(
    State(store): State<Store>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let stream = stream_name(path)?;
    let expected = preconditions::existing_expected_version(&headers, "an archive")
        .map_err(|e| Problem::invalid_precondition(e.to_string()))?;
    let result =
        store.archive_stream(&stream, expected).await.map_err(|e| missing_as_not_found(e, &stream, expected))?;
    Ok(Json(result).into_response())
}

/// `POST /streams/{streamName}/close`: body `{successor, summary}`; `If-Match` as for
/// the archive.
pub(super) async fn close(
    State(store): State<Store>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let stream = stream_name(path)?;
    let expected = preconditions::existing_expected_version(&headers, "a close")
        .map_err(|e| Problem::invalid_precondition(e.to_string()))?;
    let bytes = json_body(&headers, body, store.max_body())?;
    let body = parse_close(&bytes)?;
    // Core refuses a stream closed into itself as a misuse of the operation; over HTTP it
    // is the caller's input. The names are compared as core reads them (a bare name takes
    // the default stream type).
    let config = store.context().config();
    if let (Ok(a), Ok(b)) = (config.stream_name(&stream), config.stream_name(&body.successor)) {
        if a == b {
            return Err(Problem::invalid_successor(&stream, &body.successor));
        }
    }
    let summary = Summary::Event(body.summary.into_event());
    let result = store
        .close_stream(&stream, expected, &body.successor, summary)
        .await
        .map_err(|e| missing_as_not_found(e, &stream, expected))?;
    Ok(Json(result).into_response())
}

/// `GET /streams/{streamName}/status`: 200 whatever the state, `missing` included.
pub(super) async fn status(
    State(store): State<Store>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    let stream = stream_name(path)?;
    let status = store.stream_status(&stream).await?;
    Ok(Json(status).into_response())
}
