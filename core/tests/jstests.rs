//! MongoDB's own jstests (mongodb/mongo, `jstests/`), ported to the in-memory engine.
//!
//! COUNTS
#[path = "jstests/field_order.rs"]
mod field_order;
#[path = "jstests/projection.rs"]
mod projection;
#[path = "jstests/support.rs"]
mod support;
#[path = "jstests/update_operators.rs"]
mod update_operators;
#[path = "jstests/upsert.rs"]
mod upsert;
