//! RFC 9457 problem details: every error the API returns.
//!
//! Each problem has a stable `type` URI (`https://streamdoc.dev/problems/{slug}`), a
//! `title` fixed per type, the HTTP `status`, a `detail` for this occurrence, and typed
//! extension members. For errors of core, the extension members are core's own
//! serialized [`Error`] (`kind` and its fields in camelCase), so a 412 carries
//! `expected` and `actual` exactly as core reports them.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use streamdoc_core::projection::QueryError;
use streamdoc_core::subscription::SubscriptionError;
use streamdoc_core::wire::WireError;
use streamdoc_core::{ConfigError, Error};

/// The prefix of every problem `type`.
pub const TYPE_BASE: &str = "https://streamdoc.dev/problems/";

/// The media type of problem responses.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The HTTP status.
    pub status: StatusCode,
    /// The last segment of the `type` URI, e.g. `concurrency-conflict`.
    pub slug: &'static str,
    /// A short summary, the same for every problem of this type.
    pub title: &'static str,
    /// What happened this time.
    pub detail: String,
    /// Extension members, in order (a list keeps the problem small on error paths).
    pub extensions: Vec<(String, Value)>,
}

impl Problem {
    /// A problem with no extension members.
    pub fn new(status: StatusCode, slug: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self { status, slug, title, detail: detail.into(), extensions: Vec::new() }
    }

    /// Adds an extension member.
    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.extensions.push((key.to_owned(), value.into()));
        self
    }

    /// The `type` URI.
    pub fn type_uri(&self) -> String {
        format!("{TYPE_BASE}{}", self.slug)
    }

    /// The problem as a JSON object.
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("type".into(), self.type_uri().into());
        body.insert("title".into(), self.title.into());
        body.insert("status".into(), self.status.as_u16().into());
        body.insert("detail".into(), self.detail.clone().into());
        for (k, v) in &self.extensions {
            if !body.contains_key(k) {
                body.insert(k.clone(), v.clone());
            }
        }
        Value::Object(body)
    }

    /// A request body that is not JSON, or not JSON of the expected shape.
    pub fn malformed_json(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "malformed-json", "The request body is not valid JSON", detail)
    }

    /// JSON of the wrong shape.
    pub fn invalid_body(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid-body", "The request body does not have the expected shape", detail)
    }

    /// A query string that cannot be read.
    pub fn invalid_query(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid-query", "The query string is invalid", detail)
    }

    /// A path that cannot be read (bad percent-encoding, invalid UTF-8).
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid-stream-name", "The stream name is invalid", detail)
    }

    /// A precondition header that is not `*` or a quoted non-negative integer.
    pub fn invalid_precondition(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid-precondition", "The precondition header is invalid", detail)
    }

    /// The body is over the configured limit.
    pub fn body_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
            "The request body is too large",
            format!("the request body is larger than the limit of {limit} bytes (`--max-body`)"),
        )
        .with("limitBytes", limit as u64)
    }

    /// A body that is not `application/json`.
    pub fn unsupported_media_type(got: Option<&str>) -> Self {
        let detail = match got {
            Some(t) => format!("the request body must be application/json, not {t}"),
            None => "the request body must be application/json; no Content-Type was given".to_owned(),
        };
        Self::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported-media-type", "The body must be JSON", detail)
    }

    /// No or a wrong bearer token.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", "A valid bearer token is required", detail)
    }

    /// The stream does not exist.
    pub fn stream_not_found(stream: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "stream-not-found",
            "The stream does not exist",
            format!("stream {stream:?} does not exist"),
        )
        .with("stream", stream)
    }

    /// A read of the archive (`fromArchive=true`) of a stream that is not archived.
    pub fn not_in_archive(stream: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "stream-not-found",
            "The stream does not exist",
            format!("stream {stream:?} is not in the archive (it was never archived, or does not exist)"),
        )
        .with("stream", stream)
        .with("fromArchive", true)
    }

    /// A close whose successor is the stream itself.
    pub fn invalid_successor(stream: &str, successor: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid-successor",
            "A stream cannot be closed into itself",
            format!("the successor {successor:?} is the stream {stream:?} itself: name a new stream"),
        )
        .with("stream", stream)
        .with("successor", successor)
    }

    /// The stream does not exist, or has no read model of the projection (one read
    /// cannot tell the two apart).
    pub fn read_model_not_found(stream: &str, projection: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "read-model-not-found",
            "The stream has no such read model",
            format!("stream {stream:?} has no read model of projection {projection:?}, or does not exist"),
        )
        .with("stream", stream)
        .with("projection", projection)
    }

    /// No route answers this path.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "Nothing is served at this path",
            format!("no resource at {path}"),
        )
    }

    /// The route exists, the method does not.
    pub fn method_not_allowed(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "The method is not allowed on this resource",
            format!("{method} is not allowed on {path}"),
        )
    }

    /// A command endpoint route while `serve` runs without `--command-endpoint`.
    pub fn command_endpoint_off() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "command-endpoint-off",
            "The command endpoint is off",
            "this server runs no commands: start `streamdoc serve` with --command-endpoint to run core's \
             commands on its store (in scratch databases only); GET /commands says whether it is on",
        )
        .with("flag", "--command-endpoint")
    }

    /// A body that is JSON but not a command in the wire form ([`streamdoc_core::wire`]).
    pub fn invalid_command(e: &WireError) -> Self {
        let mut problem =
            Self::new(StatusCode::BAD_REQUEST, "invalid-command", "The request body is not a command", e.to_string());
        if let Ok(Value::Object(fields)) = serde_json::to_value(e) {
            problem.extensions = fields.into_iter().collect();
        }
        problem
    }

    /// A database name MongoDB would refuse.
    pub fn invalid_database(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid-database", "The database name is invalid", detail)
    }

    /// The command endpoint refuses a database that is not a scratch database.
    pub fn not_a_scratch_database(database: &str, detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "not-a-scratch-database",
            "The command endpoint works on scratch databases only",
            detail,
        )
        .with("database", database)
        .with("scratchPrefix", super::commands::SCRATCH_PREFIX)
    }

    /// A `Last-Event-ID` that is not `<stream>@<position>` (`GET /subscribe`).
    pub fn invalid_last_event_id(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid-last-event-id", "The Last-Event-ID header is invalid", detail)
    }

    /// Every subscription slot is taken (`--max-subscriptions`); the answer carries
    /// `Retry-After`.
    pub fn too_many_subscriptions(limit: usize) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too-many-subscriptions",
            "Too many subscriptions are open",
            format!("{limit} subscriptions are open, the most this server serves at once (`--max-subscriptions`)"),
        )
        .with("limit", limit as u64)
    }

    /// The MongoDB server does not answer.
    pub fn server_unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "server-unavailable", "The MongoDB server does not answer", detail)
    }
}

