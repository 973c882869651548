//! BSON comparison as MongoDB does it: a total order over all values, with type brackets
//! (`canonicalizeBSONType`) and numbers compared by value across Int32, Int64, Double and
//! Decimal128.
//!
//! Also the stricter "binary" equality MongoDB uses to decide whether an update changed
//! anything (`Int32(1)` and `Int64(1)` are equal values but not identical).

use std::cmp::Ordering;
use std::hash::{Hash, Hasher};

use bson::{Bson, Document};

/// The canonical type bracket of a value: values of different brackets never compare
/// equal and sort in this order (MinKey < undefined < null < numbers < strings < objects <
/// arrays < binary < ObjectId < bool < date < timestamp < regex < dbPointer < code <
/// code with scope < MaxKey).
pub(crate) fn bracket(value: &Bson) -> u8 {
    match value {
        Bson::MinKey => 0,
        Bson::Undefined => 1,
        Bson::Null => 2,
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => 3,
        Bson::String(_) | Bson::Symbol(_) => 4,
        Bson::Document(_) => 5,
        Bson::Array(_) => 6,
        Bson::Binary(_) => 7,
        Bson::ObjectId(_) => 8,
        Bson::Boolean(_) => 9,
        Bson::DateTime(_) => 10,
        Bson::Timestamp(_) => 11,
        Bson::RegularExpression(_) => 12,
        Bson::DbPointer(_) => 13,
        Bson::JavaScriptCode(_) => 14,
        Bson::JavaScriptCodeWithScope(_) => 15,
        Bson::MaxKey => 16,
    }
}

/// Whether the value is one of the numeric types.
pub(crate) fn is_number(value: &Bson) -> bool {
    bracket(value) == 3
}

/// MongoDB's comparison of two values (`BSONElement::woCompare` without field names).
pub(crate) fn compare(a: &Bson, b: &Bson) -> Ordering {
    let by_bracket = bracket(a).cmp(&bracket(b));
    if by_bracket != Ordering::Equal {
        return by_bracket;
    }
    match (a, b) {
        (Bson::String(x) | Bson::Symbol(x), Bson::String(y) | Bson::Symbol(y)) => x.as_bytes().cmp(y.as_bytes()),
        (Bson::Document(x), Bson::Document(y)) => compare_documents(x, y),
        (Bson::Array(x), Bson::Array(y)) => compare_arrays(x, y),
        (Bson::Binary(x), Bson::Binary(y)) => x
            .bytes
            .len()
            .cmp(&y.bytes.len())
            .then_with(|| u8::from(x.subtype).cmp(&u8::from(y.subtype)))
            .then_with(|| x.bytes.cmp(&y.bytes)),
        (Bson::ObjectId(x), Bson::ObjectId(y)) => x.bytes().cmp(&y.bytes()),
        (Bson::Boolean(x), Bson::Boolean(y)) => x.cmp(y),
        (Bson::DateTime(x), Bson::DateTime(y)) => x.timestamp_millis().cmp(&y.timestamp_millis()),
        (Bson::Timestamp(x), Bson::Timestamp(y)) => (x.time, x.increment).cmp(&(y.time, y.increment)),
        (Bson::RegularExpression(x), Bson::RegularExpression(y)) => {
            x.pattern.as_str().cmp(y.pattern.as_str()).then_with(|| x.options.as_str().cmp(y.options.as_str()))
        }
        // The namespace of a DBPointer is private in `bson`; its Debug form orders it
        // deterministically (the type is deprecated and never used by core).
        (Bson::DbPointer(x), Bson::DbPointer(y)) => format!("{x:?}").cmp(&format!("{y:?}")),
        (Bson::JavaScriptCode(x), Bson::JavaScriptCode(y)) => x.cmp(y),
        (Bson::JavaScriptCodeWithScope(x), Bson::JavaScriptCodeWithScope(y)) => {
            x.code.cmp(&y.code).then_with(|| compare_documents(&x.scope, &y.scope))
        }
        _ if bracket(a) == 3 => compare_numbers(a, b),
        // MinKey, undefined, null, MaxKey: one value each.
        _ => Ordering::Equal,
    }
}

/// Whether two values are equal as a query sees them (`Int32(5) == Int64(5) == 5.0`).
pub(crate) fn values_equal(a: &Bson, b: &Bson) -> bool {
    compare(a, b) == Ordering::Equal
}

