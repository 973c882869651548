//! Deterministic hash collections.
//!
//! `std`'s default `RandomState` seeds itself from the operating system, which is a
//! random source: core must not read one, and its iteration order would differ from
//! run to run. These aliases use SipHash with fixed keys instead.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasherDefault;

/// The hasher every core hash collection uses: fixed keys, identical across runs.
pub type DetState = BuildHasherDefault<DefaultHasher>;
/// A `HashMap` whose hashing does not depend on a random seed.
pub type DetHashMap<K, V> = HashMap<K, V, DetState>;
/// A `HashSet` whose hashing does not depend on a random seed.
pub type DetHashSet<K> = HashSet<K, DetState>;
