//! streamdoc on a live MongoDB through the official driver (on tokio), with the HTTP API
//! ([`http`]) and the `streamdoc` command-line tool built on it.
//!
//! `streamdoc-core` decides everything: which command to send, what a reply means,
//! when an append is a conflict. This crate executes: [`MongoExecutor`] turns each of
//! core's [`Command`](streamdoc_core::Command)s into one call of the `mongodb` driver
//! and its answer into a [`Reply`](streamdoc_core::Reply); [`driver::run`] is the async
//! loop between an operation and an executor; [`EventStore`] is core's store API,
//! awaited.
//!
//! ```
//! use bson::doc;
//! use streamdoc_core::{ExpectedVersion, NewEvent, ReadRange, StoreConfig};
//! use streamdoc_host::EventStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = EventStore::in_memory(StoreConfig::new("shop"))?; // core's engine; MongoDB below
//! let placed = NewEvent::new("OrderPlaced", doc! { "total": 42 });
//! let r = store.append_to_stream("order:42", vec![placed], ExpectedVersion::NoStream).await?;
//! assert_eq!(r.next_expected_stream_version, 1);
//! let read = store.read_stream("order:42", ReadRange::all()).await?;
//! assert_eq!(read.events.len(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! On MongoDB the store comes from [`EventStore::connect`], and the same calls follow:
//!
//! ```no_run
//! # use streamdoc_core::StoreConfig;
//! # use streamdoc_host::EventStore;
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let store = EventStore::connect("mongodb://127.0.0.1:27017", StoreConfig::new("shop")).await?;
//! println!("connected to {}", store.executor().server());
//! // append_to_stream, read_stream, ... as above
//! store.close().await;
//! # Ok(())
//! # }
//! ```
//!
//! To share a client with the rest of an application, use
//! [`EventStore::with_client`]; the store then never closes it. The database, the
//! layout (streamdoc's, or Emmett-compatible) and the storage (which collections hold
//! the streams) are chosen with core's [`StoreConfig`](streamdoc_core::StoreConfig).
//!
//! A program that picks the in-memory engine or MongoDB from its configuration holds an
//! [`AnyEventStore`] (an [`EventStore`] on a [`StoreExecutor`]), as `streamdoc serve`
//! does; `examples/service.rs` is a small order service that runs on either.
//!
//! On a server that identifies itself as FerretDB, connecting logs a warning
//! ([`ServerInfo::concurrency_warning`]): FerretDB does not apply conditional updates
//! atomically, so optimistic concurrency is not guaranteed there.

mod clock;
pub mod driver;
pub mod http;
mod mongo;
mod server_info;
mod store;
mod store_executor;
pub mod subscription;

pub use clock::{RandomIds, SystemClock};
pub use driver::{AsyncExecutor, SharedEngine};
pub use mongo::MongoExecutor;
/// The driver this crate is built on, re-exported so that clients and options passed
/// in come from the same version.
pub use mongodb;
pub use server_info::ServerInfo;
pub use store::EventStore;
pub use store_executor::{AnyEventStore, StoreExecutor};
pub use streamdoc_core as core_logic;
pub use subscription::{ChangeStreams, OnHistoryLost, SubscribeError, Subscriber};

/// Why a store or executor could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The connection string or client options were refused by the driver.
    #[error("invalid MongoDB connection string or options: {message}")]
    InvalidUri { message: String },
    /// The server did not answer `buildInfo` (unreachable, authentication failed, ...).
    #[error("cannot reach the MongoDB server: {message}")]
    Unreachable { message: String },
    /// The store configuration is invalid.
    #[error(transparent)]
    InvalidConfig(streamdoc_core::Error),
}
