//! The stream document: every field name, the layout presets, and where streams live.
//!
//! ```text
//! { _id, streamName: "order:42",
//!   events: [ { type, data, metadata: { ...caller, eventId, streamName, streamPosition, recordedAt } } ],
//!   metadata: { streamId, streamType, streamPosition: Int64, createdAt, updatedAt } }
//! ```
//!
//! This module owns those names; nothing else in the crate spells them.

use std::fmt;
use std::sync::{Arc, OnceLock};

use bson::{doc, Bson, DateTime, Document};
use serde::{Deserialize, Serialize};

use crate::command::Namespace;
use crate::event::{PreparedEvent, RecordedEvent, RecordedMetadata};
use crate::name::StreamName;
use crate::template::Template;

/// Top-level `streamName`, the key of the unique index.
pub const STREAM_NAME: &str = "streamName";
/// Top-level `metadata` subdocument.
pub const METADATA: &str = "metadata";
/// `metadata.streamPosition`: Int64, the position of the last event (0: none).
pub const STREAM_POSITION_PATH: &str = "metadata.streamPosition";
/// `metadata.updatedAt`.
pub const UPDATED_AT_PATH: &str = "metadata.updatedAt";
/// `metadata.createdAt`.
pub const CREATED_AT_PATH: &str = "metadata.createdAt";
/// `metadata.streamId`.
pub const STREAM_ID_PATH: &str = "metadata.streamId";
/// `metadata.streamType`.
pub const STREAM_TYPE_PATH: &str = "metadata.streamType";
/// The name of the unique index on `streamName`.
pub const STREAM_NAME_INDEX: &str = "streamName_1";
/// `metadata.sealedAt`: set when a stream (or a segment) is sealed; no append matches a
/// sealed document.
pub const SEALED_AT_PATH: &str = "metadata.sealedAt";
/// `metadata.archivedAt`: set on the live document once its archive copy exists and its
/// events were removed (the tombstone that keeps the name from being reused).
pub const ARCHIVED_AT_PATH: &str = "metadata.archivedAt";
/// `metadata.successor`: the stream that continues a closed one.
pub const SUCCESSOR_PATH: &str = "metadata.successor";
/// `metadata.predecessor`: `{ streamName, streamPosition }` of the stream a successor
/// continues.
pub const PREDECESSOR_PATH: &str = "metadata.predecessor";
/// Top-level `segment`: a segment's number in a segmented stream (0, 1, ...).
pub const SEGMENT: &str = "segment";
/// `metadata.segmentStart`: the position before a segment's first event.
pub const SEGMENT_START_PATH: &str = "metadata.segmentStart";
/// `metadata.segmentBytes`: the BSON bytes of a segment's events.
pub const SEGMENT_BYTES_PATH: &str = "metadata.segmentBytes";
/// The name of the unique index of a segmented collection, on `(streamName, segment)`.
pub const SEGMENT_INDEX: &str = "streamName_1_segment_1";
/// The archive collection's suffix by default: `order` is archived to `order_archive`.
pub const DEFAULT_ARCHIVE_SUFFIX: &str = "_archive";
/// A segment's size by default: a segment is sealed before an append would take its
/// events past 4 MiB, a quarter of MongoDB's document limit.
pub const DEFAULT_SEGMENT_BYTES: u64 = 4 * 1024 * 1024;
/// The largest segment size a store accepts: what leaves room under the 16 MiB
/// document limit for a segment's other fields and one more append.
pub const MAX_SEGMENT_BYTES: u64 = 12 * 1024 * 1024;

const POSITION: &str = "streamPosition";
const SEALED_AT: &str = "sealedAt";
const ARCHIVED_AT: &str = "archivedAt";
const SUCCESSOR: &str = "successor";
const PREDECESSOR: &str = "predecessor";
const SEGMENT_START: &str = "segmentStart";
const SEGMENT_BYTES: &str = "segmentBytes";
const EVENT_TYPE: &str = "type";
const EVENT_DATA: &str = "data";
const EVENT_METADATA: &str = "metadata";
const RECORDED_AT: &str = "recordedAt";

