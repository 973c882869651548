//! The HTTP API of `streamdoc serve`, over one [`AnyEventStore`]: core's in-memory
//! engine or MongoDB, behind the same store API.
//!
//! | route | |
//! |---|---|
//! | `POST /streams/{streamName}` | append; preconditions `If-Match: "<n>"`, `If-Match: *`, `If-None-Match: *` |
//! | `GET /streams/{streamName}?from=&to=&maxCount=&fromArchive=` | read; `ETag: "<version>"`; `If-Match: "<n>"` or `*` makes it conditional (412); `fromArchive=true` reads the archive |
//! | `POST /streams/{streamName}/archive` | moves the stream to the archive collection (`If-Match` as on a read); 200 `{streamPosition, successor?}` |
//! | `POST /streams/{streamName}/close` | closes the books: archives the stream, starts `successor` with `summary` (body `{successor, summary}`) |
//! | `GET /streams/{streamName}/status` | `{state: missing\|live\|sealed\|archived, streamPosition, successor?, predecessor?}` |
//! | `GET /streams/{streamName}/document` | the stored document, canonical Extended JSON |
//! | `GET /streams/{streamName}/projections/{projection}` | the stream's read model of the projection (relaxed Extended JSON), 404 when there is none |
//! | `POST /streams/{streamName}/projections/rebuild` | recomputes the stream's read models from its events (body `{"projection"?}` or none) |
//! | `GET /projections/{streamType}/{projection}?filter=&sort=&skip=&limit=&streams=` | the read models of the streams of a type, `{readModels: [{streamName, readModel}]}` |
//! | `GET /projections/{streamType}/{projection}/count?filter=&skip=&limit=&streams=` | how many read models match, `{count}` |
//! | `POST /projections/{streamType}/rebuild` | recomputes the read models of every stream of the type (body `{"projection"?}` or none) |
//! | `GET /subscribe?consumer=&streamType=&batchSize=&source=` | a consumer's new events as Server-Sent Events, one `event: batch` per batch, `id: <stream>@<lastPosition>` ([`subscribe`]) |
//! | `GET /health` | the store kind, and whether its executor answers a ping (503 if not) |
//! | `GET /openapi.json` | the OpenAPI 3.1 document ([`openapi::document`]) |
//! | `GET /commands` | whether the command endpoint is on (always 200) |
//! | `POST /commands` | with `--command-endpoint`: one of core's commands, run on the store's executor ([`commands`]) |
//! | `GET /commands/documents?database=` | with `--command-endpoint`: a scratch database's documents |
//! | `DELETE /commands/databases/{database}` | with `--command-endpoint`: drops a scratch database |
//! | `/` and below | the playground's files (`--web-dir`) |
//!
//! Every answer, the playground's files included, carries [`HOST_HEADER`]
//! (`x-streamdoc: <version>`), so that a page can tell from a request that cannot fail
//! (its own address) whether a streamdoc host serves it.
//!
//! Every error is an RFC 9457 problem ([`problem::Problem`]). With a token
//! ([`ApiOptions::token`]) the stream routes and the command endpoint require
//! `Authorization: Bearer <token>`.
//! Stream names are one percent-decoded path segment (`order%2F1` is `order/1`); core
//! validates them.
//!
//! An archived stream (`POST …/archive`, or `…/close` into a successor) takes no more
//! appends: an append, a live read or a rebuild of it answers 409 `stream-archived` with
//! its `position` and, when it was closed into one, its `successor`; its events are read
//! with `GET /streams/{streamName}?fromArchive=true`.
//!
//! The read model routes ([`projections`]) read and query whatever read models the
//! stream documents hold, registered or not; rebuilds need the projection's definition,
//! so they work on a store built with
//! [`StoreConfig::with_projection`](streamdoc_core::StoreConfig::with_projection) and answer 422
//! `unknown-projection` otherwise (as `streamdoc serve`, which has no projection code,
//! always does). A projection named `rebuild` cannot be read through these routes: its
//! path is the rebuild's.
//!
//! ```
//! use bson::doc;
//! use streamdoc_core::projection::InlineProjection;
//! use streamdoc_core::StoreConfig;
//! use streamdoc_host::http::{self, ApiOptions};
//! use streamdoc_host::EventStore;
//!
//! // A store with an inline projection: appends through the API keep its read models.
//! let lines = InlineProjection::new("lines", ["LineAdded"], |state: Option<bson::Document>, _| {
//!     Ok(Some(doc! { "count": state.and_then(|s| s.get_i32("count").ok()).unwrap_or(0) + 1 }))
//! });
//! let store = EventStore::in_memory(StoreConfig::new("shop").with_projection(lines)).unwrap();
//! let app = http::router(store, &ApiOptions::default());
//! # drop(app);
//! ```
//!
//! ```
//! use streamdoc_core::StoreConfig;
//! use streamdoc_host::http::{self, ApiOptions};
//! use streamdoc_host::EventStore;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! // A store on either executor: `router` takes anything that converts to an `AnyEventStore`.
//! let store = EventStore::in_memory(StoreConfig::new("streamdoc")).unwrap();
//! let app = http::router(store, &ApiOptions::default());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//! // Serve until the future completes (here at once); in-flight requests finish first.
//! http::serve(listener, app, async {}).await.unwrap();
//! # });
//! ```

