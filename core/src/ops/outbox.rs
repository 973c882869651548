//! The one-slot outbox every operation uses to honour the `next`/`feed` contract.

use crate::command::{Command, Reply};
use crate::error::Error;
use crate::ops::Step;

/// What the operation will hand out on the next call to `next()`.
// One per operation; boxing the command would allocate per step.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub(crate) enum Outbox<T> {
    /// A command to send.
    Send(Command),
    /// A command was handed out; a reply is due.
    AwaitingReply,
    /// The result, not yet handed out.
    Done(Result<T, Error>),
    /// The result was handed out.
    Finished,
}

impl<T> Outbox<T> {
    /// Implements `Operation::next`.
    pub(crate) fn next(&mut self) -> Step<Result<T, Error>> {
        match std::mem::replace(self, Outbox::Finished) {
            Outbox::Send(cmd) => {
                *self = Outbox::AwaitingReply;
                Step::Send(cmd)
            }
            Outbox::AwaitingReply => Step::Done(Err(Error::Misuse {
                message: "next() called while a reply is due; call feed() first".into(),
            })),
            Outbox::Done(result) => Step::Done(result),
            Outbox::Finished => {
                Step::Done(Err(Error::Misuse { message: "next() called after the operation finished".into() }))
            }
        }
    }

    /// Checks that a reply is due; on misuse, finishes with [`Error::Misuse`] and returns false.
    pub(crate) fn accept_reply(&mut self) -> bool {
        if matches!(self, Outbox::AwaitingReply) {
            true
        } else {
            *self = Outbox::Done(Err(Error::Misuse { message: "feed() called with no command outstanding".into() }));
            false
        }
    }

    pub(crate) fn send(&mut self, cmd: Command) {
        *self = Outbox::Send(cmd);
    }

    pub(crate) fn finish(&mut self, result: Result<T, Error>) {
        *self = Outbox::Done(result);
    }
}

/// The error for a reply that does not answer the command.
pub(crate) fn unexpected(step: &str, reply: &Reply) -> Error {
    Error::UnexpectedReply { step: step.to_owned(), reply: reply.to_mongosh() }
}
