//! The in-memory engine (being written).
