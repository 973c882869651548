//! BSON comparison as MongoDB does it: a total order over all values, with type brackets
//! (`canonicalizeBSONType`) and numbers compared by value across Int32, Int64, Double and
//! Decimal128.
//!
//! Also the stricter "binary" equality MongoDB uses to decide whether an update changed
//! anything (`Int32(1)` and `Int64(1)` are equal values but not identical).

use std::cmp::Ordering;

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
    // 2^63 as a double; every double >= it exceeds every i64.
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
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
