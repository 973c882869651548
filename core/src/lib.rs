#![doc = include_str!("../README.md")]

pub mod command;
mod context;
pub mod det;
pub mod driver;
pub mod engine;
mod error;
mod event;
mod expected;
mod ids;
pub mod json;
pub mod layout;
pub mod limits;
pub(crate) mod mongosh;
mod name;
pub mod ops;
pub mod projection;
pub mod sim;
mod store;
pub mod subscription;
mod template;
pub mod wire;

pub use command::{Command, Namespace, Reply};
pub use context::StoreContext;
pub use driver::Executor;
pub use engine::Engine;
pub use error::{Error, ExecutorError, InvalidEvent};
pub use event::{NewEvent, RecordedEvent, RecordedMetadata};
pub use expected::ExpectedVersion;
pub use ids::{Clock, IdGenerator, ObjectIdGenerator, SeededIds, SteppingClock};
pub use layout::{ConfigError, Layout, Resolver, Storage, StoreConfig};
pub use name::{StreamName, StreamNameError, MAX_STREAM_NAME_BYTES, MAX_STREAM_TYPE_BYTES};
pub use ops::{AggregateResult, AppendResult, OpOutput, OpSpec, ReadRange, ReadResult};
pub use store::{EventStore, DEFAULT_CLOCK_START_MS};
