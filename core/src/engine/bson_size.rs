//! The exact length of a document's BSON encoding, computed by walking it (no encoding,
//! no allocation).
//!
//! A document is `int32 length, elements, 0x00`; an element is `type byte, key cstring,
//! value`. Length prefixes have a fixed width, so a change to one value changes the size of
//! every enclosing document by exactly the same amount: the engine relies on that to keep
//! a stored document's size up to date from the sizes of the values an update touches.

use bson::spec::BinarySubtype;
use bson::{Bson, Document};

/// The exact length of the BSON encoding of `doc`: the same number as
/// `doc.to_vec().unwrap().len()`, computed without encoding or allocating.
///
/// ```
/// use bson::doc;
/// use streamdoc_core::engine::bson_size;
///
/// let d = doc! { "streamName": "order:1", "n": 1_i64 };
/// assert_eq!(bson_size(&d), d.to_vec().unwrap().len());
/// ```
pub fn bson_size(doc: &Document) -> usize {
    4 + doc.iter().map(|(k, v)| element_size(k, v)).sum::<usize>() + 1
}

/// The size of one document element: type byte, key, NUL, value.
pub(crate) fn element_size(key: &str, value: &Bson) -> usize {
    1 + key.len() + 1 + value_size(value)
}

/// The size of element `index` of an array (its key is the decimal index).
pub(crate) fn array_element_size(index: usize, value: &Bson) -> usize {
    1 + decimal_digits(index) + 1 + value_size(value)
}

/// The size of an array encoded as a BSON (sub)document.
pub(crate) fn array_size(items: &[Bson]) -> usize {
    4 + items.iter().enumerate().map(|(i, v)| array_element_size(i, v)).sum::<usize>() + 1
}

/// The size of a value's encoding, without type byte and key.
pub(crate) fn value_size(value: &Bson) -> usize {
    match value {
        Bson::Double(_) | Bson::DateTime(_) | Bson::Timestamp(_) | Bson::Int64(_) => 8,
        Bson::Int32(_) => 4,
        Bson::Boolean(_) => 1,
        Bson::Null | Bson::Undefined | Bson::MinKey | Bson::MaxKey => 0,
        Bson::ObjectId(_) => 12,
        Bson::Decimal128(_) => 16,
        Bson::String(s) | Bson::JavaScriptCode(s) | Bson::Symbol(s) => string_size(s),
        Bson::Document(d) => bson_size(d),
        Bson::Array(items) => array_size(items),
        Bson::Binary(b) => {
            let old = if b.subtype == BinarySubtype::BinaryOld { 4 } else { 0 };
            4 + 1 + old + b.bytes.len()
        }
        Bson::RegularExpression(re) => re.pattern.as_str().len() + 1 + re.options.as_str().len() + 1,
        Bson::JavaScriptCodeWithScope(cws) => 4 + string_size(&cws.code) + bson_size(&cws.scope),
        Bson::DbPointer(_) => db_pointer_size(value),
    }
}

/// `int32 length, bytes, NUL`.
fn string_size(s: &str) -> usize {
    4 + s.len() + 1
}

/// The namespace of a DBPointer is private in `bson`; encode this rare, deprecated value
/// once to learn its size (`{"": value}` costs 7 bytes besides the value).
fn db_pointer_size(value: &Bson) -> usize {
    let mut probe = Document::new();
    probe.insert("", value.clone());
    probe.to_vec().map(|bytes| bytes.len().saturating_sub(7)).unwrap_or(12 + 5)
}