/// Field names and collection names that differ between layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Layout {
    /// streamdoc's own: `events`, `eventId`, no collection prefix, single collection `streams`.
    #[default]
    Streamdoc,
    /// Compatible with `@event-driven-io/emmett-mongodb`: `messages`, `messageId`,
    /// collections `emt:{streamType}`, single collection `emt:streams`.
    Emmett,
}

impl Layout {
    /// The layout's index in per-layout tables.
    fn index(self) -> usize {
        match self {
            Layout::Streamdoc => 0,
            Layout::Emmett => 1,
        }
    }

    /// The array of events in the stream document.
    pub fn events_field(self) -> &'static str {
        match self {
            Layout::Streamdoc => "events",
            Layout::Emmett => "messages",
        }
    }

    /// The event id inside each event's metadata.
    pub fn event_id_field(self) -> &'static str {
        match self {
            Layout::Streamdoc => "eventId",
            Layout::Emmett => "messageId",
        }
    }

    /// The prefix of per-stream-type collection names.
    pub fn collection_prefix(self) -> &'static str {
        match self {
            Layout::Streamdoc => "",
            Layout::Emmett => "emt:",
        }
    }

    /// The collection of the single-collection storage when none is named.
    pub fn single_collection(self) -> &'static str {
        match self {
            Layout::Streamdoc => "streams",
            Layout::Emmett => "emt:streams",
        }
    }

    /// Metadata keys the store writes into every event; caller metadata may not use them.
    pub fn reserved_event_metadata(self) -> [&'static str; 4] {
        [self.event_id_field(), STREAM_NAME, POSITION, RECORDED_AT]
    }

    /// The stored form of one event.
    pub(crate) fn event_document(
        self,
        stream: &StreamName,
        event: &PreparedEvent,
        position: u64,
        recorded_at: DateTime,
    ) -> Document {
        let templates = templates();
        let reserved = [
            Bson::String(event.id.clone()),
            Bson::String(stream.as_str().to_owned()),
            position_to_bson(position),
            Bson::DateTime(recorded_at),
        ];
        let metadata = if event.metadata.is_empty() {
            templates.event_metadata(self).fill(reserved)
        } else {
            let mut metadata = event.metadata.clone();
            for (key, value) in self.reserved_event_metadata().into_iter().zip(reserved) {
                metadata.insert(key, value);
            }
            metadata
        };
        templates.event.fill([
            Bson::String(event.event_type.clone()),
            Bson::Document(event.data.clone()),
            Bson::Document(metadata),
        ])
    }

    /// Reads one stored event back. Tolerates what Emmett writes (no `recordedAt`,
    /// positions as Int32 or Int64).
    pub(crate) fn decode_event(self, stream: &str, stored: &Bson) -> Result<RecordedEvent, String> {
        let event = stored.as_document().ok_or("an event is not a document")?;
        let event_type = event.get_str(EVENT_TYPE).map_err(|_| "an event has no string `type`")?;
        let data = match event.get(EVENT_DATA) {
            Some(Bson::Document(d)) => d.clone(),
            None | Some(Bson::Null) => Document::new(),
            Some(_) => return Err("an event's `data` is not a document".into()),
        };
        let mut custom = match event.get(EVENT_METADATA) {
            Some(Bson::Document(d)) => d.clone(),
            _ => return Err("an event has no `metadata` document".into()),
        };
        let event_id = match custom.remove(self.event_id_field()) {
            Some(Bson::String(s)) => s,
            _ => return Err(format!("an event has no string `metadata.{}`", self.event_id_field())),
        };
        let stream_position = custom
            .remove(POSITION)
            .as_ref()
            .and_then(position_from_bson)
            .ok_or("an event has no integral `metadata.streamPosition`")?;
        let stream_name = match custom.remove(STREAM_NAME) {
            Some(Bson::String(s)) => s,
            _ => stream.to_owned(),
        };
        let recorded_at = match custom.remove(RECORDED_AT) {
            Some(Bson::DateTime(dt)) => Some(dt),
            _ => None,
        };
        Ok(RecordedEvent {
            event_type: event_type.to_owned(),
            data,
            metadata: RecordedMetadata { event_id, stream_name, stream_position, recorded_at, custom, layout: self },
        })
    }

    /// The stored shape of a read event: `{ type, data, metadata }`, the caller's metadata
    /// first, then the system fields (as [`Layout::event_document`] writes them).
    pub(crate) fn recorded_document(self, event: &RecordedEvent) -> Document {
        let m = &event.metadata;
        let mut metadata = m.custom.clone();
        metadata.insert(self.event_id_field(), m.event_id.clone());
        metadata.insert(STREAM_NAME, m.stream_name.clone());
        metadata.insert(POSITION, position_to_bson(m.stream_position));
        if let Some(at) = m.recorded_at {
            metadata.insert(RECORDED_AT, at);
        }
        let mut doc = Document::new();
        doc.insert(EVENT_TYPE, event.event_type.clone());
        doc.insert(EVENT_DATA, event.data.clone());
        doc.insert(EVENT_METADATA, metadata);
        doc
    }
}

