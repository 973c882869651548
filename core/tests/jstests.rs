//! MongoDB's own jstests (mongodb/mongo, `jstests/`), ported to the in-memory engine.
//!
//! COUNTS
#[path = "jstests/field_names.rs"]
mod field_names;
#[path = "jstests/field_order.rs"]
mod field_order;
#[path = "jstests/limits.rs"]
mod limits;
#[path = "jstests/projection.rs"]
mod projection;
#[path = "jstests/support.rs"]
mod support;
#[path = "jstests/unique_index.rs"]
mod unique_index;
#[path = "jstests/update_operators.rs"]
mod update_operators;
#[path = "jstests/upsert.rs"]
mod upsert;
