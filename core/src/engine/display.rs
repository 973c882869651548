//! Values rendered as the server renders them inside error messages
//! (`BSONElement::toString`): `{ a: 1, b: "x" }`, `[ 1, 2 ]`, `ObjectId('…')`.

use std::fmt::Write as _;

use bson::spec::BinarySubtype;
use bson::{Bson, Document};

/// `key: value`, as in `Cannot create field 'b' in element {a: "x"}`.
pub(crate) fn element(key: &str, value: &Bson) -> String {
    let mut out = String::new();
    out.push_str(key);
    out.push_str(": ");
    write_value(&mut out, value);
    out
}

/// A value alone.
pub(crate) fn value(value: &Bson) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

/// A document: `{ a: 1 }` (`{}` when empty).
pub(crate) fn document(doc: &Document) -> String {
    let mut out = String::new();
    write_document(&mut out, doc);
    out
}

/// `{_id: ObjectId('…')}` style: the `_id` element of a document, or `no id`, as the
/// server names a document in update error messages.
pub(crate) fn id_element(id: Option<&Bson>) -> String {
    match id {
        Some(v) => element("_id", v),
        None => "no id".to_owned(),
    }
}

/// The server's type name (`typeName(BSONType)`): `string`, `int`, `long`, `object`, ...
pub(crate) fn type_name(value: &Bson) -> &'static str {
    match value {
        Bson::Double(_) => "double",
        Bson::String(_) => "string",
        Bson::Document(_) => "object",
        Bson::Array(_) => "array",
        Bson::Binary(_) => "binData",
        Bson::Undefined => "undefined",
        Bson::ObjectId(_) => "objectId",
        Bson::Boolean(_) => "bool",
        Bson::DateTime(_) => "date",
        Bson::Null => "null",
        Bson::RegularExpression(_) => "regex",
        Bson::DbPointer(_) => "dbPointer",
        Bson::JavaScriptCode(_) => "javascript",
        Bson::Symbol(_) => "symbol",
        Bson::JavaScriptCodeWithScope(_) => "javascriptWithScope",
        Bson::Int32(_) => "int",
        Bson::Timestamp(_) => "timestamp",
        Bson::Int64(_) => "long",
        Bson::Decimal128(_) => "decimal",
        Bson::MinKey => "minKey",
        Bson::MaxKey => "maxKey",
    }
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
        out.push_str(k);
        out.push_str(": ");
        write_value(out, v);
    }
    out.push_str(" }");
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn write_double(out: &mut String, d: f64) {
    if d.is_nan() {
        out.push_str("nan.0");
    } else if d.is_infinite() {
        out.push_str(if d > 0.0 { "inf.0" } else { "-inf.0" });
    } else if d.fract() == 0.0 && d.abs() < 1e16 {
        let _ = write!(out, "{d:.1}");
    } else {
        let _ = write!(out, "{d}");
    }
}

fn write_value(out: &mut String, v: &Bson) {
    match v {
        Bson::Double(d) => write_double(out, *d),
        Bson::String(s) | Bson::Symbol(s) => write_string(out, s),
        Bson::Document(d) => write_document(out, d),
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
        Bson::Binary(b) => {
            let subtype: u8 = if b.subtype == BinarySubtype::Generic { 0 } else { u8::from(b.subtype) };
            let _ = write!(out, "BinData({subtype}, ");
            for byte in &b.bytes {
                let _ = write!(out, "{byte:02X}");
            }
            out.push(')');
        }
        Bson::Undefined => out.push_str("undefined"),
        Bson::ObjectId(id) => {
            let _ = write!(out, "ObjectId('{}')", id.to_hex());
        }
        Bson::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Bson::DateTime(dt) => {
            let _ = write!(out, "new Date({})", dt.timestamp_millis());
        }
        Bson::Null => out.push_str("null"),
        Bson::RegularExpression(re) => {
            let _ = write!(out, "/{}/{}", re.pattern.as_str(), re.options.as_str());
        }
        Bson::DbPointer(p) => {
            let _ = write!(out, "{p:?}");
        }
        Bson::JavaScriptCode(code) => out.push_str(code),
        Bson::JavaScriptCodeWithScope(cws) => {
            out.push_str(&cws.code);
            out.push(' ');
            write_document(out, &cws.scope);
        }
        Bson::Int32(i) => {
            let _ = write!(out, "{i}");
        }
        Bson::Int64(i) => {
            let _ = write!(out, "{i}");
        }
        Bson::Timestamp(ts) => {
            let _ = write!(out, "Timestamp({}, {})", ts.time, ts.increment);
        }
        Bson::Decimal128(d) => {
            let _ = write!(out, "NumberDecimal(\"{d}\")");
        }
        Bson::MinKey => out.push_str("MinKey"),
        Bson::MaxKey => out.push_str("MaxKey"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;
    use bson::oid::ObjectId;

    #[test]
    fn renders_like_the_server() {
        assert_eq!(element("a", &Bson::String("x".into())), "a: \"x\"");
        assert_eq!(value(&Bson::Document(doc! { "a": 1, "b": [1, 2.5] })), "{ a: 1, b: [ 1, 2.5 ] }");
        assert_eq!(value(&Bson::Double(5.0)), "5.0");
        assert_eq!(value(&Bson::Int64(7)), "7");
        let id = ObjectId::from_bytes([0; 12]);
        assert_eq!(id_element(Some(&Bson::ObjectId(id))), "_id: ObjectId('000000000000000000000000')");
        assert_eq!(id_element(None), "no id");
        assert_eq!(document(&Document::new()), "{}");
        assert_eq!(type_name(&Bson::Int32(1)), "int");
    }
}
