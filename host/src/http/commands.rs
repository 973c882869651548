//! The command endpoint (`streamdoc serve --command-endpoint`): core's commands, one by
//! one, on the server's executor, so that the playground can run core's operations in
//! the page against the server's store (the JavaScript package's `executor` option).
//!
//! | route | |
//! |---|---|
//! | `GET /commands` | `{enabled, scratchPrefix, tokenRequired, kinds}`: always 200, flag or not, token or not |
//! | `POST /commands` | one command in the wire form of [`streamdoc_core::wire`] → 200 with its reply |
//! | `GET /commands/documents?database=` | `{"database.collection": [documents]}`, canonical Extended JSON |
//! | `DELETE /commands/databases/{database}` | drops the database → 204 |
//!
//! Every reply the executor gives is a 200, a `duplicateKey` or `serverError` reply
//! included: it is the server's answer. Without the flag every route but
//! `GET /commands` is a 404 `command-endpoint-off` problem. With a token they require it,
//! as the stream routes do. They work only in databases whose name starts with
//! [`SCRATCH_PREFIX`] and that are not the store's own database (403 otherwise), so the
//! endpoint never touches the store's streams.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};
use streamdoc_core::{wire, Error, StoreConfig};

use super::json::canonical;
use super::problem::Problem;
use super::routes::json_body;
use super::Store;
use crate::AsyncExecutor;

/// The prefix of the databases the command endpoint works in: `scratch`, `scratch_page`,
/// `scratch-1`, ... (and never the store's own database, whatever its name).
pub const SCRATCH_PREFIX: &str = "scratch";

/// `GET /commands`: whether the endpoint is on, and its rules.
pub(super) async fn status(State(store): State<Store>) -> Json<Value> {
    Json(json!({
        "enabled": store.commands.enabled,
        "scratchPrefix": SCRATCH_PREFIX,
        "tokenRequired": store.commands.token_required,
        "kinds": wire::COMMAND_KINDS,
    }))
}

/// Every other command route, without `--command-endpoint`.
pub(super) async fn off() -> Problem {
    Problem::command_endpoint_off()
}

/// Refuses a database the endpoint may not touch: a name MongoDB refuses (400), one
/// without the scratch prefix, or the store's own database (403).
fn scratch(store: &Store, database: &str) -> Result<(), Problem> {
    StoreConfig::new(database).validate().map_err(|e| Problem::invalid_database(e.to_string()))?;
    if !database.starts_with(SCRATCH_PREFIX) {
        return Err(Problem::not_a_scratch_database(
            database,
            format!(
                "the command endpoint works only in databases whose name starts with `{SCRATCH_PREFIX}` \
                 (e.g. `{SCRATCH_PREFIX}_playground`); `{database}` does not"
            ),
        ));
    }
    if database == store.context().config().database {
        return Err(Problem::not_a_scratch_database(
            database,
            format!(
                "`{database}` is the database of the server's own store; the command endpoint works only in \
                 other databases whose name starts with `{SCRATCH_PREFIX}`"
            ),
        ));
    }
    Ok(())
}

/// `POST /commands`.
pub(super) async fn run(
    State(store): State<Store>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Problem> {
    let bytes = json_body(&headers, body, store.max_body())?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|e| Problem::malformed_json(e.to_string()))?;
    let command = wire::command_from_json(&value).map_err(|e| Problem::invalid_command(&e))?;
    scratch(&store, &command.namespace().db)?;
    let reply = store.executor().execute(&command).await.map_err(|e| Problem::from(Error::Unavailable(e)))?;
    Ok(Json(wire::reply_to_json(&reply)).into_response())
}

/// The query of `GET /commands/documents`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DocumentsQuery {
    database: String,
}

/// `GET /commands/documents?database=`.
pub(super) async fn documents(
    State(store): State<Store>,
    query: Result<Query<DocumentsQuery>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(query) = query.map_err(|e| Problem::invalid_query(e.body_text()))?;
    scratch(&store, &query.database)?;
    let stored = store.executor().database_documents(&query.database).await.map_err(Error::Unavailable)?;
    let body: Map<String, Value> =
        stored.into_iter().map(|(ns, docs)| (ns, docs.iter().map(canonical).collect())).collect();
    Ok(Json(Value::Object(body)).into_response())
}

/// `DELETE /commands/databases/{database}`.
pub(super) async fn drop_database(
    State(store): State<Store>,
    path: Result<Path<String>, PathRejection>,
) -> Result<Response, Problem> {
    let Path(database) = path.map_err(|e| Problem::invalid_database(e.body_text()))?;
    scratch(&store, &database)?;
    store.executor().drop_database(&database).await.map_err(Error::Unavailable)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
