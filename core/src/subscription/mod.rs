//! Subscriptions: at-least-once delivery of new events, in stream order, from a durable
//! checkpoint.
//!
//! A consumer names itself ([`SubscriptionConfig::consumer`]), optionally a stream type,
//! and receives [`Batch`]es: the events of one stream right after its checkpoint of
//! that stream, in order. It acknowledges a batch once handled, and the checkpoint moves
//! to the batch's last position, in the database, conditionally ([`checkpoint`]).
//!
//! # The contract
//!
//! - **At least once.** A batch that was delivered but not acknowledged (the process
//!   died, the handler failed, another instance of the consumer won the checkpoint) is
//!   delivered again. A handler must be idempotent: remember the last position it
//!   applied per stream (in the same transaction as its effect when it writes to a
//!   database), or make its effect an upsert keyed by the event id.
//! - **In order within each stream, never skipping an event.** Positions in a stream
//!   are contiguous; each batch starts right after the checkpoint.
//! - **Across streams, no order is promised when polling.** On a change stream, batches
//!   follow the server's commit order of the writes that announced them; nothing more.
//!   There is no global position: MongoDB has none for documents of a collection, and
//!   streamdoc does not invent one.
//! - **Two instances of one consumer never both advance a checkpoint**, never move it
//!   backwards, and never create two checkpoint documents: each advance is an update
//!   filtered on the position it moves from, behind a unique index.
//!
//! # Sources
//!
//! - [`Source::ChangeStream`] (a replica set): push. An upsert arrives as `insert`, an
//!   append as an `update` whose delta holds the new events; a notice without them (a
//!   server that sends no `updateDescription`) is looked up by `_id`. The resume token
//!   is stored with the checkpoints, per consumer; when it has rolled off the oplog the
//!   runner gets 286 ChangeStreamHistoryLost, reports
//!   [`SubscriptionError::HistoryLost`], and [`Subscription::restart`] recovers (a new
//!   change stream from now, then one sweep of every stream past its checkpoint).
//! - [`Source::Polling`] (any server): a page of stream heads sorted by
//!   `metadata.updatedAt` since the newest seen minus
//!   [`SubscriptionConfig::lookback_ms`], every
//!   [`SubscriptionConfig::sweep_every`]th poll a sweep of every stream, each compared
//!   with its checkpoint. `updatedAt` is the writer's clock; the lookback and the sweeps
//!   bound how long a skewed clock can delay an event, never whether it arrives.
//!
//! The machine ([`Subscription`]) is sans-IO like the operations: it yields commands,
//! batches to deliver, and when to watch; the host runs it on tokio, the package in
//! JavaScript, [`run_until_idle`] on any synchronous executor.

mod batch;
mod change;
pub mod checkpoint;
mod config;
mod machine;
mod run;

pub use batch::Batch;
pub use config::{Source, SubscriptionConfig, SubscriptionError, CHECKPOINTS_COLLECTION};
pub use machine::{Subscription, SubscriptionStats, SubscriptionStep, POLLING_INDEX};
pub use run::{run_until_idle, FeedWatch, HandlerError};
