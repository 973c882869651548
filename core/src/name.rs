//! Stream names: `{streamType}:{streamId}`, split at the FIRST colon.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The longest stream name accepted, in UTF-8 bytes.
///
/// The name is the key of the unique index on `streamName`; MongoDB before 4.2
/// refused index keys over 1024 bytes, so the limit keeps every server usable.
pub const MAX_STREAM_NAME_BYTES: usize = 1000;

/// The longest stream type accepted, in UTF-8 bytes: the type becomes part of a
/// collection name, and `database.collection` must stay within 255 bytes.
pub const MAX_STREAM_TYPE_BYTES: usize = 100;

/// Why a string is not a valid stream name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum StreamNameError {
    /// The name has no `:` separating type and id.
    #[error("stream name {name:?} has no ':' between the stream type and the stream id")]
    MissingColon { name: String },
    /// Nothing before the first colon.
    #[error("stream name {name:?} has an empty stream type")]
    EmptyType { name: String },
    /// Nothing after the first colon.
    #[error("stream name {name:?} has an empty stream id")]
    EmptyId { name: String },
    /// A NUL character, which MongoDB cannot store in a key or collection name.
    #[error("stream name {name:?} contains a NUL character")]
    ContainsNul { name: String },
    /// Longer than [`MAX_STREAM_NAME_BYTES`].
    #[error("stream name is {len} bytes long; the limit is {max}")]
    TooLong { len: usize, max: usize },
    /// The type cannot form a MongoDB collection name.
    #[error("stream type {stream_type:?} cannot form a collection name: {why}")]
    InvalidType { stream_type: String, why: String },
}

/// A validated stream name.
///
/// ```
/// use streamdoc_core::StreamName;
///
/// let name = StreamName::parse("order:eu:42").unwrap();
/// assert_eq!(name.stream_type(), "order");
/// assert_eq!(name.stream_id(), "eu:42"); // the id keeps its colons
/// assert!(StreamName::parse("order").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StreamName {
    full: String,
    /// Where the type ends and the id begins: the colon, or for a bare name given a
    /// default type, that type.
    split: Split,
}

#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Split {
    Colon(usize),
    DefaultType(String),
}

impl StreamName {
    /// Validates and parses `{streamType}:{streamId}`.
    pub fn parse(name: &str) -> Result<Self, StreamNameError> {
        Self::parse_with_default(name, None)
    }

    /// As [`StreamName::parse`], except that a name without a colon belongs to
    /// `default_type` when one is given: the whole name is then the stream id, and the
    /// stored `streamName` is the name as given. For stores whose callers name streams
    /// by id alone ([`crate::StoreConfig::with_default_stream_type`]).
    ///
    /// ```
    /// use streamdoc_core::StreamName;
    ///
    /// let bare = StreamName::parse_with_default("7f3a", Some("cart")).unwrap();
    /// assert_eq!((bare.as_str(), bare.stream_type(), bare.stream_id()), ("7f3a", "cart", "7f3a"));
    /// // A name with a colon is split as always.
    /// let full = StreamName::parse_with_default("order:eu:1", Some("cart")).unwrap();
    /// assert_eq!((full.stream_type(), full.stream_id()), ("order", "eu:1"));
    /// assert!(StreamName::parse_with_default("7f3a", None).is_err());
    /// ```
    pub fn parse_with_default(name: &str, default_type: Option<&str>) -> Result<Self, StreamNameError> {
        if name.len() > MAX_STREAM_NAME_BYTES {
            return Err(StreamNameError::TooLong { len: name.len(), max: MAX_STREAM_NAME_BYTES });
        }
        if name.contains('\0') {
            return Err(StreamNameError::ContainsNul { name: name.to_owned() });
        }
        let Some(colon) = name.find(':') else {
            let Some(stream_type) = default_type else {
                return Err(StreamNameError::MissingColon { name: name.to_owned() });
            };
            if name.is_empty() {
                return Err(StreamNameError::EmptyId { name: name.to_owned() });
            }
            validate_default_type(stream_type)?;
            return Ok(Self { full: name.to_owned(), split: Split::DefaultType(stream_type.to_owned()) });
        };
        let (stream_type, rest) = (&name[..colon], &name[colon + 1..]);
        if stream_type.is_empty() {
            return Err(StreamNameError::EmptyType { name: name.to_owned() });
        }
        if rest.is_empty() {
            return Err(StreamNameError::EmptyId { name: name.to_owned() });
        }
        validate_stream_type(stream_type)?;
        Ok(Self { full: name.to_owned(), split: Split::Colon(colon) })
    }