mod archive;
mod auth;
pub mod commands;
mod json;
pub mod openapi;
pub mod preconditions;
pub mod problem;
pub mod projections;
mod routes;
pub mod subscribe;

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::ServeDir;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};

pub use auth::Token;
use problem::Problem;

use crate::AnyEventStore;

/// The header on every answer of the API and of the playground's files: the name of
/// streamdoc's version (`x-streamdoc: 0.1.0`).
pub const HOST_HEADER: &str = "x-streamdoc";

/// The default request body limit: 1 MiB.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// Every route of the API but the static files, as `(method, path)` in axum's syntax;
/// the router registers exactly these, and the OpenAPI document describes exactly these
/// (a test checks both).
pub const ROUTES: &[(&str, &str)] = &[
    ("POST", "/streams/{streamName}"),
    ("GET", "/streams/{streamName}"),
    ("GET", "/streams/{streamName}/document"),
    ("GET", "/streams/{streamName}/projections/{projection}"),
    ("POST", "/streams/{streamName}/projections/rebuild"),
    ("GET", "/projections/{streamType}/{projection}"),
    ("GET", "/projections/{streamType}/{projection}/count"),
    ("POST", "/projections/{streamType}/rebuild"),
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/commands"),
    ("POST", "/commands"),
    ("GET", "/commands/documents"),
    ("DELETE", "/commands/databases/{database}"),
    ("GET", "/subscribe"),
    ("POST", "/streams/{streamName}/archive"),
    ("POST", "/streams/{streamName}/close"),
    ("GET", "/streams/{streamName}/status"),
];

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
    /// Whether the command endpoint runs commands ([`commands`]; `--command-endpoint`).
    /// Off, its routes answer 404 but `GET /commands`, which says it is off.
    pub command_endpoint: bool,
    /// At most this many `GET /subscribe` streams open at once; past it, 503
    /// `too-many-subscriptions` with `Retry-After` (`--max-subscriptions`).
    pub max_subscriptions: usize,
    /// How often an open subscription sends a keep-alive comment
    /// (`--subscription-heartbeat`).
    pub subscription_heartbeat: Duration,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            token: None,
            max_body: DEFAULT_MAX_BODY,
            web_dir: None,
            cors_origins: Vec::new(),
            command_endpoint: false,
            max_subscriptions: subscribe::DEFAULT_MAX_SUBSCRIPTIONS,
            subscription_heartbeat: subscribe::DEFAULT_HEARTBEAT,
        }
    }
}

/// Why the API cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A `--cors-origin` that is not a valid header value.
    #[error("invalid CORS origin {0:?}")]
    InvalidCorsOrigin(String),
}

/// What the handlers share: the store, the body limit, how the command endpoint is
/// served, and the open subscriptions.
#[derive(Debug, Clone)]
struct Store {
    inner: AnyEventStore,
    max_body: usize,
    commands: CommandEndpoint,
    subscriptions: subscribe::Subscriptions,
}

/// What `GET /commands` reports.
#[derive(Debug, Clone, Copy)]
struct CommandEndpoint {
    enabled: bool,
    token_required: bool,
}

