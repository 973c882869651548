//! RFC 9110 preconditions on an append: `If-Match` and `If-None-Match` as the
//! expected stream version.
//!
//! | header | expected version |
//! |---|---|
//! | none | [`ExpectedVersion::Any`]: no check |
//! | `If-Match: "<n>"` | [`ExpectedVersion::Exact`]`(n)`: the stream is at version `n` |
//! | `If-Match: *` | [`ExpectedVersion::StreamExists`] |
//! | `If-None-Match: *` | [`ExpectedVersion::NoStream`] |
//!
//! On a read (`GET /streams/{streamName}`) only `If-Match` is taken, with the same
//! meaning; `If-None-Match` is refused there, since on a `GET` it would ask for a
//! cache validation (304), which the API does not do.
//!
//! Archiving and closing the books (`POST /streams/{streamName}/archive` and `/close`)
//! take `If-Match` with the same meaning too ([`existing_expected_version`]): they act
//! on a stream that exists, so `If-None-Match` is refused there.
//!
//! An entity tag is the stream version in double quotes, as the `ETag` header of every
//! read and append gives it. Weak tags (`W/"3"`), lists (`"3", "4"`), unquoted numbers,
//! `If-None-Match` with a tag, and both headers at once are refused: each would need a
//! meaning the store does not have.

use axum::http::{header, HeaderMap, HeaderValue};
use streamdoc_core::ExpectedVersion;

/// Why the precondition headers cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PreconditionError {
    /// A header value that is not `*` or one quoted non-negative integer.
    #[error("{header} must be * or one quoted non-negative integer such as \"3\", not {value:?}")]
    InvalidTag { header: &'static str, value: String },
    /// `If-None-Match` with an entity tag.
    #[error("If-None-Match supports only * (the stream must not exist), not {value:?}")]
    NoneMatchTag { value: String },
    /// Both headers.
    #[error("give If-Match or If-None-Match, not both")]
    Both,
    /// `If-None-Match` on a read.
    #[error("If-None-Match is not supported on reads; If-Match: \"<n>\" or * makes a read conditional")]
    NoneMatchOnRead,
    /// `If-None-Match` on an archive or a close, which need the stream to exist.
    #[error("If-None-Match is not supported on {action}: it needs the stream to exist; If-Match: \"<n>\" or * makes it conditional")]
    NoneMatchOnExisting { action: &'static str },
}

/// The entity tag of a stream version: `"<n>"`.
pub fn etag(version: u64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// The expected version the request's precondition headers ask for.
pub fn expected_version(headers: &HeaderMap) -> Result<ExpectedVersion, PreconditionError> {
    let single = |name: header::HeaderName, label: &'static str| -> Result<Option<String>, PreconditionError> {
        let mut values = headers.get_all(&name).iter();
        let Some(first) = values.next() else { return Ok(None) };
        let text = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
        if let Some(second) = values.next() {
            return Err(PreconditionError::InvalidTag {
                header: label,
                value: format!("{}, {}", text(first), text(second)),
            });
        }
        Ok(Some(text(first).trim().to_owned()))
    };
    let if_match = single(header::IF_MATCH, "If-Match")?;
    let if_none_match = single(header::IF_NONE_MATCH, "If-None-Match")?;
    match (if_match, if_none_match) {
        (None, None) => Ok(ExpectedVersion::Any),
        (Some(_), Some(_)) => Err(PreconditionError::Both),
        (Some(value), None) if value == "*" => Ok(ExpectedVersion::StreamExists),
        (Some(value), None) => match parse_tag(&value) {
            Some(n) => Ok(ExpectedVersion::Exact(n)),
            None => Err(PreconditionError::InvalidTag { header: "If-Match", value }),
        },
        (None, Some(value)) if value == "*" => Ok(ExpectedVersion::NoStream),
        (None, Some(value)) => match parse_tag(&value) {
            Some(_) => Err(PreconditionError::NoneMatchTag { value }),
            None => Err(PreconditionError::InvalidTag { header: "If-None-Match", value }),
        },
    }
}

/// The expected version of a read: its `If-Match` ([`expected_version`]'s reading);
/// `If-None-Match` is refused.
pub fn read_expected_version(headers: &HeaderMap) -> Result<ExpectedVersion, PreconditionError> {
    if headers.contains_key(header::IF_NONE_MATCH) {
        return Err(PreconditionError::NoneMatchOnRead);
    }
    expected_version(headers)
}

/// The expected version of an operation on an existing stream (an archive, a close):
/// its `If-Match` ([`expected_version`]'s reading); `If-None-Match` is refused, naming
/// `action`.
pub fn existing_expected_version(
    headers: &HeaderMap,
    action: &'static str,
) -> Result<ExpectedVersion, PreconditionError> {
    if headers.contains_key(header::IF_NONE_MATCH) {
        return Err(PreconditionError::NoneMatchOnExisting { action });
    }
    expected_version(headers)
}

/// `"<digits>"` → the number.
fn parse_tag(value: &str) -> Option<u64> {
    let digits = value.strip_prefix('"')?.strip_suffix('"')?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(header::HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        map
    }

    #[test]
    fn each_header_means_one_expected_version() {
        assert_eq!(expected_version(&headers(&[])), Ok(ExpectedVersion::Any));
        assert_eq!(expected_version(&headers(&[("if-match", "\"3\"")])), Ok(ExpectedVersion::Exact(3)));
        assert_eq!(expected_version(&headers(&[("if-match", "\"0\"")])), Ok(ExpectedVersion::Exact(0)));
        assert_eq!(expected_version(&headers(&[("if-match", "*")])), Ok(ExpectedVersion::StreamExists));
        assert_eq!(expected_version(&headers(&[("if-none-match", "*")])), Ok(ExpectedVersion::NoStream));
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in
            ["3", "\"-1\"", "W/\"3\"", "\"3\", \"4\"", "\"\"", "\"abc\"", "\"3", "", "\"99999999999999999999999\""]
        {
            assert!(expected_version(&headers(&[("if-match", bad)])).is_err(), "{bad:?}");
        }
        assert_eq!(
            expected_version(&headers(&[("if-none-match", "\"3\"")])),
            Err(PreconditionError::NoneMatchTag { value: "\"3\"".into() })
        );
        assert!(expected_version(&headers(&[("if-match", "\"1\""), ("if-match", "\"2\"")])).is_err());
        assert_eq!(
            expected_version(&headers(&[("if-match", "\"1\""), ("if-none-match", "*")])),
            Err(PreconditionError::Both)
        );
    }

    #[test]
    fn an_archive_takes_if_match_only() {
        let archive = |pairs: &[(&str, &str)]| existing_expected_version(&headers(pairs), "an archive");
        assert_eq!(archive(&[]), Ok(ExpectedVersion::Any));
        assert_eq!(archive(&[("if-match", "\"4\"")]), Ok(ExpectedVersion::Exact(4)));
        assert_eq!(archive(&[("if-match", "*")]), Ok(ExpectedVersion::StreamExists));
        let refused = archive(&[("if-none-match", "*")]).unwrap_err();
        assert_eq!(refused, PreconditionError::NoneMatchOnExisting { action: "an archive" });
        assert!(refused.to_string().contains("an archive"), "{refused}");
        assert!(archive(&[("if-match", "4")]).is_err());
    }
}
