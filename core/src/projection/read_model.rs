//! The stored form of a read model: the state's fields, then `_metadata`.

use bson::{doc, Bson, Document};
use serde::{Deserialize, Serialize};

use crate::layout::{position_from_bson, position_to_bson};

/// The top-level field holding a stream's read models, by projection name.
pub const PROJECTIONS: &str = "projections";
/// The field of a read model that holds its [`ReadModelMetadata`].
pub const READ_MODEL_METADATA: &str = "_metadata";

/// What a read model records about itself (Emmett's `MongoDBReadModelMetadata`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadModelMetadata {
    /// The stream's id (the part of its name after the type).
    pub stream_id: String,
    /// The projection's name.
    pub name: String,
    /// The projection's schema version when the read model was written.
    pub schema_version: u32,
    /// The stream's position when the read model was last written: the last event of
    /// the append (or rebuild) that wrote it.
    pub stream_position: u64,
}

impl ReadModelMetadata {
    /// The stored form: `{ streamId, name, schemaVersion: Int32, streamPosition: Int64 }`.
    pub(crate) fn to_document(&self) -> Document {
        doc! {
            "streamId": self.stream_id.clone(),
            "name": self.name.clone(),
            "schemaVersion": i32::try_from(self.schema_version).unwrap_or(i32::MAX),
            "streamPosition": position_to_bson(self.stream_position),
        }
    }

    /// Reads what streamdoc or Emmett wrote (numbers of any integral type).
    pub(crate) fn from_document(doc: &Document) -> Option<Self> {
        let number = |key: &str| doc.get(key).and_then(position_from_bson);
        Some(Self {
            stream_id: doc.get_str("streamId").unwrap_or_default().to_owned(),
            name: doc.get_str("name").ok()?.to_owned(),
            schema_version: u32::try_from(number("schemaVersion")?).ok()?,
            stream_position: number("streamPosition")?,
        })
    }
}

/// One stream's read model of one projection, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadModel {
    /// The stream it belongs to.
    pub stream_name: String,
    /// The stored document: the state's fields and `_metadata`.
    pub document: Document,
}

impl ReadModel {
    /// The state: the stored document without `_metadata`.
    pub fn state(&self) -> Document {
        state_of(&self.document)
    }

    /// The `_metadata` (defaults when absent or malformed: a read model written by hand).
    pub fn metadata(&self) -> ReadModelMetadata {
        self.document.get_document(READ_MODEL_METADATA).ok().and_then(ReadModelMetadata::from_document).unwrap_or(
            ReadModelMetadata { stream_id: String::new(), name: String::new(), schema_version: 0, stream_position: 0 },
        )
    }
}

/// The stored read model of `state`.
pub(crate) fn stored(state: &Document, metadata: &ReadModelMetadata) -> Document {
    let mut out = Document::new();
    for (k, v) in state {
        if k != READ_MODEL_METADATA {
            out.insert(k.clone(), v.clone());
        }
    }
    out.insert(READ_MODEL_METADATA, metadata.to_document());
    out
}

/// The state of a stored read model.
pub(crate) fn state_of(stored: &Document) -> Document {
    let mut state = stored.clone();
    state.remove(READ_MODEL_METADATA);
    state
}

/// The read model of projection `name` in a stream document (`None` when absent or
/// `null`, as Emmett stores a deleted one).
pub(crate) fn stored_in<'d>(stream_document: &'d Document, name: &str) -> Option<&'d Document> {
    match stream_document.get_document(PROJECTIONS).ok()?.get(name)? {
        Bson::Document(d) => Some(d),
        _ => None,
    }
}

/// The path of projection `name`'s read model: `projections.<name>`.
pub(crate) fn path(name: &str) -> String {
    format!("{PROJECTIONS}.{name}")
}