impl std::ops::Deref for Store {
    type Target = AnyEventStore;
    fn deref(&self) -> &AnyEventStore {
        &self.inner
    }
}

impl Store {
    fn max_body(&self) -> usize {
        self.max_body
    }
}

/// The API's router, on `store`: an [`AnyEventStore`], or an `EventStore` on the
/// engine or on MongoDB (converted).
///
/// # Panics
/// Never for valid options; see [`try_router`] for CORS origins read from input.
pub fn router(store: impl Into<AnyEventStore>, options: &ApiOptions) -> Router {
    match try_router(store, options) {
        Ok(router) => router,
        Err(e) => panic!("{e}"),
    }
}

/// The API's router, or why the options are invalid.
pub fn try_router(store: impl Into<AnyEventStore>, options: &ApiOptions) -> Result<Router, ApiError> {
    let commands = CommandEndpoint { enabled: options.command_endpoint, token_required: options.token.is_some() };
    let subscriptions = subscribe::Subscriptions::new(options.max_subscriptions, options.subscription_heartbeat);
    let state = Store { inner: store.into(), max_body: options.max_body, commands, subscriptions };
    let streams = Router::new()
        .route(ROUTES[0].1, post(routes::append).get(routes::read))
        .route(ROUTES[2].1, get(routes::document))
        .route(ROUTES[3].1, get(projections::read_model))
        .route(ROUTES[4].1, post(projections::rebuild))
        .route(ROUTES[5].1, get(projections::find))
        .route(ROUTES[6].1, get(projections::count))
        .route(ROUTES[7].1, post(projections::rebuild_all))
        .route(ROUTES[14].1, get(subscribe::subscribe))
        .route(ROUTES[15].1, post(archive::archive))
        .route(ROUTES[16].1, post(archive::close))
        .route(ROUTES[17].1, get(archive::status));
    let command_routes = if options.command_endpoint {
        let routes = Router::new()
            .route(ROUTES[11].1, post(commands::run))
            .route(ROUTES[12].1, get(commands::documents))
            .route(ROUTES[13].1, delete(commands::drop_database));
        guarded(routes, options)
    } else {
        Router::new()
            .route(ROUTES[11].1, post(commands::off))
            .route(ROUTES[12].1, get(commands::off))
            .route(ROUTES[13].1, delete(commands::off))
    };
    let mut app = Router::new()
        .merge(guarded(streams, options))
        .merge(command_routes)
        .route(ROUTES[8].1, get(routes::health))
        .route(ROUTES[9].1, get(openapi_json))
        .route(ROUTES[10].1, get(commands::status))
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(DefaultBodyLimit::max(options.max_body));
    app = match &options.web_dir {
        Some(dir) => app.fallback_service(ServeDir::new(dir).fallback(axum::routing::any(no_route))),
        None => app.fallback(no_route),
    };
    app = app.layer(axum::middleware::map_response(stamp));
    if !options.cors_origins.is_empty() {
        app = app.layer(cors(&options.cors_origins)?);
    }
    Ok(app.layer(
        TraceLayer::new_for_http()
            .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
    ))
}

/// `routes`, requiring the bearer token when the options have one.
fn guarded(routes: Router<Store>, options: &ApiOptions) -> Router<Store> {
    match &options.token {
        Some(token) => routes.route_layer(axum::middleware::from_fn_with_state(Token::new(token), auth::require_token)),
        None => routes,
    }
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
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::IF_MATCH,
            header::IF_NONE_MATCH,
            HeaderName::from_static("last-event-id"),
        ])
        .expose_headers([
            header::ETAG,
            HeaderName::from_static("www-authenticate"),
            HeaderName::from_static(HOST_HEADER),
        ]))
}

/// Adds [`HOST_HEADER`] to an answer.
async fn stamp(mut response: Response) -> Response {
    response.headers_mut().insert(HOST_HEADER, HeaderValue::from_static(env!("CARGO_PKG_VERSION")));
    response
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
/// connections, ends the open subscriptions (`GET /subscribe`, whose answers never end
/// otherwise), and returns once the requests in flight are answered.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (close, closing) = tokio::sync::watch::channel(false);
    let app = app.layer(axum::Extension(subscribe::Closing(closing)));
    let shutdown = async move {
        shutdown.await;
        let _ = close.send(true);
    };
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
