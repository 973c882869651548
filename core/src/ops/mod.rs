//! Operations as sans-IO state machines.
//!
//! Each operation yields [`Command`]s and consumes [`Reply`]s:
//!
//! ```text
//! loop {
//!     match op.next() {
//!         Step::Send(cmd) => op.feed(executor.run(cmd)),
//!         Step::Done(result) => break result,
//!     }
//! }
//! ```
//!
//! The contract, for every operation:
//! - Call [`Operation::next`]. On [`Step::Send`], run the command and pass its reply to
//!   [`Operation::feed`] exactly once, then call `next` again. On [`Step::Done`], the
//!   operation is finished; a further `next` returns [`Error::Misuse`].
//! - Calling `next` twice without `feed` in between, or `feed` without a command
//!   outstanding, yields [`Error::Misuse`] as the result; it never panics.
//! - A reply that does not answer the command sent (a [`Reply::Found`] to an update)
//!   ends the operation with [`Error::UnexpectedReply`].
//! - If the executor cannot get a reply at all (timeout, dropped connection), abandon
//!   the operation and report [`Error::Unavailable`]; an append can be retried with
//!   the same event ids, and one that had already been applied reports success.
//!
//! [`Command`]: crate::Command
//! [`Reply`]: crate::Reply
//! [`Reply::Found`]: crate::Reply::Found
//! [`Error::Misuse`]: crate::Error::Misuse
//! [`Error::UnexpectedReply`]: crate::Error::UnexpectedReply
//! [`Error::Unavailable`]: crate::Error::Unavailable

mod aggregate;
mod any;
mod append;
mod archive;
mod cache;
mod close;
mod document;
mod exists;
pub(crate) mod fetch;
mod index;
mod models;
pub(crate) mod outbox;
mod read;
mod rebuild;
pub(crate) mod segments;

pub use aggregate::{Aggregate, AggregateResult};
pub use any::{AnyOp, OpOutput, OpSpec};
pub use append::{Append, AppendResult};
pub use archive::{Archive, ArchiveResult};
pub use cache::{PositionHints, StoreCache, POSITION_HINT_CAPACITY};
pub use close::{CloseResult, CloseStream, Summary, SummaryFn};
pub use document::FetchDocument;
pub use exists::{Exists, StreamLink, StreamState, StreamStatus};
pub use index::IndexRegistry;
pub use models::{QueryAnswer, QueryModels, ReadModelOp};
pub use read::{Read, ReadRange, ReadResult};
pub use rebuild::{Rebuild, RebuildAll, RebuildAllResult, RebuildResult, REBUILD_PAGE};
pub use segments::join_segments;

use crate::command::{Command, Reply};
use crate::error::Error;

/// What an operation wants next.
// A step is returned and consumed at once; boxing the command would allocate per step.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Step<T> {
    /// Run this command and [`Operation::feed`] its reply.
    Send(Command),
    /// The operation is finished.
    Done(T),
}

/// A sans-IO operation: see the [module documentation](self) for the contract.
pub trait Operation {
    /// What a successful operation returns.
    type Output;

    /// The next command to run, or the result.
    fn next(&mut self) -> Step<Result<Self::Output, Error>>;

    /// The reply to the command last returned by [`Operation::next`].
    fn feed(&mut self, reply: Reply);

    /// What the operation is doing now, for command logs ("creating the index",
    /// "conditional append", ...).
    fn describe_step(&self) -> &'static str;
}
