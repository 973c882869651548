//! The handlers of the read model routes: one stream's read model, queries and counts
//! across the streams of a type, and rebuilds.
//!
//! Read models are rendered as event data is on `GET /streams/{streamName}`: the stored
//! document (the state's fields and `_metadata`) as relaxed Extended JSON. Filters and
//! sorts arrive as JSON objects in the query string and become BSON by the API's one
//! rule for plain JSON ([`super::json::to_document`]: keys verbatim, numbers by value);
//! core's [`ProjectionQuery`] prefixes them with `projections.<name>.` and refuses the
//! operators it does not allow (`$where`, `$expr`, ...) before anything is sent.
//!
//! Reads and queries need no registered projection: they find whatever read models
//! the stream documents hold. Rebuilds recompute read models from the events, so they
//! need the projection's definition ([`streamdoc_core::StoreConfig::with_projection`]);
//! a store without it answers 422 `unknown-projection`.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use streamdoc_core::projection::{ProjectionQuery, ReadModel};
use streamdoc_core::Error;

use super::json;
use super::problem::Problem;
use super::routes::json_body;
use super::Store;

/// MongoDB's codes for a query the server could not parse: BadValue, FailedToParse,
/// TypeMismatch. Core checks the query's shape; what it leaves to the server (an
/// unknown `$` operator inside a field's condition, `$in` without an array, ...) the
/// server refuses with one of these, and it is the caller's query that was refused.
const QUERY_REFUSAL_CODES: [i32; 3] = [2, 9, 14];

/// MongoDB's NotImplemented: what core's engine answers for the query operators it
/// does not have (`$regex`, `$size`, `$elemMatch`, ...), as servers without them do.
const NOT_IMPLEMENTED: i32 = 238;

/// The problem for an error of a query: a server's refusal of the filter is the
/// caller's bad query (400), an operator the store lacks a 501, not a failing server.
fn query_problem(e: Error) -> Problem {
    match &e {
        Error::Server { code: NOT_IMPLEMENTED, message } => Problem::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            "query-operator-unsupported",
            "The store cannot run an operator of the read model query",
            format!("the store does not implement an operator of the query: {message}"),
        )
        .with("kind", e.kind())
        .with("code", NOT_IMPLEMENTED)
        .with("message", message.clone()),
        Error::Server { code, message } if QUERY_REFUSAL_CODES.contains(code) => Problem::new(
            axum::http::StatusCode::BAD_REQUEST,
            "refused-query",
            "The MongoDB server refused the read model query",
            format!("the server refused the query (error {code}): {message}"),
        )
        .with("kind", e.kind())
        .with("code", *code)
        .with("message", message.clone()),
        _ => Problem::from(e),
    }
}

fn path_segments<T: serde::de::DeserializeOwned>(path: Result<Path<T>, PathRejection>) -> Result<T, Problem> {
    path.map(|Path(p)| p).map_err(|e| Problem::invalid_path(e.body_text()))
}

/// A read model as the API renders it: the stored document, relaxed Extended JSON.
fn rendered(model: &ReadModel) -> Value {
    json::relaxed(&model.document)
}

/// `GET /streams/{streamName}/projections/{projection}`: the read model, or a 404
/// `read-model-not-found` when the stream or its read model does not exist.
pub(super) async fn read_model(
    State(store): State<Store>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, Problem> {
    let (stream, projection) = path_segments(path)?;
    match store.read_model(&stream, &projection).await? {
        Some(model) => Ok(Json(rendered(&model)).into_response()),
        None => Err(Problem::read_model_not_found(&stream, &projection)),
    }
}

/// What a query or count route reads from its query string.
#[derive(Debug, Default)]
struct QueryParams {
    filter: Option<bson::Document>,
    sort: Option<bson::Document>,
    skip: Option<u64>,
    limit: Option<u64>,
    streams: Option<Vec<String>>,
}

/// The parameters of the query route; the count route takes them all but `sort`.
const FIND_PARAMS: &[&str] = &["filter", "sort", "skip", "limit", "streams"];
const COUNT_PARAMS: &[&str] = &["filter", "skip", "limit", "streams"];

/// Percent-decodes one part of a query string (`+` is a space), refusing what is not
/// UTF-8 once decoded. A `%` not followed by two hex digits is kept, as form decoding
/// keeps it.
fn decode(raw: &str) -> Result<String, Problem> {
    let spaced = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| Problem::invalid_query(format!("{raw:?} is not UTF-8 once percent-decoded")))
}

