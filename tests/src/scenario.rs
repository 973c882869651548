//! The scenario file format (see `tests/scenarios/README.md`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use bson::Document;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use streamdoc_core::layout::ArchiveStorage;
use streamdoc_core::projection::InlineProjection;
use streamdoc_core::{ExpectedVersion, Layout, Namespace, Resolver, Storage, StoreConfig};

/// One scenario file.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// The file stem; filled in by [`load_corpus`].
    #[serde(skip)]
    pub name: String,
    /// What the scenario shows, in a sentence or two.
    pub description: String,
    /// Labels; `bigDocument`, `dollarKeys` and `slice` mark cases that some servers
    /// treat differently (see tests/DEVIATIONS.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The store configuration.
    #[serde(default)]
    pub config: ConfigSpec,
    /// The injected clock: every operation reads it once, when it is prepared.
    #[serde(default)]
    pub clock: ClockSpec,
    /// Seed of the generator of event ids, for events given without one.
    #[serde(default)]
    pub id_seed: u64,
    /// The operations, in order.
    pub steps: Vec<Step>,
    /// The stored documents at the end, per `database.collection`, sorted by
    /// `streamName`; in canonical Extended JSON with `_id` normalised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents: Option<BTreeMap<String, Vec<Value>>>,
}

/// The store configuration of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConfigSpec {
    #[serde(default = "default_database")]
    pub database: String,
    #[serde(default)]
    pub layout: Layout,
    #[serde(default)]
    pub storage: StorageSpec,
    /// Inline projections, as named rules (see [`ProjectionSpec`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub projections: Vec<ProjectionSpec>,
    /// Where archived streams go (default: the `_archive` suffix).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive: Option<ArchiveSpec>,
    /// Segmented streams: `{ "maxBytes": n }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<SegmentsSpec>,
}

/// The archive storage of a scenario.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum ArchiveSpec {
    /// The live collection's name plus `suffix`, in its database.
    Suffix { suffix: String },
    /// The live collection's name in database `name`.
    Database { name: String },
}

/// Segmented streams.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SegmentsSpec {
    /// The size a segment's events stay under.
    pub max_bytes: u64,
}

/// An inline projection of a scenario. Its `evolve` is a named rule, so every layer can
/// implement it:
/// - `tally`: initial `{count: 0, total: 0}`; a handled event adds 1 to `count`, its
///   `data.amount` (an Int32, when it is one) to `total`, and sets `last` to its type;
///   an event of type `deleteOn` deletes the read model instead.
/// - `latestData`: no initial state; the state is the handled event's `data`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProjectionSpec {
    pub name: String,
    pub rule: ProjectionRule,
    pub handles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_types: Option<Vec<String>>,
}

/// The named `evolve` rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ProjectionRule {
    Tally,
    LatestData,
}

impl ProjectionSpec {
    /// Core's projection.
    pub fn to_projection(&self) -> InlineProjection {
        let delete_on = self.delete_on.clone();
        let mut p = match self.rule {
            ProjectionRule::Tally => InlineProjection::new(self.name.clone(), self.handles.clone(), move |state, e| {
                if delete_on.as_deref() == Some(e.event_type.as_str()) {
                    return Ok(None);
                }
                let mut state: Document = state.unwrap_or_default();
                let count = state.get_i32("count").unwrap_or(0) + 1;
                let amount = match e.data.get("amount") {
                    Some(bson::Bson::Int32(n)) => *n,
                    _ => 0,
                };
                let total = state.get_i32("total").unwrap_or(0) + amount;
                state.insert("count", count);
                state.insert("total", total);
                state.insert("last", e.event_type.clone());
                Ok(Some(state))
            })
            .with_initial(bson::doc! { "count": 0, "total": 0 }),
            ProjectionRule::LatestData => {
                InlineProjection::new(self.name.clone(), self.handles.clone(), |_, e| Ok(Some(e.data.clone())))
            }
        };
        if let Some(v) = self.schema_version {
            p = p.with_schema_version(v);
        }
        if let Some(types) = &self.stream_types {
            p = p.for_stream_types(types.clone());
        }
        p
    }
}

fn default_database() -> String {
    "streamdoc_test".into()
}

impl Default for ConfigSpec {
    fn default() -> Self {
        Self {
            database: default_database(),
            layout: Layout::default(),
            storage: StorageSpec::default(),
            projections: Vec::new(),
            archive: None,
            segments: None,
        }
    }
}

/// Storage, as data. Custom resolvers are named rules, so every layer can implement them.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", deny_unknown_fields)]
pub enum StorageSpec {
    /// One collection per stream type (the layout's prefix).
    #[default]
    PerStreamType,
    /// One collection per stream type with this prefix.
    Prefixed { prefix: String },
    /// Every stream in one collection (the layout's default name when absent).
    Single {
        #[serde(default)]
        name: Option<String>,
    },
    /// The named custom rule `tenantDatabase`: database `{database}_{tenant}` where the
    /// tenant is the stream id up to its first colon, collection `{streamType}`.
    TenantDatabase,
}