/// Number of decimal digits of `n` (1 for 0).
pub(crate) fn decimal_digits(mut n: usize) -> usize {
    let mut digits = 1;
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use bson::oid::ObjectId;
    use bson::raw::CString;
    use bson::{doc, Binary, Decimal128, JavaScriptCodeWithScope, Regex, Timestamp};
    use proptest::prelude::*;

    fn key() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_.$ é]{0,8}"
    }

    fn cstring() -> impl Strategy<Value = CString> {
        "[a-z.*+]{0,6}".prop_filter_map("valid cstring", |s| CString::try_from(s).ok())
    }

    fn leaf() -> impl Strategy<Value = Bson> {
        prop_oneof![
            any::<f64>().prop_map(Bson::Double),
            ".{0,12}".prop_map(Bson::String),
            any::<i32>().prop_map(Bson::Int32),
            any::<i64>().prop_map(Bson::Int64),
            any::<bool>().prop_map(Bson::Boolean),
            Just(Bson::Null),
            Just(Bson::Undefined),
            Just(Bson::MinKey),
            Just(Bson::MaxKey),
            any::<[u8; 12]>().prop_map(|b| Bson::ObjectId(ObjectId::from_bytes(b))),
            any::<i64>().prop_map(|ms| Bson::DateTime(bson::DateTime::from_millis(ms))),
            (any::<u32>(), any::<u32>()).prop_map(|(time, increment)| Bson::Timestamp(Timestamp { time, increment })),
            any::<[u8; 16]>().prop_map(|b| Bson::Decimal128(Decimal128::from_bytes(b))),
            (
                prop_oneof![
                    Just(BinarySubtype::Generic),
                    Just(BinarySubtype::BinaryOld),
                    Just(BinarySubtype::UserDefined(0x80))
                ],
                proptest::collection::vec(any::<u8>(), 0..20)
            )
                .prop_map(|(subtype, bytes)| Bson::Binary(Binary { subtype, bytes })),
            (cstring(), cstring()).prop_map(|(pattern, options)| Bson::RegularExpression(Regex { pattern, options })),
            ".{0,8}".prop_map(Bson::JavaScriptCode),
            ".{0,8}".prop_map(Bson::Symbol),
            (".{0,8}", key()).prop_map(|(code, k)| {
                Bson::JavaScriptCodeWithScope(JavaScriptCodeWithScope { code, scope: doc! { k: 1 } })
            }),
        ]
    }

    /// Arbitrary BSON values, nested up to a few levels.
    pub(crate) fn value() -> impl Strategy<Value = Bson> {
        leaf().prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Bson::Array),
                proptest::collection::vec((key(), inner), 0..6)
                    .prop_map(|fields| Bson::Document(fields.into_iter().collect())),
            ]
        })
    }

    /// Arbitrary documents.
    pub(crate) fn document() -> impl Strategy<Value = Document> {
        proptest::collection::vec((key(), value()), 0..8).prop_map(|fields| fields.into_iter().collect())
    }

    proptest! {
        #[test]
        fn bson_size_is_the_encoded_length(d in document()) {
            let encoded = d.to_vec().expect("generated documents encode");
            prop_assert_eq!(bson_size(&d), encoded.len());
        }
    }

    #[test]
    fn known_sizes() {
        assert_eq!(bson_size(&Document::new()), 5);
        // 4 + (1 + 1 + 1 + 4) + 1
        assert_eq!(bson_size(&doc! { "a": 1 }), 12);
        assert_eq!(bson_size(&doc! { "a": [1, 2] }), doc! { "a": [1, 2] }.to_vec().unwrap().len());
        assert_eq!(decimal_digits(0), 1);
        assert_eq!(decimal_digits(9), 1);
        assert_eq!(decimal_digits(10), 2);
        assert_eq!(decimal_digits(12345), 5);
    }

    #[test]
    fn db_pointer_size_matches_encoding() {
        let json =
            serde_json::json!({ "$dbPointer": { "$ref": "db.coll", "$id": { "$oid": "0123456789abcdef01234567" } } });
        let value = Bson::try_from(json).expect("extended JSON dbPointer");
        assert!(matches!(value, Bson::DbPointer(_)));
        let d = doc! { "p": value };
        assert_eq!(bson_size(&d), d.to_vec().unwrap().len());
    }
}