/// MongoDB's BadValue: the server refused a value of the command. The store builds every
/// part of its commands but the caller's event data and metadata, so it is the caller's
/// input that was refused (FerretDB, for instance, refuses keys starting with `$`).
const BAD_VALUE: i32 = 2;

impl From<&Error> for Problem {
    fn from(e: &Error) -> Self {
        use StatusCode as S;
        let (status, slug, title) = match e {
            Error::InvalidStreamName(_) => (S::BAD_REQUEST, "invalid-stream-name", "The stream name is invalid"),
            // At request time the only projection a configuration can lack is one a
            // rebuild names (the definitions themselves were checked when the store was
            // built): the request is well formed, this store cannot act on it.
            Error::InvalidConfig(ConfigError::InvalidProjection { .. }) => {
                (S::UNPROCESSABLE_ENTITY, "unknown-projection", "The store defines no such projection to rebuild")
            }
            // At request time, an option the store runs with that the operation cannot
            // work with (an archive of a segmented store): no request can fix that.
            Error::InvalidConfig(ConfigError::Unsupported { .. }) => (
                S::NOT_IMPLEMENTED,
                "unsupported-by-store",
                "The store's configuration does not support this operation",
            ),
            Error::InvalidConfig(_) => {
                (S::BAD_REQUEST, "unplaceable-stream", "The store's storage cannot place this stream")
            }
            Error::EmptyAppend { .. } => (S::BAD_REQUEST, "empty-append", "An append must carry at least one event"),
            Error::InvalidEvent { .. } => (S::BAD_REQUEST, "invalid-event", "An event of the append is invalid"),
            Error::InvalidRange { .. } => (S::BAD_REQUEST, "invalid-range", "The read range is invalid"),
            Error::ConcurrencyConflict { .. } => {
                (S::PRECONDITION_FAILED, "concurrency-conflict", "The stream is not at the expected version")
            }
            Error::StreamTooLarge { .. } => (
                S::UNPROCESSABLE_ENTITY,
                "stream-too-large",
                "The append would grow the stream document past the server's document limit",
            ),
            // The request is well formed; the stream's state forbids it, for good: 409.
            Error::StreamArchived { .. } => (
                S::CONFLICT,
                "stream-archived",
                "The stream is archived: it takes no more appends and is read from the archive",
            ),
            Error::Projection { .. } => (
                S::UNPROCESSABLE_ENTITY,
                "projection-failed",
                "A projection could not fold the events; nothing was written",
            ),
            // The store places streams with a custom resolver: no request can fix that.
            Error::InvalidQuery(QueryError::CustomStorage) => {
                (S::NOT_IMPLEMENTED, "queries-unsupported", "This store's storage cannot answer queries across streams")
            }
            Error::InvalidQuery(_) => (S::BAD_REQUEST, "invalid-read-model-query", "The read model query is invalid"),
            Error::Subscription(SubscriptionError::CheckpointConflict { .. }) => {
                (S::CONFLICT, "checkpoint-conflict", "Another instance of the consumer advanced the checkpoint first")
            }
            Error::Subscription(SubscriptionError::HistoryLost { .. }) => {
                (S::GONE, "history-lost", "The change stream's resume point is no longer in the oplog")
            }
            Error::Subscription(SubscriptionError::ChangeStreamsUnsupported { .. }) => {
                (S::NOT_IMPLEMENTED, "change-streams-unsupported", "The server has no change streams")
            }
            Error::Subscription(_) => (S::BAD_REQUEST, "invalid-subscription", "The subscription cannot run as asked"),
            Error::Contention { .. } => {
                (S::CONFLICT, "contention", "Too many concurrent appends raced for the stream's position")
            }
            Error::Server { code: BAD_VALUE, .. } => {
                (S::UNPROCESSABLE_ENTITY, "refused-by-server", "The MongoDB server refused the event data")
            }
            Error::Server { .. } => (S::BAD_GATEWAY, "server-error", "The MongoDB server answered with an error"),
            Error::Unavailable(_) => {
                (S::SERVICE_UNAVAILABLE, "server-unavailable", "The MongoDB server does not answer")
            }
            Error::CorruptDocument { .. } => {
                (S::INTERNAL_SERVER_ERROR, "corrupt-document", "The stored document is not a stream document")
            }
            Error::UnexpectedReply { .. } | Error::Misuse { .. } => {
                (S::INTERNAL_SERVER_ERROR, "internal-error", "The store failed internally")
            }
        };
        let mut problem = Problem::new(status, slug, title, e.to_string());
        match serde_json::to_value(e) {
            Ok(Value::Object(fields)) => problem.extensions = fields.into_iter().collect(),
            _ => problem.extensions.push(("kind".into(), e.kind().into())),
        }
        problem
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        Problem::from(&e)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(status = self.status.as_u16(), problem = self.slug, detail = %self.detail, "request failed");
        } else {
            tracing::debug!(status = self.status.as_u16(), problem = self.slug, detail = %self.detail, "request refused");
        }
        let body = self.to_json().to_string();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use streamdoc_core::ExpectedVersion;