impl ConfigSpec {
    /// The core configuration.
    pub fn to_config(&self) -> StoreConfig {
        let storage = match &self.storage {
            StorageSpec::PerStreamType => Storage::CollectionPerStreamType,
            StorageSpec::Prefixed { prefix } => Storage::PrefixedCollectionPerStreamType { prefix: prefix.clone() },
            StorageSpec::Single { name } => Storage::SingleCollection { name: name.clone() },
            StorageSpec::TenantDatabase => {
                let database = self.database.clone();
                Storage::Custom(Resolver::new(move |s| {
                    let tenant = s.stream_id().split(':').next().unwrap_or_default();
                    Namespace::new(format!("{database}_{tenant}"), s.stream_type())
                }))
            }
        };
        let mut config = StoreConfig::new(self.database.clone()).with_layout(self.layout).with_storage(storage);
        for p in &self.projections {
            config = config.with_projection(p.to_projection());
        }
        match &self.archive {
            Some(ArchiveSpec::Suffix { suffix }) => {
                config = config.with_archive(ArchiveStorage::Suffix(suffix.clone()))
            }
            Some(ArchiveSpec::Database { name }) => {
                config = config.with_archive(ArchiveStorage::Database(name.clone()))
            }
            None => {}
        }
        if let Some(segments) = self.segments {
            config = config.with_segments(segments.max_bytes);
        }
        config
    }
}

/// The injected clock.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClockSpec {
    /// The first reading, in ms since the epoch.
    pub start_ms: i64,
    /// The advance per reading.
    pub step_ms: i64,
}

impl Default for ClockSpec {
    fn default() -> Self {
        Self { start_ms: streamdoc_core::DEFAULT_CLOCK_START_MS, step_ms: 1000 }
    }
}

/// One step: a single operation, or several racing under a schedule.
// Loaded once per scenario file; boxing the operation would only complicate the format's type.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Step {
    /// Operations prepared together, interleaved command by command.
    Race(Race),
    /// One operation run to completion.
    Op(StepOp),
}

/// Racing operations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Race {
    /// The operations, prepared in this order (each on its own client).
    pub race: Vec<StepOp>,
    /// Indexes into `race`: each entry lets that operation send one command; after
    /// the schedule every unfinished operation runs to its end, in order.
    pub schedule: Vec<usize>,
}

/// An operation and what it must return.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepOp {
    /// The client (a store instance with its own index registry); default `main`.
    #[serde(default = "default_client")]
    pub client: String,
    /// The operation.
    #[serde(flatten)]
    pub op: ScenarioOp,
    /// The expected result.
    pub expect: Expect,
}

fn default_client() -> String {
    "main".into()
}

/// The operations a scenario can run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "camelCase")]
pub enum ScenarioOp {
    /// `appendToStream`. Events are objects `{id?, type, data?, metadata?}` whose
    /// `data` and `metadata` are Extended JSON.
    #[serde(rename_all = "camelCase")]
    Append {
        stream: String,
        events: Vec<Value>,
        #[serde(default)]
        expected: ExpectedVersion,
    },
    /// `readStream`.
    #[serde(rename_all = "camelCase")]
    Read {
        stream: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_count: Option<u64>,
        /// A read that must find the stream where this says (default: no check).
        #[serde(default)]
        expected: ExpectedVersion,
        /// Read the archive collection.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        from_archive: bool,
    },
    /// `streamExists`.
    #[serde(rename_all = "camelCase")]
    Exists { stream: String },
    /// `streamStatus`: live, sealed, archived or missing.
    #[serde(rename_all = "camelCase")]
    Status { stream: String },
    /// `archiveStream`.
    #[serde(rename_all = "camelCase")]
    Archive {
        stream: String,
        #[serde(default)]
        expected: ExpectedVersion,
    },
    /// `closeStream` with a summary event given as data (`{id?, type, data?, metadata?}`).
    #[serde(rename_all = "camelCase")]
    CloseStream {
        stream: String,
        successor: String,
        summary: Value,
        #[serde(default)]
        expected: ExpectedVersion,
    },
    /// `aggregateStream` with a named fold: `count` (number of events) or `types`
    /// (the list of event types).
    #[serde(rename_all = "camelCase")]
    Aggregate { stream: String, evolve: String },
    /// Rebuilding a stream's read models (of `projection` only, when given).
    #[serde(rename_all = "camelCase")]
    Rebuild {
        stream: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        projection: Option<String>,
    },
    /// A stream's read model of `projection`: the stored document or `null`.
    #[serde(rename_all = "camelCase")]
    ReadModel { stream: String, projection: String },
    /// Rebuilding the read models of every stream of a type.
    #[serde(rename_all = "camelCase")]
    RebuildAll {
        stream_type: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        projection: Option<String>,
    },
    /// A query over read models (`count`: how many, else the list). `filter` and `sort`
    /// are Extended JSON.
    #[serde(rename_all = "camelCase")]
    QueryReadModels {
        stream_type: String,
        projection: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        streams: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filter: Option<Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        sort: Option<Value>,
        #[serde(default)]
        skip: u64,
        #[serde(default)]
        limit: u64,
        #[serde(default)]
        count: bool,
    },
}

/// An expected result: `{"ok": value}` compared exactly, or `{"error": {...}}` whose
/// fields are compared as a subset of the actual error (so a server's wording need
/// not be spelled out).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum Expect {
    Ok(Value),
    Error(Value),
}

/// Why the corpus could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a valid scenario: {source}")]
    Parse { path: PathBuf, source: serde_json::Error },
}

/// The directory of the corpus.
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// Every scenario of `dir`, sorted by name.
pub fn load_corpus(dir: &Path) -> Result<Vec<Scenario>, LoadError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| LoadError::Io { path: dir.to_owned(), source })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| load(p)).collect()
}

/// One scenario file.
pub fn load(path: &Path) -> Result<Scenario, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io { path: path.to_owned(), source })?;
    let mut scenario: Scenario =
        serde_json::from_str(&text).map_err(|source| LoadError::Parse { path: path.to_owned(), source })?;
    scenario.name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    Ok(scenario)
}
