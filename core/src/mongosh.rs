//! Rendering BSON values in mongosh syntax, for command logs and the playground.

use bson::{Bson, Document};

/// A document as mongosh prints it: `{ a: 1, "b-c": "x" }`.
pub fn document(doc: &Document) -> String {
    let mut out = String::new();
    write_document(&mut out, doc);
    out
}

/// One value in mongosh syntax.
pub fn value(value: &Bson) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// A JSON-quoted string.
pub fn string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

fn write_document(out: &mut String, doc: &Document) {
    if doc.is_empty() {
        out.push_str("{}");
        return;
    }
    out.push_str("{ ");
    for (i, (k, v)) in doc.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_key(out, k);
        out.push_str(": ");
        write_value(out, v);
    }
    out.push_str(" }");
}

fn write_key(out: &mut String, key: &str) {
    let bare = !key.is_empty()
        && key
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c == '$' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
    if bare {
        out.push_str(key);
    } else {
        out.push_str(&string(key));
    }
}

fn write_value(out: &mut String, v: &Bson) {
    match v {
        Bson::Double(d) if d.is_nan() => out.push_str("NaN"),
        Bson::Double(d) if d.is_infinite() => out.push_str(if *d > 0.0 { "Infinity" } else { "-Infinity" }),
        Bson::Double(d) if d.fract() == 0.0 && d.abs() < 1e15 => out.push_str(&format!("Double({d:.1})")),
        Bson::Double(d) => out.push_str(&d.to_string()),
        Bson::String(s) => out.push_str(&string(s)),
        Bson::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push_str("[ ");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(out, item);
            }
            out.push_str(" ]");
        }
        Bson::Document(d) => write_document(out, d),
        Bson::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Bson::Null => out.push_str("null"),
        Bson::Undefined => out.push_str("undefined"),
        Bson::Int32(i) => out.push_str(&i.to_string()),
        Bson::Int64(i) => out.push_str(&format!("Long(\"{i}\")")),
        Bson::DateTime(dt) => match dt.try_to_rfc3339_string() {
            Ok(s) => out.push_str(&format!("ISODate(\"{s}\")")),
            Err(_) => out.push_str(&format!("new Date({})", dt.timestamp_millis())),
        },
        Bson::ObjectId(oid) => out.push_str(&format!("ObjectId(\"{}\")", oid.to_hex())),
        Bson::Decimal128(d) => out.push_str(&format!("Decimal128(\"{d}\")")),
        Bson::Timestamp(ts) => out.push_str(&format!("Timestamp({{ t: {}, i: {} }})", ts.time, ts.increment)),
        Bson::RegularExpression(re) => out.push_str(&format!("/{}/{}", re.pattern, re.options)),
        Bson::Binary(b) => {
            let hex: String = b.bytes.iter().map(|byte| format!("{byte:02x}")).collect();
            out.push_str(&format!("Binary.createFromHexString(\"{hex}\", {})", u8::from(b.subtype)));
        }
        Bson::MinKey => out.push_str("MinKey()"),
        Bson::MaxKey => out.push_str("MaxKey()"),
        other => out.push_str(&other.clone().into_relaxed_extjson().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    #[test]
    fn renders_shell_types() {
        let d = doc! { "a-b": 1_i64, "c": [1, "x"], "$set": { "d.e": bson::DateTime::from_millis(0) }, "f": 2.0 };
        assert_eq!(
            document(&d),
            r#"{ "a-b": Long("1"), c: [ 1, "x" ], $set: { "d.e": ISODate("1970-01-01T00:00:00Z") }, f: Double(2.0) }"#
        );
    }
}
