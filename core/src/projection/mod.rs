//! Inline projections: read models kept inside the stream document, written by the
//! append's one conditional `updateOne`, so a read model is never behind or ahead of
//! its stream's events.
//!
//! ```text
//! { streamName: "cart:1", events: [...], metadata: {...},
//!   projections: { summary: { items: 2, total: 30, _metadata: { streamId: "1", name: "summary",
//!                                                                schemaVersion: 1, streamPosition: 3 } } } }
//! ```
//!
//! The read model's layout is Emmett's (`@event-driven-io/emmett-mongodb`), so a stream
//! written by either is read by the other. Unlike Emmett, a projection is handed only the
//! events it declares it handles, a deleted read model (`evolve` returns `None`) is
//! `$unset` rather than stored as `null`, and an append at a position whose read models
//! the store remembers sends no extra read (see [`ReadModelCache`]).
//!
//! - [`InlineProjection`]: a definition (name, handled event types, initial state,
//!   `evolve`, schema version, stream types, indexes).
//! - [`ReadModel`]: a stored read model, as queries return it.
//! - [`ProjectionQuery`]: a query over one projection's read models across the streams
//!   of a type; user filters are prefixed, never interpreted.

mod cache;
mod definition;
pub(crate) mod fold;
mod query;
mod read_model;

pub use cache::{ReadModelCache, READ_MODEL_CACHE_CAPACITY};
pub use definition::{EvolveError, InlineProjection};
pub(crate) use query::check_projection_name;
pub use query::{ProjectionQuery, QueryError};
pub(crate) use read_model::{path, stored_in};
pub use read_model::{ReadModel, ReadModelMetadata, PROJECTIONS, READ_MODEL_METADATA};