    use super::*;

    #[test]
    fn a_conflict_is_a_412_with_expected_and_actual() {
        let e = Error::ConcurrencyConflict {
            stream: "order:1".into(),
            expected: ExpectedVersion::Exact(3),
            actual: Some(5),
        };
        let body = Problem::from(&e).to_json();
        assert_eq!(body["type"], "https://streamdoc.dev/problems/concurrency-conflict");
        assert_eq!(body["status"], 412);
        assert_eq!(body["expected"], 3);
        assert_eq!(body["actual"], 5);
        assert_eq!(body["stream"], "order:1");
        assert_eq!(body["kind"], "ConcurrencyConflict");
    }

    #[test]
    fn errors_that_do_not_serialize_as_objects_keep_their_kind() {
        let body = Problem::from(&Error::Misuse { message: "twice".into() }).to_json();
        assert_eq!(body["status"], 500);
        assert_eq!(body["kind"], "Misuse");
    }

    /// One error of every kind core has ([`Error::KINDS`]), each with a problem type of
    /// its own slug and status, carrying the kind.
    #[test]
    fn every_kind_of_error_has_a_problem_type() {
        let every = Error::examples();
        let kinds: Vec<&str> = every.iter().map(Error::kind).collect();
        assert_eq!(kinds, Error::KINDS, "a kind of error without a case here");
        for e in &every {
            let problem = Problem::from(e);
            let body = problem.to_json();
            assert_eq!(body["kind"], e.kind(), "{body}");
            assert!(body["type"].as_str().unwrap().starts_with(TYPE_BASE), "{body}");
            assert!(problem.status.is_client_error() || problem.status.is_server_error(), "{body}");
        }
    }