/// Reads an event in its stored shape, in the layout whose id field its metadata holds.
pub(crate) fn decode_stored_event(stored: &Document) -> Result<RecordedEvent, String> {
    let metadata = stored.get_document(EVENT_METADATA).map_err(|_| "an event has no `metadata` document")?;
    let emmett = Layout::Emmett.event_id_field();
    let layout = if metadata.contains_key(emmett) && !metadata.contains_key(Layout::Streamdoc.event_id_field()) {
        Layout::Emmett
    } else {
        Layout::Streamdoc
    };
    let stream = metadata.get_str(STREAM_NAME).unwrap_or_default().to_owned();
    layout.decode_event(&stream, &Bson::Document(stored.clone()))
}

/// The shapes of a stored event, by layout where they differ.
struct Templates {
    /// `{ type, data, metadata }`.
    event: Template,
    /// The reserved event metadata, by layout.
    event_metadata: [Template; 2],
}

impl Templates {
    fn event_metadata(&self, layout: Layout) -> &Template {
        &self.event_metadata[layout.index()]
    }
}

fn templates() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(|| Templates {
        event: Template::new(&[EVENT_TYPE, EVENT_DATA, EVENT_METADATA]),
        event_metadata: [Layout::Streamdoc, Layout::Emmett].map(|l| Template::new(&l.reserved_event_metadata())),
    })
}

/// Positions are stored as Int64 always.
pub(crate) fn position_to_bson(position: u64) -> Bson {
    Bson::Int64(i64::try_from(position).unwrap_or(i64::MAX))
}

/// Reads a position written by anyone: Int64, Int32, or an integral Double.
pub(crate) fn position_from_bson(value: &Bson) -> Option<u64> {
    match value {
        Bson::Int64(n) => u64::try_from(*n).ok(),
        Bson::Int32(n) => u64::try_from(*n).ok(),
        Bson::Double(d) if d.fract() == 0.0 && *d >= 0.0 && *d < 9.007_199_254_740_992e15 => Some(*d as u64),
        _ => None,
    }
}

/// The stream's position in a stored stream document (`metadata.streamPosition`).
pub(crate) fn document_position(doc: &Document) -> Option<u64> {
    doc.get_document(METADATA).ok()?.get(POSITION).and_then(position_from_bson)
}

/// What the seal fields of a stored stream document (or segment) say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Seal {
    /// `metadata.sealedAt` is set: no append matches the document.
    pub sealed: bool,
    /// `metadata.archivedAt` is set: the document is a tombstone, its archive copy exists.
    pub archived: bool,
    /// `metadata.successor`, when the stream was closed into another.
    pub successor: Option<String>,
}

impl Seal {
    /// Reads the seal fields of `doc`.
    pub(crate) fn of(doc: &Document) -> Seal {
        let Ok(metadata) = doc.get_document(METADATA) else { return Seal::default() };
        Seal {
            sealed: metadata.contains_key(SEALED_AT),
            archived: metadata.contains_key(ARCHIVED_AT),
            successor: metadata.get_str(SUCCESSOR).ok().map(str::to_owned),
        }
    }
}

