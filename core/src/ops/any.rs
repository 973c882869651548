//! One type for any operation, described as data: what scripts, the simulator and the
//! scenario corpus use.

use serde::{Deserialize, Serialize};

use crate::command::Reply;
use crate::error::Error;
use crate::event::NewEvent;
use crate::expected::ExpectedVersion;
use crate::ops::{
    Append, AppendResult, Archive, ArchiveResult, CloseResult, CloseStream, Exists, Operation, Read, ReadModelOp,
    ReadRange, ReadResult, Rebuild, RebuildResult, Step, StreamStatus,
};
use crate::projection::ReadModel;

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
        /// Read the archive collection instead of the live one.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        from_archive: bool,
    },
    /// An existence check.
    #[serde(rename_all = "camelCase")]
    Exists { stream: String },
    /// The stream's state: live, sealed, archived or missing, with its links.
    #[serde(rename_all = "camelCase")]
    Status { stream: String },
    /// An archive of the stream.
    #[serde(rename_all = "camelCase")]
    Archive {
        stream: String,
        #[serde(default)]
        expected: ExpectedVersion,
    },
    /// Closing the books: archive the stream, start `successor` with `summary`.
    #[serde(rename_all = "camelCase")]
    CloseStream {
        stream: String,
        successor: String,
        summary: NewEvent,
        #[serde(default)]
        expected: ExpectedVersion,
    },
    /// A rebuild of the stream's read models (of one projection, when named).
    #[serde(rename_all = "camelCase")]
    Rebuild {
        stream: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        projection: Option<String>,
    },
    /// A read of the stream's read model of `projection`.
    #[serde(rename_all = "camelCase")]
    ReadModel { stream: String, projection: String },
}

fn is_any(expected: &ExpectedVersion) -> bool {
    *expected == ExpectedVersion::Any
}

impl OpSpec {
    /// The stream the operation targets.
    pub fn stream(&self) -> &str {
        match self {
            OpSpec::Append { stream, .. }
            | OpSpec::Read { stream, .. }
            | OpSpec::Exists { stream }
            | OpSpec::Status { stream }
            | OpSpec::Archive { stream, .. }
            | OpSpec::CloseStream { stream, .. }
            | OpSpec::Rebuild { stream, .. }
            | OpSpec::ReadModel { stream, .. } => stream,
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
    /// From a status check.
    Status(StreamStatus),
    /// From an archive.
    Archive(ArchiveResult),
    /// From closing the books.
    CloseStream(CloseResult),
    /// From a rebuild.
    Rebuild(RebuildResult),
    /// From a read of a read model: its stored document, `None` when there is none.
    #[serde(rename_all = "camelCase")]
    ReadModel { document: Option<bson::Document> },
}

/// Any one of the operations.
// One per client, moved rarely: boxing the append would allocate per operation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum AnyOp {
    /// An append.
    Append(Append),
    /// A read.
    Read(Read),
    /// An existence check.
    Exists(Exists),
    /// A status check.
    Status(Exists),
    /// An archive.
    Archive(Archive),
    /// Closing the books (boxed: it holds an archive and an append).
    CloseStream(Box<CloseStream>),
    /// A rebuild of read models.
    Rebuild(Rebuild),
    /// A read of a read model.
    ReadModel(ReadModelOp),
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
            AnyOp::Exists(op) => map(op.next(), |status| OpOutput::Exists { exists: status.exists() }),
            AnyOp::Status(op) => map(op.next(), OpOutput::Status),
            AnyOp::Archive(op) => map(op.next(), OpOutput::Archive),
            AnyOp::CloseStream(op) => map(op.next(), OpOutput::CloseStream),
            AnyOp::Rebuild(op) => map(op.next(), OpOutput::Rebuild),
            AnyOp::ReadModel(op) => {
                map(op.next(), |m: Option<ReadModel>| OpOutput::ReadModel { document: m.map(|m| m.document) })
            }
        }
    }

    fn feed(&mut self, reply: Reply) {
        match self {
            AnyOp::Append(op) => op.feed(reply),
            AnyOp::Read(op) => op.feed(reply),
            AnyOp::Exists(op) | AnyOp::Status(op) => op.feed(reply),
            AnyOp::Archive(op) => op.feed(reply),
            AnyOp::CloseStream(op) => op.feed(reply),
            AnyOp::Rebuild(op) => op.feed(reply),
            AnyOp::ReadModel(op) => op.feed(reply),
        }
    }

    fn describe_step(&self) -> &'static str {
        match self {
            AnyOp::Append(op) => op.describe_step(),
            AnyOp::Read(op) => op.describe_step(),
            AnyOp::Exists(op) | AnyOp::Status(op) => op.describe_step(),
            AnyOp::Archive(op) => op.describe_step(),
            AnyOp::CloseStream(op) => op.describe_step(),
            AnyOp::Rebuild(op) => op.describe_step(),
            AnyOp::ReadModel(op) => op.describe_step(),
        }
    }
}