    #[test]
    fn projection_errors_are_the_callers() {
        let failed = Error::Projection { stream: "cart:1".into(), projection: "total".into(), message: "boom".into() };
        let body = Problem::from(&failed).to_json();
        assert_eq!(
            (body["status"].clone(), body["type"].clone()),
            (json!(422), json!(format!("{TYPE_BASE}projection-failed")))
        );
        assert_eq!((body["projection"].clone(), body["message"].clone()), (json!("total"), json!("boom")));

        let query = Error::InvalidQuery(QueryError::UnsupportedOperator { operator: "$where".into() });
        let body = Problem::from(&query).to_json();
        assert_eq!(body["status"], 400);
        assert_eq!(body["type"], format!("{TYPE_BASE}invalid-read-model-query"));
        assert_eq!((body["reason"].clone(), body["operator"].clone()), (json!("unsupportedOperator"), json!("$where")));
        assert_eq!(Problem::from(&Error::InvalidQuery(QueryError::CustomStorage)).status, StatusCode::NOT_IMPLEMENTED);

        let unknown = Error::InvalidConfig(ConfigError::InvalidProjection { name: "p".into(), why: "none".into() });
        let body = Problem::from(&unknown).to_json();
        assert_eq!(
            (body["status"].clone(), body["type"].clone()),
            (json!(422), json!(format!("{TYPE_BASE}unknown-projection")))
        );
        let other = Error::InvalidConfig(ConfigError::InvalidCollection { name: "c".into(), why: "x".into() });
        assert_eq!(Problem::from(&other).slug, "unplaceable-stream");
    }

    #[test]
    fn an_archived_stream_is_a_409_naming_its_position_and_successor() {
        let e = Error::StreamArchived {
            stream: "account:2026".into(),
            position: 7,
            successor: Some("account:2027".into()),
        };
        let body = Problem::from(&e).to_json();
        assert_eq!(body["status"], 409);
        assert_eq!(body["type"], format!("{TYPE_BASE}stream-archived"));
        assert_eq!(body["kind"], "StreamArchived");
        assert_eq!((body["stream"].clone(), body["position"].clone()), (json!("account:2026"), json!(7)));
        assert_eq!(body["successor"], "account:2027");
        let alone = Error::StreamArchived { stream: "order:1".into(), position: 1, successor: None };
        assert_eq!(Problem::from(&alone).to_json()["successor"], Value::Null);

        let segmented = Error::InvalidConfig(ConfigError::Unsupported { option: "segments".into(), why: "x".into() });
        let body = Problem::from(&segmented).to_json();
        assert_eq!((body["status"].clone(), body["option"].clone()), (json!(501), json!("segments")));
        assert_eq!(body["type"], format!("{TYPE_BASE}unsupported-by-store"));
    }

    #[test]
    fn a_bad_value_from_the_server_is_the_callers_input() {
        let e = Error::Server { code: 2, message: "invalid key: \"$x\"".into() };
        assert_eq!(Problem::from(&e).status, StatusCode::UNPROCESSABLE_ENTITY);
        let other = Error::Server { code: 8000, message: "?".into() };
        assert_eq!(Problem::from(&other).status, StatusCode::BAD_GATEWAY);
    }
}
