//! The production operation with one mechanism taken out: the commands it sends or
//! the way it reads a reply are changed, nothing else.

use bson::{Bson, Document};

use crate::command::{Command, Reply};
use crate::error::Error;
use crate::layout::{position_from_bson, STREAM_POSITION_PATH};
use crate::ops::{AnyOp, OpOutput, OpSpec, Operation, Step, StoreCache};

/// The mechanism taken out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flaw {
    /// The unique index is never created: the operation is told it was.
    NoUniqueIndex,
    /// The expected position is dropped from every update's filter.
    NoPositionInFilter,
    /// An update that did not upsert is reported as a conflict.
    UpsertedCountCheck,
}

/// See the [module documentation](self).
#[derive(Debug, Clone)]
pub(crate) struct Flawed {
    inner: AnyOp,
    flaw: Flaw,
    spec: OpSpec,
    /// The position an update outstanding would move the stream to.
    writing: Option<u64>,
    /// A result decided here rather than by the inner operation.
    decided: Option<Result<OpOutput, Error>>,
    skipped_index: bool,
}

impl Flawed {
    pub(crate) fn new(inner: AnyOp, flaw: Flaw, spec: &OpSpec) -> Self {
        Self { inner, flaw, spec: spec.clone(), writing: None, decided: None, skipped_index: false }
    }

    pub(crate) fn cache(&self) -> Option<&StoreCache> {
        match &self.inner {
            AnyOp::Append(a) => Some(a.cache()),
            _ => None,
        }
    }

    pub(crate) fn event_ids(&self) -> Vec<String> {
        match &self.inner {
            AnyOp::Append(a) => a.event_ids(),
            _ => Vec::new(),
        }
    }
}

/// The position an update `$set`s.
fn new_position(update: &Document) -> Option<u64> {
    update.get_document("$set").ok()?.get(STREAM_POSITION_PATH).and_then(position_from_bson)
}

impl Operation for Flawed {
    type Output = OpOutput;

    fn next(&mut self) -> Step<Result<OpOutput, Error>> {
        if let Some(result) = self.decided.take() {
            return Step::Done(result);
        }
        loop {
            self.writing = None;
            match self.inner.next() {
                Step::Send(Command::CreateIndex { .. }) if self.flaw == Flaw::NoUniqueIndex => {
                    self.skipped_index = true;
                    self.inner.feed(Reply::Acknowledged);
                }
                Step::Send(Command::UpdateOne { ns, mut filter, update, upsert }) => {
                    if self.flaw == Flaw::NoPositionInFilter {
                        filter.remove(STREAM_POSITION_PATH);
                    }
                    self.writing = new_position(&update);
                    return Step::Send(Command::UpdateOne { ns, filter, update, upsert });
                }
                step => return step,
            }
        }
    }

    fn feed(&mut self, reply: Reply) {
        if let (Flaw::UpsertedCountCheck, Some(position), OpSpec::Append { stream, expected, .. }) =
            (self.flaw, self.writing, &self.spec)
        {
            if let Reply::Updated { matched: 1, upserted_id: None | Some(Bson::Null), .. } = reply {
                // `if (result.upsertedCount === 0) throw conflict`: the stream is where
                // this very append moved it.
                self.writing = None;
                let stream = stream.clone();
                self.decided =
                    Some(Err(Error::ConcurrencyConflict { stream, expected: *expected, actual: Some(position) }));
                return;
            }
        }
        self.inner.feed(reply);
    }

    fn describe_step(&self) -> &'static str {
        match (self.flaw, &self.inner) {
            (Flaw::NoPositionInFilter, _) if self.writing.is_some() => "append, the position left out of the filter",
            (Flaw::UpsertedCountCheck, _) if self.writing.is_some() => "append, success read from upsertedCount",
            (Flaw::NoUniqueIndex, _) if self.skipped_index => match self.inner.describe_step() {
                "conditional append" => "conditional append (no unique index was created)",
                other => other,
            },
            (_, inner) => inner.describe_step(),
        }
    }
}