    /// Builds `{stream_type}:{stream_id}` and validates it.
    pub fn new(stream_type: &str, stream_id: &str) -> Result<Self, StreamNameError> {
        Self::parse(&format!("{stream_type}:{stream_id}"))
    }

    /// The whole name, as stored in `streamName`.
    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// Everything before the first colon.
    pub fn stream_type(&self) -> &str {
        match &self.split {
            Split::Colon(colon) => &self.full[..*colon],
            Split::DefaultType(stream_type) => stream_type,
        }
    }

    /// Everything after the first colon (may contain further colons).
    pub fn stream_id(&self) -> &str {
        match &self.split {
            Split::Colon(colon) => &self.full[*colon + 1..],
            Split::DefaultType(_) => &self.full,
        }
    }
}

/// The characters a stream type may not contain, because it becomes part of a
/// collection name: `$` is refused by MongoDB in collection names; `/ \ " * < > | ?`
/// and spaces are refused in names on some platforms and in tooling.
const FORBIDDEN_IN_TYPE: &[char] = &['$', '/', '\\', '"', '*', '<', '>', '|', '?', ' '];

/// A default stream type: a valid type, not empty, without a colon.
pub(crate) fn validate_default_type(stream_type: &str) -> Result<(), StreamNameError> {
    if stream_type.is_empty() || stream_type.contains(':') {
        return Err(StreamNameError::InvalidType {
            stream_type: stream_type.to_owned(),
            why: "a default stream type must be non-empty and have no ':'".to_owned(),
        });
    }
    validate_stream_type(stream_type)
}

fn validate_stream_type(stream_type: &str) -> Result<(), StreamNameError> {
    let invalid = |why: &str| StreamNameError::InvalidType { stream_type: stream_type.to_owned(), why: why.to_owned() };
    if stream_type.len() > MAX_STREAM_TYPE_BYTES {
        return Err(invalid(&format!("longer than {MAX_STREAM_TYPE_BYTES} bytes")));
    }
    if let Some(c) = stream_type.chars().find(|c| FORBIDDEN_IN_TYPE.contains(c) || c.is_control()) {
        return Err(invalid(&format!("contains {c:?}")));
    }
    if stream_type.starts_with("system.") {
        return Err(invalid("collection names starting with 'system.' are reserved"));
    }
    if stream_type.starts_with('.') || stream_type.ends_with('.') {
        return Err(invalid("starts or ends with '.'"));
    }
    Ok(())
}

impl fmt::Display for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.full)
    }
}

impl fmt::Debug for StreamName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamName({:?})", self.full)
    }
}

impl std::str::FromStr for StreamName {
    type Err = StreamNameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<&str> for StreamName {
    type Error = StreamNameError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl AsRef<str> for StreamName {
    fn as_ref(&self) -> &str {
        &self.full
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_first_colon() {
        let n = StreamName::parse("a:b:c").unwrap();
        assert_eq!((n.stream_type(), n.stream_id(), n.as_str()), ("a", "b:c", "a:b:c"));
    }

    #[test]
    fn rejects_malformed_names() {
        use StreamNameError::*;
        assert!(matches!(StreamName::parse("nocolon"), Err(MissingColon { .. })));
        assert!(matches!(StreamName::parse(":id"), Err(EmptyType { .. })));
        assert!(matches!(StreamName::parse("type:"), Err(EmptyId { .. })));
        assert!(matches!(StreamName::parse("t:i\0d"), Err(ContainsNul { .. })));
        assert!(matches!(StreamName::parse(&format!("t:{}", "x".repeat(1000))), Err(TooLong { .. })));
        assert!(matches!(StreamName::parse("a$b:1"), Err(InvalidType { .. })));
        assert!(matches!(StreamName::parse("system.users:1"), Err(InvalidType { .. })));
        assert!(matches!(StreamName::parse(&format!("{}:1", "t".repeat(101))), Err(InvalidType { .. })));
    }

    #[test]
    fn the_longest_valid_name_is_accepted() {
        let name = format!("t:{}", "x".repeat(MAX_STREAM_NAME_BYTES - 2));
        assert_eq!(StreamName::parse(&name).unwrap().as_str().len(), MAX_STREAM_NAME_BYTES);
    }
}
