//! One type for any operation, described as data: what scripts, the simulator and the
//! scenario corpus use.

use serde::{Deserialize, Serialize};

use crate::command::Reply;
use crate::error::Error;
use crate::event::NewEvent;
use crate::expected::ExpectedVersion;
use crate::ops::{Append, AppendResult, Exists, Operation, Read, ReadRange, ReadResult, Step};

/// An operation described as data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum OpSpec {
    /// An append.
    #[serde(rename_all = "camelCase")]
    Append {
        stream: String,
        events: Vec<NewEvent>,
        #[serde(default)]
        expected: ExpectedVersion,
    },
    /// A read.
    #[serde(rename_all = "camelCase")]
    Read {
        stream: String,
        #[serde(default, flatten)]
        range: ReadRange,
        /// Where the reader expects the stream (default: no check).
        #[serde(default, skip_serializing_if = "is_any")]
        expected: ExpectedVersion,
    },
    /// An existence check.
    #[serde(rename_all = "camelCase")]
    Exists { stream: String },
}

fn is_any(expected: &ExpectedVersion) -> bool {
    *expected == ExpectedVersion::Any
}

impl OpSpec {
    /// The stream the operation targets.
    pub fn stream(&self) -> &str {
        match self {
            OpSpec::Append { stream, .. } | OpSpec::Read { stream, .. } | OpSpec::Exists { stream } => stream,
        }
    }
}

/// What any operation returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum OpOutput {
    /// From an append.
    Append(AppendResult),
    /// From a read.
    Read(ReadResult),
    /// From an existence check.
    #[serde(rename_all = "camelCase")]
    Exists { exists: bool },
}

/// Any one of the operations.
#[derive(Debug, Clone)]
pub enum AnyOp {
    /// An append.
    Append(Append),
    /// A read.
    Read(Read),
    /// An existence check.
    Exists(Exists),
}

impl Operation for AnyOp {
    type Output = OpOutput;

    fn next(&mut self) -> Step<Result<OpOutput, Error>> {
        fn map<T>(step: Step<Result<T, Error>>, f: impl FnOnce(T) -> OpOutput) -> Step<Result<OpOutput, Error>> {
            match step {
                Step::Send(cmd) => Step::Send(cmd),
                Step::Done(result) => Step::Done(result.map(f)),
            }
        }
        match self {
            AnyOp::Append(op) => map(op.next(), OpOutput::Append),
            AnyOp::Read(op) => map(op.next(), OpOutput::Read),
            AnyOp::Exists(op) => map(op.next(), |exists| OpOutput::Exists { exists }),
        }
    }

    fn feed(&mut self, reply: Reply) {
        match self {
            AnyOp::Append(op) => op.feed(reply),
            AnyOp::Read(op) => op.feed(reply),
            AnyOp::Exists(op) => op.feed(reply),
        }
    }

    fn describe_step(&self) -> &'static str {
        match self {
            AnyOp::Append(op) => op.describe_step(),
            AnyOp::Read(op) => op.describe_step(),
            AnyOp::Exists(op) => op.describe_step(),
        }
    }
}
