//! The HTTP API of `streamdoc serve`, over either store.
//!
//! | route | |
//! |---|---|
//! | `POST /streams/{streamName}` | append; preconditions `If-Match: "<n>"`, `If-Match: *`, `If-None-Match: *` |
//! | `GET /streams/{streamName}?from=&to=&maxCount=` | read; `ETag: "<version>"` |
//! | `GET /streams/{streamName}/document` | the stored document, canonical Extended JSON |
//! | `GET /health` | the store kind; for MongoDB whether the server answers (503 if not) |
//! | `GET /openapi.json` | the OpenAPI 3.1 document ([`openapi::document`]) |
//! | `/` and below | the playground's files (`--web-dir`) |
//!
//! Every error is an RFC 9457 problem ([`problem::Problem`]). With a token
//! ([`ApiOptions::token`]) the stream routes require `Authorization: Bearer <token>`.
//! Stream names are one percent-decoded path segment (`order%2F1` is `order/1`); core
//! validates them.
//!
//! ```
//! use streamdoc_core::StoreConfig;
//! use streamdoc_host::http::{self, AnyStore, ApiOptions};
//! use streamdoc_host::EventStore;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let store = AnyStore::Memory(EventStore::in_memory(StoreConfig::new("streamdoc")).unwrap());
//! let app = http::router(store, &ApiOptions::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! // Serve until the future completes (here at once); in-flight requests finish first.
//! http::serve(listener, app, async {}).await.unwrap();
//! # });
//! ```

mod auth;
mod json;
pub mod openapi;
pub mod preconditions;
pub mod problem;
mod routes;

use std::future::Future;
use std::path::PathBuf;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use streamdoc_core::{AppendResult, Error, ExpectedVersion, NewEvent, ReadRange, ReadResult};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};

pub use auth::Token;
use problem::Problem;

use crate::{driver, EventStore, MongoExecutor, SharedEngine};

/// The default request body limit: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Every route of the API but the static files, as `(method, path)` in axum's syntax;
/// the router registers exactly these, and the OpenAPI document describes exactly these
/// (a test checks both).
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/streams/{streamName}"),
    ("GET", "/streams/{streamName}"),
    ("GET", "/streams/{streamName}/document"),
    ("GET", "/health"),
    ("GET", "/openapi.json"),
];

/// The store behind the API: core's in-memory engine (the embedded default) or MongoDB.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// Core's in-memory engine.
    Memory(EventStore<SharedEngine>),
    /// A MongoDB server.
    Mongo(EventStore<MongoExecutor>),
}

impl AnyStore {
    /// `"memory"` or `"mongodb"`, as `/health` reports it.
    pub fn kind(&self) -> &'static str {
        match self {
            AnyStore::Memory(_) => "memory",
            AnyStore::Mongo(_) => "mongodb",
        }
    }

    /// Appends `events`.
    pub async fn append(
        &self,
        stream: &str,
        events: Vec<NewEvent>,
        expected: ExpectedVersion,
    ) -> Result<AppendResult, Error> {
        match self {
            AnyStore::Memory(s) => s.append_to_stream(stream, events, expected).await,
            AnyStore::Mongo(s) => s.append_to_stream(stream, events, expected).await,
        }
    }

    /// Reads `range`.
    pub async fn read(&self, stream: &str, range: ReadRange) -> Result<ReadResult, Error> {
        match self {
            AnyStore::Memory(s) => s.read_stream(stream, range).await,
            AnyStore::Mongo(s) => s.read_stream(stream, range).await,
        }
    }

    /// The stream's document as stored, `None` when the stream does not exist.
    pub async fn document(&self, stream: &str) -> Result<Option<bson::Document>, Error> {
        match self {
            AnyStore::Memory(s) => driver::run(&mut s.context().document(stream)?, s.executor()).await,
            AnyStore::Mongo(s) => driver::run(&mut s.context().document(stream)?, s.executor()).await,
        }
    }
}

/// How the API is served (the `serve` flags other than the store's).
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// When set, the stream routes require `Authorization: Bearer <token>`.
    pub token: Option<String>,
    /// The largest request body accepted (413 above it).
    pub max_body: usize,
    /// The directory of the playground's files, served at `/`.
    pub web_dir: Option<PathBuf>,
    /// The origins allowed by CORS (`*` for any); no CORS headers when empty.
    pub cors_origins: Vec<String>,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self { token: None, max_body: DEFAULT_MAX_BODY, web_dir: None, cors_origins: Vec::new() }
    }
}

/// Why the API cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A `--cors-origin` that is not a valid header value.
    #[error("invalid CORS origin {0:?}")]
    InvalidCorsOrigin(String),
}

/// What the handlers share.
#[derive(Debug, Clone)]
struct Store {
    inner: AnyStore,
    max_body: usize,
}

impl std::ops::Deref for Store {
    type Target = AnyStore;
    fn deref(&self) -> &AnyStore {
        &self.inner
    }
}

impl Store {
    fn max_body(&self) -> usize {
        self.max_body
    }
}

/// The API's router.
///
/// # Panics
/// Never for valid options; see [`try_router`] for CORS origins read from input.
pub fn router(store: AnyStore, options: &ApiOptions) -> Router {
    match try_router(store, options) {
        Ok(router) => router,
        Err(e) => panic!("{e}"),
    }
}

/// The API's router, or why the options are invalid.
pub fn try_router(store: AnyStore, options: &ApiOptions) -> Result<Router, ApiError> {
    let state = Store { inner: store, max_body: options.max_body };
    let mut streams = Router::new()
        .route(ROUTES[0].1, post(routes::append).get(routes::read))
        .route(ROUTES[2].1, get(routes::document));
    if let Some(token) = &options.token {
        streams = streams.route_layer(axum::middleware::from_fn_with_state(Token::new(token), auth::require_token));
    }
    let mut app = Router::new()
        .merge(streams)
        .route(ROUTES[3].1, get(routes::health))
        .route(ROUTES[4].1, get(openapi_json))
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(options.max_body));
    app = match &options.web_dir {
        Some(dir) => app.fallback_service(ServeDir::new(dir).fallback(axum::routing::any(no_route))),
        None => app.fallback(no_route),
    };
    if !options.cors_origins.is_empty() {
        app = app.layer(cors(&options.cors_origins)?);
    }
    Ok(app.layer(
        TraceLayer::new_for_http()
            .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
    ))
}

fn cors(origins: &[String]) -> Result<CorsLayer, ApiError> {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .map(|o| HeaderValue::from_str(o).map_err(|_| ApiError::InvalidCorsOrigin(o.clone())))
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(values)
    };
    Ok(CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION, header::IF_MATCH, header::IF_NONE_MATCH])
        .expose_headers([header::ETAG, HeaderName::from_static("www-authenticate")]))
}

async fn openapi_json() -> impl IntoResponse {
    axum::Json(openapi::document())
}

async fn no_route(request: Request) -> Problem {
    Problem::no_route(request.uri().path())
}

async fn method_not_allowed(request: Request) -> Problem {
    Problem::method_not_allowed(request.method().as_str(), request.uri().path())
}

/// Serves `app` on `listener` until `shutdown` completes; then stops accepting
/// connections and returns once the requests in flight are answered.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received: finishing the requests in flight"),
        () = terminate => tracing::info!("SIGTERM received: finishing the requests in flight"),
    }
}