/// Documents compare element by element: type bracket, then field name, then value;
/// a prefix sorts first.
pub(crate) fn compare_documents(a: &Document, b: &Document) -> Ordering {
    let mut left = a.iter();
    let mut right = b.iter();
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some((ka, va)), Some((kb, vb))) => {
                let order = bracket(va)
                    .cmp(&bracket(vb))
                    .then_with(|| ka.as_bytes().cmp(kb.as_bytes()))
                    .then_with(|| compare(va, vb));
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

fn compare_arrays(a: &[Bson], b: &[Bson]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let order = compare(x, y);
        if order != Ordering::Equal {
            return order;
        }
    }
    a.len().cmp(&b.len())
}

/// Feeds `value` to `state` so that values [`compare`] finds equal hash alike: numbers by
/// numeric value whatever their type, strings and symbols by their bytes, documents and
/// arrays element by element. For hashed index keys.
pub(crate) fn hash_value<H: Hasher>(value: &Bson, state: &mut H) {
    state.write_u8(bracket(value));
    match value {
        Bson::Int32(_) | Bson::Int64(_) | Bson::Double(_) | Bson::Decimal128(_) => hash_number(value, state),
        Bson::String(s) | Bson::Symbol(s) => s.hash(state),
        Bson::Document(d) => hash_document(d, state),
        Bson::Array(items) => {
            state.write_usize(items.len());
            for item in items {
                hash_value(item, state);
            }
        }
        Bson::Binary(b) => {
            state.write_u8(u8::from(b.subtype));
            b.bytes.hash(state);
        }
        Bson::ObjectId(id) => id.bytes().hash(state),
        Bson::Boolean(b) => b.hash(state),
        Bson::DateTime(d) => d.timestamp_millis().hash(state),
        Bson::Timestamp(t) => (t.time, t.increment).hash(state),
        Bson::RegularExpression(r) => (r.pattern.as_str(), r.options.as_str()).hash(state),
        // Compared by their Debug form (see `compare`).
        Bson::DbPointer(p) => format!("{p:?}").hash(state),
        Bson::JavaScriptCode(code) => code.hash(state),
        Bson::JavaScriptCodeWithScope(c) => {
            c.code.hash(state);
            hash_document(&c.scope, state);
        }
        // One value each.
        Bson::MinKey | Bson::Undefined | Bson::Null | Bson::MaxKey => {}
    }
}

fn hash_document<H: Hasher>(doc: &Document, state: &mut H) {
    state.write_usize(doc.len());
    for (key, value) in doc {
        key.hash(state);
        hash_value(value, state);
    }
}

/// Numbers that compare equal are an `i64` and a double holding exactly that integer, or
/// two equal doubles (NaN equals NaN, -0 equals 0): integral doubles hash as the integer.
fn hash_number<H: Hasher>(value: &Bson, state: &mut H) {
    match as_num(value) {
        Num::Int(i) => state.write_i64(i),
        Num::Float(d) if d.is_nan() => state.write_u8(0),
        Num::Float(d) if d.trunc() == d && (-TWO_POW_63..TWO_POW_63).contains(&d) => state.write_i64(d as i64),
        Num::Float(d) => state.write_u64(d.to_bits()),
    }
}

/// 2^63 as a double; every double >= it exceeds every i64.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// A number widened for comparison.
enum Num {
    Int(i64),
    Float(f64),
}

fn as_num(value: &Bson) -> Num {
    match value {
        Bson::Int32(i) => Num::Int(i64::from(*i)),
        Bson::Int64(i) => Num::Int(*i),
        Bson::Double(d) => Num::Float(*d),
        Bson::Decimal128(d) => Num::Float(decimal_to_f64(d)),
        _ => Num::Float(f64::NAN),
    }
}

/// An approximation of a Decimal128 as a double (bson has no decimal arithmetic).
pub(crate) fn decimal_to_f64(d: &bson::Decimal128) -> f64 {
    d.to_string().parse::<f64>().unwrap_or(f64::NAN)
}

fn compare_numbers(a: &Bson, b: &Bson) -> Ordering {
    match (as_num(a), as_num(b)) {
        (Num::Int(x), Num::Int(y)) => x.cmp(&y),
        (Num::Float(x), Num::Float(y)) => compare_doubles(x, y),
        (Num::Int(x), Num::Float(y)) => compare_int_double(x, y),
        (Num::Float(x), Num::Int(y)) => compare_int_double(y, x).reverse(),
    }
}

