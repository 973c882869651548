//! Folding a stream into a state.

use serde::{Deserialize, Serialize};

use crate::command::Reply;
use crate::error::Error;
use crate::event::RecordedEvent;
use crate::expected::ExpectedVersion;
use crate::layout::StoreConfig;
use crate::name::StreamName;
use crate::ops::read::{Read, ReadRange};
use crate::ops::{Operation, Step};

/// The state folded from a stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AggregateResult<S> {
    /// The folded state (`initial` when the stream has no events).
    pub state: S,
    /// The position of the last event folded in.
    pub current_stream_version: u64,
    /// Whether the stream exists.
    pub stream_exists: bool,
}

/// A [`Read`] of the whole stream whose events are folded by `evolve` as it finishes.
#[derive(Debug, Clone)]
pub struct Aggregate<S, F> {
    read: Read,
    fold: Option<(S, F)>,
}

impl<S, F: FnMut(S, &RecordedEvent) -> S> Aggregate<S, F> {
    /// Prepares the fold.
    pub(crate) fn new(
        config: &StoreConfig,
        stream: StreamName,
        expected: ExpectedVersion,
        initial: S,
        evolve: F,
    ) -> Self {
        Self { read: Read::new(config, stream, ReadRange::all(), expected), fold: Some((initial, evolve)) }
    }
}

impl<S, F: FnMut(S, &RecordedEvent) -> S> Operation for Aggregate<S, F> {
    type Output = AggregateResult<S>;

    fn next(&mut self) -> Step<Result<AggregateResult<S>, Error>> {
        match self.read.next() {
            Step::Send(cmd) => Step::Send(cmd),
            Step::Done(Err(e)) => Step::Done(Err(e)),
            Step::Done(Ok(read)) => match self.fold.take() {
                Some((initial, mut evolve)) => Step::Done(Ok(AggregateResult {
                    state: read.events.iter().fold(initial, &mut evolve),
                    current_stream_version: read.current_stream_version,
                    stream_exists: read.stream_exists,
                })),
                None => Step::Done(Err(Error::Misuse { message: "next() called after the operation finished".into() })),
            },
        }
    }

    fn feed(&mut self, reply: Reply) {
        self.read.feed(reply);
    }

    fn describe_step(&self) -> &'static str {
        "reading the stream to fold it"
    }
}
