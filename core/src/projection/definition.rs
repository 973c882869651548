//! A projection's definition.

use std::fmt;
use std::sync::Arc;

use bson::Document;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::event::RecordedEvent;
use crate::layout::ConfigError;

/// Why `evolve` could not fold an event: the append (or rebuild) fails with
/// [`crate::Error::Projection`] and writes nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EvolveError(pub String);

impl From<bson::error::Error> for EvolveError {
    /// A field the state or the event lacks, or has with another type (`get_i32(..)?`).
    fn from(e: bson::error::Error) -> Self {
        EvolveError(e.to_string())
    }
}

impl From<&str> for EvolveError {
    fn from(message: &str) -> Self {
        EvolveError(message.to_owned())
    }
}

type Evolve = dyn Fn(Option<Document>, &RecordedEvent) -> Result<Option<Document>, EvolveError> + Send + Sync;

/// An inline projection: a read model folded from the events of each stream it applies
/// to, stored in the stream document at `projections.<name>`.
///
/// `evolve` receives the current state (`None` before the first event when there is no
/// initial state, and after the read model was deleted) and one event of a type the
/// projection handles; it returns the new state, or `None` to delete the read model.
///
/// ```
/// use bson::{doc, Document};
/// use streamdoc_core::projection::InlineProjection;
/// use streamdoc_core::{Engine, EventStore, ExpectedVersion, NewEvent, SeededIds, SteppingClock, StoreConfig, StoreContext};
///
/// let summary = InlineProjection::new("summary", ["ItemAdded"], |state: Option<Document>, event| {
///     let mut state = state.unwrap_or_default();
///     let total = state.get_i64("total").unwrap_or(0) + event.data.get_i64("price").unwrap_or(0);
///     state.insert("total", total);
///     Ok(Some(state))
/// });
/// let config = StoreConfig::new("shop").with_projection(summary);
/// let ctx = StoreContext::new(config, SteppingClock::new(0, 1), SeededIds::new(1))?;
/// let mut store = EventStore::new(ctx, Engine::new(1));
/// let add = |price: i64| NewEvent::new("ItemAdded", doc! { "price": price });
/// store.append_to_stream("cart:1", vec![add(10), add(20)], ExpectedVersion::NoStream)?;
/// let model = store.read_model("cart:1", "summary")?.expect("written with the events");
/// assert_eq!(model.state().get_i64("total")?, 30);
/// assert_eq!(model.metadata().stream_position, 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct InlineProjection {
    name: String,
    handles: Vec<String>,
    schema_version: u32,
    initial: Option<Document>,
    stream_types: Option<Vec<String>>,
    indexes: Vec<Document>,
    evolve: Arc<Evolve>,
}

impl fmt::Debug for InlineProjection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InlineProjection")
            .field("name", &self.name)
            .field("handles", &self.handles)
            .field("schema_version", &self.schema_version)
            .field("initial", &self.initial)
            .field("stream_types", &self.stream_types)
            .field("indexes", &self.indexes)
            .finish_non_exhaustive()
    }
}

impl InlineProjection {
    /// A projection named `name` of the events whose type is in `handles`, with no
    /// initial state, schema version 1, for every stream type.
    pub fn new<T: Into<String>>(
        name: impl Into<String>,
        handles: impl IntoIterator<Item = T>,
        evolve: impl Fn(Option<Document>, &RecordedEvent) -> Result<Option<Document>, EvolveError> + Send + Sync + 'static,
    ) -> Self {
        Self {
            name: name.into(),
            handles: handles.into_iter().map(Into::into).collect(),
            schema_version: 1,
            initial: None,
            stream_types: None,
            indexes: Vec::new(),
            evolve: Arc::new(evolve),
        }
    }