/// `metadata.predecessor` of a stream document: the stream it continues and where that
/// one was closed.
pub(crate) fn document_predecessor(doc: &Document) -> Option<(String, u64)> {
    let link = doc.get_document(METADATA).ok()?.get_document(PREDECESSOR).ok()?;
    Some((link.get_str(STREAM_NAME).ok()?.to_owned(), link.get(POSITION).and_then(position_from_bson)?))
}

/// The `metadata.predecessor` value linking a successor to `stream` closed at `position`.
pub(crate) fn predecessor_link(stream: &str, position: u64) -> Document {
    doc! { STREAM_NAME: stream, POSITION: position_to_bson(position) }
}

/// A segment's number, start and byte count (`segment`, `metadata.segmentStart`,
/// `metadata.segmentBytes`), when `doc` is a segment.
pub(crate) fn document_segment(doc: &Document) -> Option<(u64, u64, u64)> {
    let number = doc.get(SEGMENT).and_then(position_from_bson)?;
    let metadata = doc.get_document(METADATA).ok()?;
    let start = metadata.get(SEGMENT_START).and_then(position_from_bson)?;
    let bytes = metadata.get(SEGMENT_BYTES).and_then(position_from_bson).unwrap_or(0);
    Some((number, start, bytes))
}

/// A function choosing the namespace of a stream, for [`Storage::Custom`].
#[derive(Clone)]
pub struct Resolver(Arc<dyn Fn(&StreamName) -> Namespace + Send + Sync>);

impl Resolver {
    /// Wraps a resolver function.
    pub fn new(f: impl Fn(&StreamName) -> Namespace + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }
}

impl fmt::Debug for Resolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver(..)")
    }
}

/// Where stream documents live.
#[derive(Debug, Clone, Default)]
pub enum Storage {
    /// One collection per stream type, named `{prefix}{streamType}`; the prefix
    /// defaults to the layout's (`""`, or `emt:` for Emmett).
    #[default]
    CollectionPerStreamType,
    /// One collection per stream type with an explicit prefix.
    PrefixedCollectionPerStreamType { prefix: String },
    /// Every stream in one collection (the layout's default name when `None`).
    SingleCollection { name: Option<String> },
    /// A function of the stream name.
    Custom(Resolver),
}

/// Where archived stream documents go ([`StoreConfig::with_archive`]).
#[derive(Debug, Clone)]
pub enum ArchiveStorage {
    /// The live collection's database, collection `{collection}{suffix}`
    /// (by default the suffix is [`DEFAULT_ARCHIVE_SUFFIX`]).
    Suffix(String),
    /// The live collection's name in another database.
    Database(String),
    /// A function of the stream name.
    Custom(Resolver),
}

impl Default for ArchiveStorage {
    fn default() -> Self {
        ArchiveStorage::Suffix(DEFAULT_ARCHIVE_SUFFIX.to_owned())
    }
}

/// Why a store configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum ConfigError {
    /// The database name is empty, too long, or has a character MongoDB refuses.
    #[error("invalid database name {name:?}: {why}")]
    InvalidDatabase { name: String, why: String },
    /// A collection name is empty, has `$` or NUL, or starts with `system.`.
    #[error("invalid collection name {name:?}: {why}")]
    InvalidCollection { name: String, why: String },
    /// A projection's definition is unusable (or two share a name).
    #[error("invalid projection {name:?}: {why}")]
    InvalidProjection { name: String, why: String },
    /// The default stream type cannot be a stream type.
    #[error("invalid default stream type {stream_type:?}: {why}")]
    InvalidDefaultStreamType { stream_type: String, why: String },
    /// Two options that do not work together, or an option out of its range.
    #[error("unsupported configuration: {option}: {why}")]
    Unsupported { option: String, why: String },
}