/// NaN equals NaN and sorts below every other number (MongoDB's order).
fn compare_doubles(x: f64, y: f64) -> Ordering {
    match (x.is_nan(), y.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
    }
}

/// Exact comparison of an integer with a double (no rounding of large integers).
fn compare_int_double(i: i64, d: f64) -> Ordering {
    if d.is_nan() {
        return Ordering::Greater;
    }
    if d >= TWO_POW_63 {
        return Ordering::Less;
    }
    if d < -TWO_POW_63 {
        return Ordering::Greater;
    }
    let truncated = d.trunc();
    // In range: the truncated double is an exact i64.
    let whole = truncated as i64;
    match i.cmp(&whole) {
        Ordering::Equal if d > truncated => Ordering::Less,
        Ordering::Equal if d < truncated => Ordering::Greater,
        other => other,
    }
}

/// Binary identity, as MongoDB decides whether `$set` or `$inc` changed a value: same
/// type, same bits, same field names in the same order.
pub(crate) fn identical(a: &Bson, b: &Bson) -> bool {
    match (a, b) {
        (Bson::Double(x), Bson::Double(y)) => x.to_bits() == y.to_bits(),
        (Bson::Document(x), Bson::Document(y)) => identical_documents(x, y),
        (Bson::Array(x), Bson::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| identical(p, q)),
        (Bson::JavaScriptCodeWithScope(x), Bson::JavaScriptCodeWithScope(y)) => {
            x.code == y.code && identical_documents(&x.scope, &y.scope)
        }
        _ => a == b,
    }
}

/// [`identical`] for documents (field order matters).
pub(crate) fn identical_documents(a: &Document, b: &Document) -> bool {
    a.len() == b.len() && a.iter().zip(b.iter()).all(|((ka, va), (kb, vb))| ka == kb && identical(va, vb))
}

/// A value with MongoDB's total order, usable as a `BTreeMap` key (index keys).
#[derive(Debug, Clone)]
pub(crate) struct Ordered(pub(crate) Bson);

impl PartialEq for Ordered {
    fn eq(&self, other: &Self) -> bool {
        compare(&self.0, &other.0) == Ordering::Equal
    }
}

impl Eq for Ordered {}

impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.0, &other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;
    use proptest::prelude::*;

    #[test]
    fn numbers_compare_by_value_across_types() {
        assert!(values_equal(&Bson::Int32(5), &Bson::Int64(5)));
        assert!(values_equal(&Bson::Int64(5), &Bson::Double(5.0)));
        assert_eq!(compare(&Bson::Int32(5), &Bson::Double(5.5)), Ordering::Less);
        assert_eq!(compare(&Bson::Double(-0.5), &Bson::Int64(0)), Ordering::Less);
        assert_eq!(compare(&Bson::Double(f64::NAN), &Bson::Int64(i64::MIN)), Ordering::Less);
        assert!(values_equal(&Bson::Double(f64::NAN), &Bson::Double(f64::NAN)));
        // 2^53 + 1 is not representable as a double: no false equality.
        assert_eq!(compare(&Bson::Int64((1 << 53) + 1), &Bson::Double(9_007_199_254_740_992.0)), Ordering::Greater);
        assert_eq!(compare(&Bson::Int64(i64::MAX), &Bson::Double(9.3e18)), Ordering::Less);
    }

    #[test]
    fn brackets_order_types() {
        assert_eq!(compare(&Bson::Null, &Bson::Int32(0)), Ordering::Less);
        assert_eq!(compare(&Bson::Int64(i64::MAX), &Bson::String(String::new())), Ordering::Less);
        assert_eq!(compare(&Bson::MaxKey, &Bson::Boolean(true)), Ordering::Greater);
        assert!(!values_equal(&Bson::String("1".into()), &Bson::Int32(1)));
        assert!(values_equal(&Bson::String("x".into()), &Bson::Symbol("x".into())));
    }

    #[test]
    fn documents_compare_with_field_names_and_order() {
        assert!(values_equal(&Bson::Document(doc! { "a": 1 }), &Bson::Document(doc! { "a": 1_i64 })));
        assert!(!values_equal(&Bson::Document(doc! { "a": 1, "b": 2 }), &Bson::Document(doc! { "b": 2, "a": 1 })));
        assert_eq!(compare_documents(&doc! { "a": 1 }, &doc! { "a": 1, "b": 1 }), Ordering::Less);
    }

    fn hash_of(value: &Bson) -> u64 {
        let mut state = std::collections::hash_map::DefaultHasher::new();
        hash_value(value, &mut state);
        state.finish()
    }

    /// Values from a small pool, so that many pairs compare equal across types.
    fn alike() -> impl Strategy<Value = Bson> {
        let number = prop_oneof![
            (-3_i32..3).prop_map(Bson::Int32),
            prop_oneof![Just(i64::MIN), Just(i64::MAX), Just(1 << 53), Just((1 << 53) + 1), -3_i64..3]
                .prop_map(Bson::Int64),
            prop_oneof![
                Just(f64::NAN),
                Just(-f64::NAN),
                Just(-0.0),
                Just(0.5),
                Just(f64::INFINITY),
                Just(9_223_372_036_854_775_808.0),
                Just(-9_223_372_036_854_775_808.0),
                Just(9_007_199_254_740_992.0),
                (-3_i32..3).prop_map(f64::from),
            ]
            .prop_map(Bson::Double),
            prop_oneof![Just("1"), Just("1.0"), Just("-0"), Just("0.5"), Just("NaN"), Just("9007199254740993")]
                .prop_map(|s| Bson::Decimal128(s.parse().expect("a decimal"))),
        ];
        let leaf = prop_oneof![
            4 => number,
            1 => prop_oneof![Just("a"), Just("")].prop_map(|s| Bson::String(s.to_owned())),
            1 => prop_oneof![Just("a"), Just("")].prop_map(|s| Bson::Symbol(s.to_owned())),
            1 => Just(Bson::Null),
        ];
        leaf.prop_recursive(2, 8, 2, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..2).prop_map(Bson::Array),
                inner.prop_map(|v| Bson::Document(doc! { "k": v })),
            ]
        })
    }

    proptest! {
        /// Equal values hash alike, whatever their types: a hashed index finds them.
        #[test]
        fn equal_values_hash_alike(values in proptest::collection::vec(alike(), 2..12)) {
            for a in &values {
                for b in &values {
                    if values_equal(a, b) {
                        prop_assert_eq!(hash_of(a), hash_of(b), "{:?} == {:?}", a, b);
                    }
                }
            }
        }

        #[test]
        fn equal_arbitrary_values_hash_alike(a in crate::engine::bson_size::tests::value(), b in crate::engine::bson_size::tests::value()) {
            prop_assert_eq!(hash_of(&a), hash_of(&a.clone()));
            if values_equal(&a, &b) {
                prop_assert_eq!(hash_of(&a), hash_of(&b));
            }
        }
    }

    #[test]
    fn numbers_hash_by_value() {
        let five = [Bson::Int32(5), Bson::Int64(5), Bson::Double(5.0), Bson::Decimal128("5".parse().unwrap())];
        for n in &five {
            assert_eq!(hash_of(n), hash_of(&five[0]));
        }
        assert_eq!(hash_of(&Bson::Double(-0.0)), hash_of(&Bson::Int32(0)));
        assert_eq!(hash_of(&Bson::Double(f64::NAN)), hash_of(&Bson::Double(-f64::NAN)));
        assert_eq!(hash_of(&Bson::String("x".into())), hash_of(&Bson::Symbol("x".into())));
        assert_ne!(hash_of(&Bson::String("1".into())), hash_of(&Bson::Int32(1)));
    }

    #[test]
    fn identical_is_stricter_than_equal() {
        assert!(!identical(&Bson::Int32(1), &Bson::Int64(1)));
        assert!(identical(&Bson::Double(f64::NAN), &Bson::Double(f64::NAN)));
        assert!(!identical(&Bson::Double(0.0), &Bson::Double(-0.0)));
        assert!(!identical(&Bson::Document(doc! { "a": 1, "b": 2 }), &Bson::Document(doc! { "b": 2, "a": 1 })));
        assert!(identical(
            &Bson::Document(doc! { "a": [1, { "b": 2.5 }] }),
            &Bson::Document(doc! { "a": [1, { "b": 2.5 }] })
        ));
    }
}