    /// A projection whose state is a serde type, starting from `S::default()`: `evolve`
    /// returns the new state, or `None` to delete the read model (the next handled event
    /// starts again from the default).
    ///
    /// ```
    /// use serde::{Deserialize, Serialize};
    /// use streamdoc_core::projection::InlineProjection;
    ///
    /// #[derive(Default, Serialize, Deserialize)]
    /// struct Tally { count: i64 }
    ///
    /// let tally = InlineProjection::typed("tally", ["Placed"], |mut t: Tally, _event| {
    ///     t.count += 1;
    ///     Some(t)
    /// });
    /// assert_eq!(tally.initial(), Some(&bson::doc! { "count": 0_i64 }));
    /// ```
    pub fn typed<S, T>(
        name: impl Into<String>,
        handles: impl IntoIterator<Item = T>,
        evolve: impl Fn(S, &RecordedEvent) -> Option<S> + Send + Sync + 'static,
    ) -> Self
    where
        S: Serialize + DeserializeOwned + Default,
        T: Into<String>,
    {
        let initial = bson::serialize_to_document(&S::default()).ok();
        let mut projection = Self::new(name, handles, move |state: Option<Document>, event| {
            let state: S = match state {
                Some(doc) => bson::deserialize_from_document(doc)
                    .map_err(|e| EvolveError(format!("cannot read the state: {e}")))?,
                None => S::default(),
            };
            evolve(state, event)
                .map(|s| {
                    bson::serialize_to_document(&s).map_err(|e| EvolveError(format!("cannot store the state: {e}")))
                })
                .transpose()
        });
        projection.initial = initial;
        projection
    }

    /// The state `evolve` starts from (Emmett's `initialState`).
    pub fn with_initial(mut self, initial: Document) -> Self {
        self.initial = Some(initial);
        self
    }

    /// The schema version stored with each read model (default 1). A read model stored
    /// with another version is refolded from the stream's events by the next append.
    pub fn with_schema_version(mut self, version: u32) -> Self {
        self.schema_version = version;
        self
    }

    /// Only streams of these types have this projection (default: every type).
    pub fn for_stream_types<T: Into<String>>(mut self, types: impl IntoIterator<Item = T>) -> Self {
        self.stream_types = Some(types.into_iter().map(Into::into).collect());
        self
    }

    /// An index over read model fields, e.g. `{ status: 1, total: -1 }`, created (as
    /// `{ "projections.<name>.status": 1, ... }`) on the collection's first use.
    pub fn with_index(mut self, keys: Document) -> Self {
        self.indexes.push(keys);
        self
    }

    /// The name: the read model lives at `projections.<name>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The event types it handles.
    pub fn handled_types(&self) -> &[String] {
        &self.handles
    }

    /// Whether it handles events of `event_type`.
    pub fn handles(&self, event_type: &str) -> bool {
        self.handles.iter().any(|t| t == event_type)
    }

    /// The schema version.
    pub fn schema_version(&self) -> u32 {
        self.schema_version
    }

    /// The initial state.
    pub fn initial(&self) -> Option<&Document> {
        self.initial.as_ref()
    }

    /// The stream types it applies to (`None`: all).
    pub fn stream_types(&self) -> Option<&[String]> {
        self.stream_types.as_deref()
    }

    /// The declared indexes, keys relative to the read model.
    pub fn indexes(&self) -> &[Document] {
        &self.indexes
    }

    /// Whether streams of `stream_type` have this projection.
    pub fn applies_to(&self, stream_type: &str) -> bool {
        self.stream_types.as_ref().is_none_or(|types| types.iter().any(|t| t == stream_type))
    }

    /// Folds one event into `state` (the initial state when `None`).
    pub fn evolve(&self, state: Option<Document>, event: &RecordedEvent) -> Result<Option<Document>, EvolveError> {
        (self.evolve)(state.or_else(|| self.initial.clone()), event)
    }

    /// Checks what MongoDB and the read model layout require of the definition.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |why: &str| ConfigError::InvalidProjection { name: self.name.clone(), why: why.to_owned() };
        if self.name.is_empty() {
            return Err(invalid("the name is empty"));
        }
        if self.name.contains(['.', '\0']) || self.name.starts_with('$') {
            return Err(invalid("the name may not contain '.' or NUL, nor start with '$'"));
        }
        if self.handles.is_empty() {
            return Err(invalid("it handles no event type"));
        }
        if self.handles.iter().any(String::is_empty) {
            return Err(invalid("an event type is empty"));
        }
        if let Some(initial) = &self.initial {
            if initial.contains_key(super::READ_MODEL_METADATA) {
                return Err(invalid("the initial state may not have the reserved `_metadata` field"));
            }
        }
        for keys in &self.indexes {
            let fine = !keys.is_empty()
                && keys.iter().all(|(k, v)| {
                    !k.is_empty()
                        && !k.split('.').any(|p| p.is_empty() || p.starts_with('$'))
                        && matches!(v, bson::Bson::Int32(1 | -1))
                });
            if !fine {
                return Err(invalid("an index must map read model fields to 1 or -1"));
            }
        }
        Ok(())
    }
}