/// How a store lays out and places its documents.
///
/// ```
/// use streamdoc_core::{Layout, StoreConfig, Storage, StreamName};
///
/// let config = StoreConfig::new("app").with_layout(Layout::Emmett);
/// let ns = config.namespace(&StreamName::parse("order:1").unwrap()).unwrap();
/// assert_eq!((ns.db.as_str(), ns.collection.as_str()), ("app", "emt:order"));
///
/// let single = StoreConfig::new("app").with_storage(Storage::SingleCollection { name: None });
/// assert_eq!(single.namespace(&StreamName::parse("order:1").unwrap()).unwrap().collection, "streams");
/// ```
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// The database for every storage but a custom one.
    pub database: String,
    /// Field and collection names.
    pub layout: Layout,
    /// Where streams live.
    pub storage: Storage,
    /// How often `Any` and `StreamExists` appends re-read the position after losing a
    /// race before giving up with [`crate::Error::Contention`].
    pub max_attempts: u32,
    /// The stream type of names without a colon ([`StoreConfig::with_default_stream_type`]);
    /// `None`: such names are refused.
    pub default_stream_type: Option<String>,
    /// The inline projections ([`StoreConfig::with_projection`]).
    pub projections: Vec<crate::projection::InlineProjection>,
    /// Where archived streams go ([`StoreConfig::with_archive`]).
    pub archive: ArchiveStorage,
    /// `Some(bytes)`: streams are stored as segments of at most about this many bytes of
    /// events ([`StoreConfig::with_segments`]); `None`: one document per stream.
    pub segment_bytes: Option<u64>,
}

impl StoreConfig {
    /// The default layout and storage in `database`.
    pub fn new(database: impl Into<String>) -> Self {
        Self {
            database: database.into(),
            layout: Layout::default(),
            storage: Storage::default(),
            max_attempts: 64,
            default_stream_type: None,
            projections: Vec::new(),
            archive: ArchiveStorage::default(),
            segment_bytes: None,
        }
    }

    /// Sets where archived streams go (by default `{collection}_archive` beside the live
    /// collection).
    ///
    /// ```
    /// use streamdoc_core::layout::ArchiveStorage;
    /// use streamdoc_core::{StoreConfig, StreamName};
    ///
    /// let order = StreamName::parse("order:1").unwrap();
    /// let config = StoreConfig::new("app");
    /// assert_eq!(config.archive_namespace(&order).unwrap().to_string(), "app.order_archive");
    /// let cold = config.with_archive(ArchiveStorage::Database("app_cold".into()));
    /// assert_eq!(cold.archive_namespace(&order).unwrap().to_string(), "app_cold.order");
    /// ```
    pub fn with_archive(mut self, archive: ArchiveStorage) -> Self {
        self.archive = archive;
        self
    }

