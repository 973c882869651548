//! Plain JSON values as BSON: the one rule every layer applies to numbers.
//!
//! JSON (and JavaScript) has one kind of number; BSON has three. A number becomes
//!
//! - an **Int32** when it is an integer in Int32 range,
//! - an **Int64** when it is another integer in Int64 range,
//! - a **Double** otherwise (a fraction, `-0`, an integer past Int64, NaN, ±Infinity).
//!
//! The rule looks at the value, not at how it was written: `1.0` and `1e3` are integers
//! (JavaScript cannot tell `1.0` from `1`, and the same event must give the same
//! document through every layer). The HTTP API reads event `data` and `metadata` with
//! [`to_document`]; the JavaScript package converts each `number` with [`number`].
//! Keys are kept verbatim: `$set` and `a.b` are data, not operators or paths.
//!
//! ```
//! use bson::{doc, Bson};
//! use serde_json::json;
//! use streamdoc_core::json;
//!
//! assert_eq!(json::number(42.0), Bson::Int32(42));
//! assert_eq!(json::number(5_000_000_000.0), Bson::Int64(5_000_000_000));
//! assert_eq!(json::number(1.5), Bson::Double(1.5));
//! let data = json!({ "total": 42, "big": 5000000000_i64, "ratio": 0.5, "$set": 1.0 });
//! assert_eq!(
//!     json::to_document(data.as_object().unwrap()),
//!     doc! { "total": 42, "big": 5_000_000_000_i64, "ratio": 0.5, "$set": 1 }
//! );
//! ```

use bson::{Bson, Document};
use serde_json::{Map, Number, Value};

/// 2^63: the first integer past Int64 (exactly representable as a Double).
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// A number as BSON, by the rule of the [module documentation](self).
pub fn number(n: f64) -> Bson {
    let integral = n.fract() == 0.0 && !(n == 0.0 && n.is_sign_negative());
    if integral && n >= f64::from(i32::MIN) && n <= f64::from(i32::MAX) {
        Bson::Int32(n as i32)
    } else if integral && (-TWO_POW_63..TWO_POW_63).contains(&n) {
        Bson::Int64(n as i64)
    } else {
        Bson::Double(n)
    }
}

/// A JSON number as BSON: integers exactly (serde_json keeps them as integers), others
/// by [`number`].
pub fn json_number(n: &Number) -> Bson {
    match n.as_i64() {
        Some(i) => i32::try_from(i).map(Bson::Int32).unwrap_or(Bson::Int64(i)),
        None => number(n.as_f64().unwrap_or(f64::NAN)),
    }
}

/// A JSON value as BSON, keys verbatim.
///
/// Recurses as deep as the value nests: parse untrusted input with a depth-limited
/// parser (serde_json stops at 128 levels), and let [`crate::limits`] decide what a
/// store accepts.
pub fn to_bson(value: &Value) -> Bson {
    match value {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(n) => json_number(n),
        Value::String(s) => Bson::String(s.clone()),
        Value::Array(items) => Bson::Array(items.iter().map(to_bson).collect()),
        Value::Object(map) => Bson::Document(to_document(map)),
    }
}

/// A JSON object as a BSON document, keys verbatim and in order.
pub fn to_document(map: &Map<String, Value>) -> Document {
    map.iter().map(|(k, v)| (k.clone(), to_bson(v))).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn numbers_follow_their_value() {
        assert_eq!(number(0.0), Bson::Int32(0));
        assert_eq!(number(-0.0), Bson::Double(-0.0));
        assert_eq!(number(2_147_483_647.0), Bson::Int32(i32::MAX));
        assert_eq!(number(2_147_483_648.0), Bson::Int64(2_147_483_648));
        assert_eq!(number(-2_147_483_649.0), Bson::Int64(-2_147_483_649));
        assert_eq!(number(-TWO_POW_63), Bson::Int64(i64::MIN));
        assert_eq!(number(TWO_POW_63), Bson::Double(TWO_POW_63));
        assert_eq!(number(1e300), Bson::Double(1e300));
        assert!(matches!(number(f64::NAN), Bson::Double(d) if d.is_nan()));
        assert_eq!(number(f64::INFINITY), Bson::Double(f64::INFINITY));
    }

    #[test]
    fn json_numbers_agree_with_javascript_numbers() {
        // What JSON.parse would give JavaScript, converted by `number`, is what the JSON
        // text gives here (for integers JavaScript represents exactly).
        for text in
            ["0", "1", "1.0", "1e3", "-7", "2147483648", "5000000000", "0.25", "-0", "1e300", "9007199254740992"]
        {
            let value: Value = serde_json::from_str(text).unwrap();
            let Value::Number(n) = &value else { panic!("{text} is a number") };
            let js: f64 = text.parse().unwrap();
            assert_eq!(json_number(n), number(js), "{text}");
        }
        // Past JavaScript's exact integers the JSON integer is kept exactly.
        let value: Value = serde_json::from_str("9223372036854775807").unwrap();
        assert_eq!(to_bson(&value), Bson::Int64(i64::MAX));
        let value: Value = serde_json::from_str("18446744073709551615").unwrap();
        assert_eq!(to_bson(&value), Bson::Double(18_446_744_073_709_551_615.0));
    }

    #[test]
    fn keys_are_data() {
        let doc = to_document(json!({ "$inc": { "a.b": [1, null, true, "x"] } }).as_object().unwrap());
        assert_eq!(doc, bson::doc! { "$inc": { "a.b": [1, null, true, "x"] } });
    }
}