/// A JSON object from a query parameter.
fn json_object(name: &str, text: &str) -> Result<bson::Document, Problem> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Problem::invalid_query(format!("`{name}` is not valid JSON: {e}")).with("parameter", name))?;
    match value {
        Value::Object(map) => Ok(json::to_document(&map)),
        other => {
            Err(Problem::invalid_query(format!("`{name}` must be a JSON object, not {other}")).with("parameter", name))
        }
    }
}

fn count_param(name: &str, text: &str) -> Result<u64, Problem> {
    text.parse().map_err(|_| {
        Problem::invalid_query(format!("`{name}` must be a non-negative integer, not {text:?}")).with("parameter", name)
    })
}

/// Reads the query string: each parameter at most once but `streams`, which may be
/// repeated and whose values are split at commas before they are decoded (so `%2C` is
/// a comma inside a name). Unknown parameters are refused.
fn parse_query(raw: Option<&str>, allowed: &[&str]) -> Result<QueryParams, Problem> {
    let mut params = QueryParams::default();
    let mut seen: Vec<String> = Vec::new();
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(raw_key)?;
        if !allowed.contains(&key.as_str()) {
            return Err(Problem::invalid_query(format!(
                "unknown query parameter `{key}`; expected {}",
                allowed.iter().map(|p| format!("`{p}`")).collect::<Vec<_>>().join(", ")
            ))
            .with("parameter", key));
        }
        if key == "streams" {
            let names = params.streams.get_or_insert_with(Vec::new);
            for part in raw_value.split(',').filter(|p| !p.is_empty()) {
                names.push(decode(part)?);
            }
            continue;
        }
        if seen.contains(&key) {
            return Err(Problem::invalid_query(format!("`{key}` is given twice")).with("parameter", key));
        }
        let value = decode(raw_value)?;
        match key.as_str() {
            "filter" => params.filter = Some(json_object(&key, &value)?),
            "sort" => params.sort = Some(json_object(&key, &value)?),
            "skip" => params.skip = Some(count_param(&key, &value)?),
            "limit" => params.limit = Some(count_param(&key, &value)?),
            _ => unreachable!("every allowed parameter is handled"),
        }
        seen.push(key);
    }
    Ok(params)
}

fn projection_query(stream_type: String, projection: String, params: QueryParams) -> ProjectionQuery {
    ProjectionQuery {
        stream_type,
        projection,
        stream_names: params.streams,
        filter: params.filter.unwrap_or_default(),
        sort: params.sort,
        skip: params.skip.unwrap_or(0),
        limit: params.limit.unwrap_or(0),
    }
}

/// `GET /projections/{streamType}/{projection}?filter=&sort=&skip=&limit=&streams=`:
/// `{streamType, projection, readModels: [{streamName, readModel}]}`.
pub(super) async fn find(
    State(store): State<Store>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let (stream_type, projection) = path_segments(path)?;
    let params = parse_query(raw.as_deref(), FIND_PARAMS)?;
    let query = projection_query(stream_type.clone(), projection.clone(), params);
    let models = store.find_read_models(query).await.map_err(query_problem)?;
    let found: Vec<Value> =
        models.iter().map(|m| json!({ "streamName": m.stream_name, "readModel": rendered(m) })).collect();
    Ok(Json(json!({ "streamType": stream_type, "projection": projection, "readModels": found })).into_response())
}

/// `GET /projections/{streamType}/{projection}/count?filter=&skip=&limit=&streams=`:
/// `{streamType, projection, count}`.
pub(super) async fn count(
    State(store): State<Store>,
    path: Result<Path<(String, String)>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Response, Problem> {
    let (stream_type, projection) = path_segments(path)?;
    let params = parse_query(raw.as_deref(), COUNT_PARAMS)?;
    let query = projection_query(stream_type.clone(), projection.clone(), params);
    let count = store.count_read_models(query).await.map_err(query_problem)?;
    Ok(Json(json!({ "streamType": stream_type, "projection": projection, "count": count })).into_response())
}

/// The optional body of a rebuild.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RebuildBody {
    #[serde(default)]
    projection: Option<String>,
}