    /// Stores every stream as segments: documents `{ streamName, segment: k, events, … }`,
    /// unique on `(streamName, segment)`. An append goes to the open segment; when it
    /// would take that segment's events past `max_bytes`, the writer seals the segment
    /// and opens the next one, each step one conditional command. A layout of
    /// streamdoc's own: not with [`Layout::Emmett`], nor (yet) with inline projections,
    /// archiving or subscriptions. [`DEFAULT_SEGMENT_BYTES`] is a sound size.
    ///
    /// ```
    /// use bson::doc;
    /// use streamdoc_core::layout::DEFAULT_SEGMENT_BYTES;
    /// use streamdoc_core::{Engine, EventStore, ExpectedVersion, NewEvent, ReadRange, SeededIds, SteppingClock, StoreConfig, StoreContext};
    ///
    /// let config = StoreConfig::new("app").with_segments(1_000);
    /// let ctx = StoreContext::new(config, SteppingClock::new(0, 1), SeededIds::new(1))?;
    /// let mut store = EventStore::new(ctx, Engine::new(1));
    /// for _ in 0..10 {
    ///     let event = NewEvent::new("Noted", doc! { "text": "x".repeat(300) });
    ///     store.append_to_stream("log:1", vec![event], ExpectedVersion::Any)?;
    /// }
    /// let read = store.read_stream("log:1", ReadRange::all())?;
    /// assert_eq!(read.events.len(), 10);
    /// let segments = store.executor().documents(&streamdoc_core::Namespace::new("app", "log"));
    /// assert!(segments.len() >= 4, "{} segments", segments.len());
    /// # assert!(DEFAULT_SEGMENT_BYTES > 1_000);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_segments(mut self, max_bytes: u64) -> Self {
        self.segment_bytes = Some(max_bytes);
        self
    }

    /// True when streams are stored as segments.
    pub fn segmented(&self) -> bool {
        self.segment_bytes.is_some()
    }

    /// The namespace `stream` is archived to.
    pub fn archive_namespace(&self, stream: &StreamName) -> Result<Namespace, ConfigError> {
        let live = self.namespace(stream)?;
        let ns = match &self.archive {
            ArchiveStorage::Suffix(suffix) => Namespace::new(live.db, format!("{}{suffix}", live.collection)),
            ArchiveStorage::Database(db) => Namespace::new(db.clone(), live.collection),
            ArchiveStorage::Custom(resolver) => (resolver.0)(stream),
        };
        validate_database(&ns.db)?;
        validate_collection(&ns.collection)?;
        if ns == self.namespace(stream)? {
            return Err(ConfigError::Unsupported {
                option: "archive".into(),
                why: format!("the archive of {stream} would be its live collection {ns}"),
            });
        }
        Ok(ns)
    }

    /// Sets the layout.
    pub fn with_layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    /// Sets the storage.
    pub fn with_storage(mut self, storage: Storage) -> Self {
        self.storage = storage;
        self
    }

    /// Names without a colon (`"7f3a"`) belong to `stream_type`: for callers, such as
    /// Emmett applications, that name streams by id alone. The stored `streamName` is the
    /// name as given, its `streamType` this type and its `streamId` the whole name; names
    /// with a colon are split at the first one, as always.
    ///
    /// ```
    /// use streamdoc_core::{Engine, EventStore, ExpectedVersion, NewEvent, ReadRange, SeededIds, SteppingClock, StoreConfig, StoreContext};
    ///
    /// let config = StoreConfig::new("app").with_default_stream_type("cart");
    /// let ctx = StoreContext::new(config, SteppingClock::new(0, 1), SeededIds::new(1))?;
    /// let mut store = EventStore::new(ctx, Engine::new(1));
    /// store.append_to_stream("7f3a", vec![NewEvent::new("ItemAdded", bson::doc! {})], ExpectedVersion::NoStream)?;
    /// let read = store.read_stream("7f3a", ReadRange::all())?;
    /// assert_eq!(read.events[0].metadata.stream_name, "7f3a");
    /// assert!(store.executor().documents(&streamdoc_core::Namespace::new("app", "cart")).len() == 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_default_stream_type(mut self, stream_type: impl Into<String>) -> Self {
        self.default_stream_type = Some(stream_type.into());
        self
    }

    /// Keeps `projection`'s read model in every stream it applies to, written by each
    /// append in the same conditional update as the events
    /// ([`InlineProjection`](crate::projection::InlineProjection) has an example).
    pub fn with_projection(mut self, projection: crate::projection::InlineProjection) -> Self {
        self.projections.push(projection);
        self
    }

    /// The projections that apply to streams of `stream_type`, in registration order.
    pub fn projections_for<'c>(
        &'c self,
        stream_type: &'c str,
    ) -> impl Iterator<Item = &'c crate::projection::InlineProjection> + 'c {
        self.projections.iter().filter(move |p| p.applies_to(stream_type))
    }

    /// The projection named `name` that applies to streams of `stream_type`.
    pub fn projection(&self, stream_type: &str, name: &str) -> Option<&crate::projection::InlineProjection> {
        self.projections.iter().find(|p| p.name() == name && p.applies_to(stream_type))
    }

    /// The namespace holding every stream of `stream_type`; `None` for a custom storage,
    /// whose resolver places streams by name.
    pub fn type_namespace(&self, stream_type: &str) -> Result<Option<Namespace>, crate::Error> {
        let probe = StreamName::parse(&format!("{stream_type}:_"))?;
        if probe.stream_type() != stream_type {
            return Err(crate::name::StreamNameError::EmptyType { name: stream_type.to_owned() }.into());
        }
        if let Storage::Custom(_) = self.storage {
            return Ok(None);
        }
        Ok(Some(self.namespace(&probe)?))
    }

    /// A stream name under this configuration: [`StreamName::parse_with_default`] with
    /// the default stream type.
    pub fn stream_name(&self, name: &str) -> Result<StreamName, crate::name::StreamNameError> {
        StreamName::parse_with_default(name, self.default_stream_type.as_deref())
    }

    /// Checks the names the configuration fixes up front.
    pub fn validate(&self) -> Result<(), ConfigError> {
        validate_database(&self.database)?;
        if let Some(stream_type) = &self.default_stream_type {
            crate::name::validate_default_type(stream_type).map_err(|e| ConfigError::InvalidDefaultStreamType {
                stream_type: stream_type.clone(),
                why: e.to_string(),
            })?;
        }
        for (i, projection) in self.projections.iter().enumerate() {
            projection.validate()?;
            if self.projections[..i].iter().any(|p| p.name() == projection.name()) {
                return Err(ConfigError::InvalidProjection {
                    name: projection.name().to_owned(),
                    why: "two projections have this name".into(),
                });
            }
        }
        if let Some(bytes) = self.segment_bytes {
            let unsupported = |why: &str| ConfigError::Unsupported { option: "segments".into(), why: why.into() };
            if !(1..=MAX_SEGMENT_BYTES).contains(&bytes) {
                return Err(unsupported(&format!(
                    "a segment size must be 1 to {MAX_SEGMENT_BYTES} bytes, not {bytes}"
                )));
            }
            if self.layout == Layout::Emmett {
                return Err(unsupported("the Emmett layout keeps one document per stream"));
            }
            if !self.projections.is_empty() {
                return Err(unsupported("inline projections are not kept in segmented streams"));
            }
        }
        if let ArchiveStorage::Database(db) = &self.archive {
            validate_database(db)?;
        }
        if let ArchiveStorage::Suffix(suffix) = &self.archive {
            if suffix.is_empty() || suffix.contains(['$', '\0']) {
                return Err(ConfigError::Unsupported {
                    option: "archive".into(),
                    why: format!("an archive suffix must be non-empty, without '$' or NUL, not {suffix:?}"),
                });
            }
        }
        match &self.storage {
            Storage::SingleCollection { name: Some(name) } => validate_collection(name),
            Storage::PrefixedCollectionPerStreamType { prefix } => {
                if prefix.contains(['$', '\0']) || prefix.starts_with("system.") {
                    return Err(ConfigError::InvalidCollection {
                        name: prefix.clone(),
                        why: "an invalid prefix".into(),
                    });
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// The namespace of a stream.
    pub fn namespace(&self, stream: &StreamName) -> Result<Namespace, ConfigError> {
        let ns = match &self.storage {
            Storage::CollectionPerStreamType => Namespace::new(
                self.database.clone(),
                format!("{}{}", self.layout.collection_prefix(), stream.stream_type()),
            ),
            Storage::PrefixedCollectionPerStreamType { prefix } => {
                Namespace::new(self.database.clone(), format!("{prefix}{}", stream.stream_type()))
            }
            Storage::SingleCollection { name } => Namespace::new(
                self.database.clone(),
                name.clone().unwrap_or_else(|| self.layout.single_collection().to_owned()),
            ),
            Storage::Custom(resolver) => (resolver.0)(stream),
        };
        validate_database(&ns.db)?;
        validate_collection(&ns.collection)?;
        Ok(ns)
    }
}

fn validate_database(name: &str) -> Result<(), ConfigError> {
    let invalid = |why: &str| ConfigError::InvalidDatabase { name: name.to_owned(), why: why.to_owned() };
    if name.is_empty() {
        return Err(invalid("empty"));
    }
    if name.len() >= 64 {
        return Err(invalid("64 bytes or longer"));
    }
    if let Some(c) = name.chars().find(|c| "/\\. \"$*<>:|?\0".contains(*c)) {
        return Err(invalid(&format!("contains {c:?}")));
    }
    Ok(())
}

fn validate_collection(name: &str) -> Result<(), ConfigError> {
    let invalid = |why: &str| ConfigError::InvalidCollection { name: name.to_owned(), why: why.to_owned() };
    if name.is_empty() {
        return Err(invalid("empty"));
    }
    if name.contains('$') || name.contains('\0') {
        return Err(invalid("contains '$' or NUL"));
    }
    if name.starts_with("system.") {
        return Err(invalid("names starting with 'system.' are reserved"));
    }
    if name.len() > 200 {
        return Err(invalid("longer than 200 bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> StreamName {
        StreamName::parse(s).unwrap()
    }

    #[test]
    fn a_default_stream_type_places_bare_names_and_is_validated() {
        let config = StoreConfig::new("app").with_default_stream_type("cart");
        assert!(config.validate().is_ok());
        let bare = config.stream_name("42").unwrap();
        assert_eq!((bare.as_str(), bare.stream_type(), bare.stream_id()), ("42", "cart", "42"));
        assert_eq!(config.namespace(&bare).unwrap(), Namespace::new("app", "cart"));
        assert_eq!(config.stream_name("order:1").unwrap().stream_type(), "order");
        assert!(matches!(config.stream_name(""), Err(crate::name::StreamNameError::EmptyId { .. })));
        assert!(matches!(
            StoreConfig::new("app").stream_name("42"),
            Err(crate::name::StreamNameError::MissingColon { .. })
        ));
        for bad in ["", "a:b", "system.x", "has space"] {
            let invalid = StoreConfig::new("app").with_default_stream_type(bad).validate();
            assert!(matches!(invalid, Err(ConfigError::InvalidDefaultStreamType { .. })), "{bad:?}: {invalid:?}");
        }
    }

    #[test]
    fn storages_resolve_namespaces() {
        let custom = StoreConfig::new("app").with_storage(Storage::Custom(Resolver::new(|s| {
            Namespace::new(format!("tenant_{}", s.stream_id().split(':').next().unwrap_or("x")), "streams")
        })));
        assert_eq!(custom.namespace(&name("order:acme:1")).unwrap(), Namespace::new("tenant_acme", "streams"));
        let prefixed =
            StoreConfig::new("app").with_storage(Storage::PrefixedCollectionPerStreamType { prefix: "es_".into() });
        assert_eq!(prefixed.namespace(&name("cart:9")).unwrap().collection, "es_cart");
        let emmett_single =
            StoreConfig::new("app").with_layout(Layout::Emmett).with_storage(Storage::SingleCollection { name: None });
        assert_eq!(emmett_single.namespace(&name("cart:9")).unwrap().collection, "emt:streams");
    }

    #[test]
    fn invalid_names_are_refused() {
        assert!(StoreConfig::new("a.b").validate().is_err());
        assert!(StoreConfig::new("").validate().is_err());
        let bad = StoreConfig::new("app").with_storage(Storage::SingleCollection { name: Some("a$b".into()) });
        assert!(matches!(bad.validate(), Err(ConfigError::InvalidCollection { .. })));
        let custom =
            StoreConfig::new("app").with_storage(Storage::Custom(Resolver::new(|_| Namespace::new("app", "system.x"))));
        assert!(custom.namespace(&name("a:1")).is_err());
    }

    #[test]
    fn events_round_trip_through_the_stored_form() {
        let stream = name("order:1");
        let event = PreparedEvent {
            id: "m-1".into(),
            event_type: "Placed".into(),
            data: doc! { "$weird.key": 1 },
            metadata: doc! { "by": "me" },
        };
        let stored = Layout::Emmett.event_document(&stream, &event, 3, DateTime::from_millis(5));
        assert_eq!(stored.get_document("metadata").unwrap().get_str("messageId").unwrap(), "m-1");
        let back = Layout::Emmett.decode_event("order:1", &Bson::Document(stored.clone())).unwrap();
        assert_eq!(back.metadata.stream_position, 3);
        assert_eq!(back.metadata.custom, doc! { "by": "me" });
        assert_eq!(back.data, doc! { "$weird.key": 1 });
        assert_eq!(back.metadata.recorded_at, Some(DateTime::from_millis(5)));
        assert_eq!(back.to_document(), stored, "the read shape is the stored shape");
        assert_eq!(RecordedEvent::from_document(&stored), Ok(back));
    }
}
