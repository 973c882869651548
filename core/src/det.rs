//! Deterministic hash collections.
//!
//! `std`'s default `RandomState` seeds itself from the operating system, which is a
//! random source: core must not read one, and its iteration order would differ from
//! run to run. These aliases use foldhash with its fixed seed instead: the same hashes
//! in every run, and several times faster than SipHash on the short keys core hashes
//! (stream names, index keys). Nothing output depends on the order of these maps.

use std::collections::{HashMap, HashSet};

/// The hasher every core hash collection uses: a fixed seed, identical across runs.
pub type DetState = foldhash::fast::FixedState;
/// A `HashMap` whose hashing does not depend on a random seed.
pub type DetHashMap<K, V> = HashMap<K, V, DetState>;
/// A `HashSet` whose hashing does not depend on a random seed.
pub type DetHashSet<K> = HashSet<K, DetState>;