/// The projection a rebuild body names: none when there is no body (every projection
/// of the stream type); a body present must be JSON of the right shape.
fn rebuild_body(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    max_body: usize,
) -> Result<Option<String>, Problem> {
    if matches!(&body, Ok(bytes) if bytes.is_empty()) {
        return Ok(None);
    }
    let bytes = json_body(headers, body, max_body)?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| Problem::malformed_json(e.to_string()))?;
    let expected = "expected {\"projection\"?: string} or no body";
    if !value.is_object() {
        // serde would read a struct from an array too.
        return Err(Problem::invalid_body(format!("the body is not a JSON object; {expected}")));
    }
    let body: RebuildBody =
        serde_json::from_value(value).map_err(|e| Problem::invalid_body(format!("{e}; {expected}")))?;
    Ok(body.projection)
}

/// `POST /streams/{streamName}/projections/rebuild`, body `{"projection"?: name}` or
/// none: `{streamName, streamExists: true, streamPosition}`; 404 when the stream does
/// not exist.
pub(super) async fn rebuild(
    State(store): State<Store>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let stream = path_segments(path)?;
    let projection = rebuild_body(&headers, body, store.max_body())?;
    let result = store.rebuild_read_models(&stream, projection.as_deref()).await?;
    if !result.stream_exists {
        return Err(Problem::stream_not_found(&stream));
    }
    let body = json!({ "streamName": stream, "streamExists": true, "streamPosition": result.stream_position });
    Ok(Json(body).into_response())
}

/// `POST /projections/{streamType}/rebuild`, body `{"projection"?: name}` or none:
/// `{streamType, streams}` (how many streams were rebuilt).
pub(super) async fn rebuild_all(
    State(store): State<Store>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let stream_type = path_segments(path)?;
    let projection = rebuild_body(&headers, body, store.max_body())?;
    let result = store.rebuild_all_read_models(&stream_type, projection.as_deref()).await?;
    Ok(Json(json!({ "streamType": stream_type, "streams": result.streams })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parts_are_percent_decoded() {
        assert_eq!(decode("a%2Cb+c").unwrap(), "a,b c");
        assert_eq!(decode("%7B%22a%22%3A1%7D").unwrap(), "{\"a\":1}");
        assert_eq!(decode("100%").unwrap(), "100%");
        assert_eq!(decode("%zz%4").unwrap(), "%zz%4");
        assert_eq!(decode("%C3%A9").unwrap(), "é");
        assert!(decode("%FF").is_err());
    }

    #[test]
    fn streams_split_at_raw_commas_and_repeat() {
        let p = parse_query(Some("streams=a:1,a:2&streams=a:x%2Cy&streams="), FIND_PARAMS).unwrap();
        assert_eq!(p.streams.unwrap(), ["a:1", "a:2", "a:x,y"]);
        assert_eq!(parse_query(Some("streams="), FIND_PARAMS).unwrap().streams, Some(vec![]));
        assert_eq!(parse_query(None, FIND_PARAMS).unwrap().streams, None);
    }

    #[test]
    fn parameters_are_typed_unique_and_known() {
        let p =
            parse_query(Some("filter=%7B%22n%22%3A1%7D&skip=2&limit=3&sort=%7B%22n%22%3A-1%7D"), FIND_PARAMS).unwrap();
        assert_eq!(p.filter, Some(bson::doc! { "n": 1 }));
        assert_eq!(p.sort, Some(bson::doc! { "n": -1 }));
        assert_eq!((p.skip, p.limit), (Some(2), Some(3)));
        for bad in ["filter=%7B", "filter=1", "skip=-1", "limit=x", "skip=1&skip=2", "from=1"] {
            assert!(parse_query(Some(bad), FIND_PARAMS).is_err(), "{bad}");
        }
        assert!(parse_query(Some("sort=%7B%7D"), COUNT_PARAMS).is_err());
    }
}
