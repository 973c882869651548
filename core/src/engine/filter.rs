//! Query filters: parsed once per command (so a malformed filter fails even on an empty
//! collection, as on the server), then matched against documents.
//!
//! Supported: implicit equality, `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte`, `$in`, `$nin`,
//! `$exists`, `$not`, `$and`, `$or`, `$nor`, `$comment`. Operators MongoDB has and this
//! engine does not (`$regex`, `$size`, `$elemMatch`, `$expr`, …, and regular-expression
//! values) answer 238 NotImplemented; unknown operators answer 2 as the server does.

use std::cmp::Ordering;

use bson::{Bson, Document};

use super::compare::{bracket, compare, values_equal};
use super::error::{EngineError, EngineResult};
use super::path::{any_reached, LeafArrays, Reached};

/// A parsed filter: the implicit AND of its top-level clauses.
#[derive(Debug)]
pub(crate) struct Filter<'a> {
    clauses: Vec<Expr<'a>>,
}

#[derive(Debug)]
enum Expr<'a> {
    All(Vec<Expr<'a>>),
    Any(Vec<Expr<'a>>),
    NoneOf(Vec<Expr<'a>>),
    Const(bool),
    Field { path: &'a str, pred: Pred<'a> },
}

#[derive(Debug)]
enum Pred<'a> {
    Eq(&'a Bson),
    Ne(&'a Bson),
    Cmp(CmpOp, &'a Bson),
    In(&'a [Bson]),
    Nin(&'a [Bson]),
    Exists(bool),
    Not(Vec<Pred<'a>>),
}

#[derive(Debug, Clone, Copy)]
enum CmpOp {
    Gt,
    Gte,
    Lt,
    Lte,
}

/// Operators MongoDB knows that this engine does not implement.
const UNSUPPORTED_OPERATORS: &[&str] = &[
    "$all",
    "$elemMatch",
    "$size",
    "$type",
    "$regex",
    "$options",
    "$mod",
    "$geoWithin",
    "$geoIntersects",
    "$near",
    "$nearSphere",
    "$within",
    "$bitsAllSet",
    "$bitsAnySet",
    "$bitsAllClear",
    "$bitsAnyClear",
    "$jsonSchema",
    "$expr",
    "$text",
    "$where",
    "$sampleRate",
];

impl<'a> Filter<'a> {
    /// Parses a filter document; errors are the server's (2 BadValue) or 238 for operators
    /// this engine does not implement.
    pub(crate) fn parse(doc: &'a Document) -> EngineResult<Self> {
        let mut clauses = Vec::with_capacity(doc.len());
        parse_into(doc, &mut clauses)?;
        Ok(Self { clauses })
    }

    /// Whether `doc` matches.
    pub(crate) fn matches(&self, doc: &Document) -> bool {
        self.clauses.iter().all(|e| eval(e, doc))
    }

    /// The equality predicates of the top-level AND (implicit or `$and`, a one-clause `$or`,
    /// a one-value `$in`), in filter order: what an upsert copies into the new document and
    /// what an index lookup can use.
    pub(crate) fn equalities(&self) -> Vec<(&'a str, &'a Bson)> {
        let mut out = Vec::new();
        any_equality(&self.clauses, &mut |path, value| {
            out.push((path, value));
            false
        });
        out
    }

    /// The value of the first of [`equalities`](Self::equalities) on `path` that `usable`
    /// accepts.
    pub(crate) fn equality(&self, path: &str, usable: impl Fn(&Bson) -> bool) -> Option<&'a Bson> {
        let mut found = None;
        any_equality(&self.clauses, &mut |p, value| {
            if p == path && usable(value) {
                found = Some(value);
            }
            found.is_some()
        });
        found
    }
}

/// Calls `f` for each equality predicate in order, stopping at (and returning) the first
/// `true`.
fn any_equality<'a>(exprs: &[Expr<'a>], f: &mut dyn FnMut(&'a str, &'a Bson) -> bool) -> bool {
    exprs.iter().any(|expr| match expr {
        Expr::All(children) => any_equality(children, f),
        Expr::Any(children) if children.len() == 1 => any_equality(children, f),
        Expr::Field { path, pred: Pred::Eq(v) } => f(path, v),
        Expr::Field { path, pred: Pred::In([v]) } => f(path, v),
        _ => false,
    })
}

fn parse_into<'a>(doc: &'a Document, out: &mut Vec<Expr<'a>>) -> EngineResult<()> {
    for (key, value) in doc {
        if key.starts_with('$') {
            match key.as_str() {
                "$and" => out.push(Expr::All(parse_list(key, value)?)),
                "$or" => out.push(Expr::Any(parse_list(key, value)?)),
                "$nor" => out.push(Expr::NoneOf(parse_list(key, value)?)),
                "$comment" => {}
                "$alwaysTrue" => out.push(Expr::Const(true)),
                "$alwaysFalse" => out.push(Expr::Const(false)),
                k if UNSUPPORTED_OPERATORS.contains(&k) => return Err(EngineError::not_implemented(format!("the {k} query operator"))),
                k => {
                    return Err(EngineError::bad_value(format!(
                        "unknown top level operator: {k}. If you have a field name that starts with a '$' symbol, consider using $getField or $setField."
                    )))
                }
            }
        } else {
            parse_field(key, value, out)?;
        }
    }
    Ok(())
}

/// The argument of `$and` / `$or` / `$nor`: a non-empty array of filter documents.
fn parse_list<'a>(op: &str, value: &'a Bson) -> EngineResult<Vec<Expr<'a>>> {
    let items = match value {
        Bson::Array(items) if !items.is_empty() => items,
        _ => return Err(EngineError::bad_value(format!("{op} must be a nonempty array"))),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Bson::Document(sub) = item else {
            return Err(EngineError::bad_value("$or/$and/$nor entries need to be full objects"));
        };
        let mut clauses = Vec::with_capacity(sub.len());
        parse_into(sub, &mut clauses)?;
        out.push(Expr::All(clauses));
    }
    Ok(out)
}

fn is_operator_document(value: &Bson) -> Option<&Document> {
    match value {
        Bson::Document(d) if d.keys().next().is_some_and(|k| k.starts_with('$')) => Some(d),
        _ => None,
    }
}

fn parse_field<'a>(path: &'a str, value: &'a Bson, out: &mut Vec<Expr<'a>>) -> EngineResult<()> {
    if let Some(ops) = is_operator_document(value) {
        for (op, arg) in ops {
            let pred = parse_operator(op, arg)?;
            out.push(Expr::Field { path, pred });
        }
        return Ok(());
    }
    if matches!(value, Bson::RegularExpression(_)) {
        return Err(EngineError::not_implemented("regular expression matching"));
    }
    comparable(value)?;
    out.push(Expr::Field { path, pred: Pred::Eq(value) });
    Ok(())
}

/// `ComparisonMatchExpression` refuses an undefined operand (implicit equality, `$eq`,
/// `$ne`, `$gt`, `$gte`, `$lt`, `$lte`) with BadValue, whether or not anything is matched
/// (jstests/core/write/update/upsert_fields.js: `{x: undefined}`, `{_id: {$eq: undefined}}`
/// are write errors).
fn comparable(arg: &Bson) -> EngineResult<()> {
    if matches!(arg, Bson::Undefined) {
        return Err(EngineError::bad_value("cannot compare to undefined"));
    }
    Ok(())
}

fn parse_operator<'a>(op: &str, arg: &'a Bson) -> EngineResult<Pred<'a>> {
    if matches!(op, "$eq" | "$ne" | "$gt" | "$gte" | "$lt" | "$lte") {
        comparable(arg)?;
    }
    Ok(match op {
        "$eq" => Pred::Eq(arg),
        "$ne" => {
            if matches!(arg, Bson::RegularExpression(_)) {
                return Err(EngineError::bad_value("Can't have regex as arg to $ne"));
            }
            Pred::Ne(arg)
        }
        "$gt" => Pred::Cmp(CmpOp::Gt, arg),
        "$gte" => Pred::Cmp(CmpOp::Gte, arg),
        "$lt" => Pred::Cmp(CmpOp::Lt, arg),
        "$lte" => Pred::Cmp(CmpOp::Lte, arg),
        "$in" | "$nin" => {
            let Bson::Array(items) = arg else {
                return Err(EngineError::bad_value(format!("{op} needs an array")));
            };
            for item in items {
                if matches!(item, Bson::RegularExpression(_)) {
                    return Err(EngineError::not_implemented(format!("regular expression matching in {op}")));
                }
                if is_operator_document(item).is_some() {
                    return Err(EngineError::bad_value(format!("cannot nest $ under {op}")));
                }
                if matches!(item, Bson::Undefined) {
                    return Err(EngineError::bad_value("InMatchExpression equality cannot be undefined"));
                }
            }
            if op == "$in" {
                Pred::In(items)
            } else {
                Pred::Nin(items)
            }
        }
        "$exists" => Pred::Exists(truthy(arg)),
        "$not" => match arg {
            Bson::Document(d) if d.is_empty() => return Err(EngineError::bad_value("$not cannot be empty")),
            Bson::Document(d) => {
                let mut preds = Vec::with_capacity(d.len());
                for (inner, inner_arg) in d {
                    if !inner.starts_with('$') {
                        return Err(EngineError::bad_value(format!("unknown operator: {inner}")));
                    }
                    preds.push(parse_operator(inner, inner_arg)?);
                }
                Pred::Not(preds)
            }
            Bson::RegularExpression(_) => {
                return Err(EngineError::not_implemented("regular expression matching in $not"))
            }
            _ => return Err(EngineError::bad_value("$not needs a regex or a document")),
        },
        op if UNSUPPORTED_OPERATORS.contains(&op) => {
            return Err(EngineError::not_implemented(format!("the {op} query operator")));
        }
        op => return Err(EngineError::bad_value(format!("unknown operator: {op}"))),
    })
}

/// `BSONElement::trueValue`: false for 0, false, null and undefined.
fn truthy(value: &Bson) -> bool {
    match value {
        Bson::Boolean(b) => *b,
        Bson::Int32(i) => *i != 0,
        Bson::Int64(i) => *i != 0,
        Bson::Double(d) => *d != 0.0,
        Bson::Null | Bson::Undefined => false,
        _ => true,
    }
}

fn eval(expr: &Expr<'_>, doc: &Document) -> bool {
    match expr {
        Expr::All(children) => children.iter().all(|e| eval(e, doc)),
        Expr::Any(children) => children.iter().any(|e| eval(e, doc)),
        Expr::NoneOf(children) => !children.iter().any(|e| eval(e, doc)),
        Expr::Const(b) => *b,
        Expr::Field { path, pred } => pred_matches(pred, doc, path),
    }
}

fn reach(doc: &Document, path: &str, f: &mut dyn FnMut(Reached<'_>) -> bool) -> bool {
    any_reached(doc, path, LeafArrays::ElementsThenArray, f)
}

fn pred_matches(pred: &Pred<'_>, doc: &Document, path: &str) -> bool {
    match pred {
        Pred::Eq(v) => reach(doc, path, &mut |x| eq_reached(x, v)),
        Pred::Ne(v) => !reach(doc, path, &mut |x| eq_reached(x, v)),
        Pred::Cmp(op, v) => reach(doc, path, &mut |x| cmp_reached(*op, x, v)),
        Pred::In(values) => reach(doc, path, &mut |x| values.iter().any(|v| eq_reached(x, v))),
        Pred::Nin(values) => !reach(doc, path, &mut |x| values.iter().any(|v| eq_reached(x, v))),
        Pred::Exists(true) => reach(doc, path, &mut |x| x.is_some()),
        Pred::Exists(false) => !reach(doc, path, &mut |x| x.is_some()),
        Pred::Not(preds) => !preds.iter().all(|p| pred_matches(p, doc, path)),
    }
}

/// Equality of one reached value: `null` also matches a missing field (and undefined).
fn eq_reached(x: Reached<'_>, v: &Bson) -> bool {
    match (x, v) {
        (None, Bson::Null) => true,
        (Some(Bson::Null | Bson::Undefined), Bson::Null) => true,
        (Some(x), v) => values_equal(x, v),
        (None, _) => false,
    }
}

/// A range comparison: only values of the query value's type bracket compare (MinKey and
/// MaxKey compare with everything); a missing field counts as null.
fn cmp_reached(op: CmpOp, x: Reached<'_>, v: &Bson) -> bool {
    let x = match x {
        Some(x) => x,
        None if matches!(v, Bson::Null) => &Bson::Null,
        None => return false,
    };
    if bracket(x) != bracket(v) && !matches!(v, Bson::MinKey | Bson::MaxKey) {
        return false;
    }
    let order = compare(x, v);
    match op {
        CmpOp::Gt => order == Ordering::Greater,
        CmpOp::Gte => order != Ordering::Less,
        CmpOp::Lt => order == Ordering::Less,
        CmpOp::Lte => order != Ordering::Greater,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::codes;
    use bson::doc;

    fn m(filter: Document, d: Document) -> bool {
        Filter::parse(&filter).expect("valid filter").matches(&d)
    }

    fn err(filter: Document) -> EngineError {
        Filter::parse(&filter).expect_err("invalid filter")
    }

    #[test]
    fn equality_across_numeric_types() {
        assert!(m(doc! { "a": 5 }, doc! { "a": 5_i64 }));
        assert!(m(doc! { "a": 5_i64 }, doc! { "a": 5.0 }));
        assert!(m(doc! { "a": { "$eq": 5.0 } }, doc! { "a": 5 }));
        assert!(!m(doc! { "a": 5 }, doc! { "a": "5" }));
        assert!(m(doc! { "metadata.streamPosition": 3_i64 }, doc! { "metadata": { "streamPosition": 3 } }));
    }

    #[test]
    fn null_matches_missing_and_null() {
        assert!(m(doc! { "a": null }, doc! {}));
        assert!(m(doc! { "a": null }, doc! { "a": null }));
        assert!(m(doc! { "a": null }, doc! { "a": [1, null] }));
        assert!(!m(doc! { "a": null }, doc! { "a": 0 }));
        assert!(!m(doc! { "a": null }, doc! { "a": [] }));
        assert!(m(doc! { "a.b": null }, doc! { "a": [{ "b": 1 }, { "c": 1 }] }));
        assert!(!m(doc! { "a.b": null }, doc! { "a": [1, 2] }));
        assert!(m(doc! { "a": { "$gte": null } }, doc! {}));
        assert!(!m(doc! { "a": { "$gt": null } }, doc! {}));
    }

    #[test]
    fn arrays_match_any_element_or_whole() {
        let d = doc! { "tags": ["x", "y"], "events": [{ "type": "A" }, { "type": "B" }] };
        assert!(m(doc! { "tags": "y" }, d.clone()));
        assert!(m(doc! { "tags": ["x", "y"] }, d.clone()));
        assert!(!m(doc! { "tags": ["y", "x"] }, d.clone()));
        assert!(m(doc! { "events.type": "B" }, d.clone()));
        assert!(m(doc! { "events.1.type": "B" }, d.clone()));
        assert!(!m(doc! { "events.0.type": "B" }, d.clone()));
        assert!(m(doc! { "tags.1": "y" }, d.clone()));
        assert!(m(doc! { "tags": { "$gt": "x" } }, d));
    }

    #[test]
    fn operators() {
        let d = doc! { "a": 5, "s": "x" };
        assert!(m(doc! { "a": { "$ne": 4 } }, d.clone()));
        assert!(!m(doc! { "a": { "$ne": 5_i64 } }, d.clone()));
        assert!(m(doc! { "b": { "$ne": 5 } }, d.clone()));
        assert!(m(doc! { "a": { "$in": [1, 5.0] } }, d.clone()));
        assert!(!m(doc! { "a": { "$nin": [1, 5] } }, d.clone()));
        assert!(m(doc! { "b": { "$in": [null] } }, d.clone()));
        assert!(m(doc! { "a": { "$exists": true }, "b": { "$exists": false } }, d.clone()));
        assert!(m(doc! { "a": { "$gt": 4, "$lte": 5 } }, d.clone()));
        assert!(!m(doc! { "a": { "$lt": 5 } }, d.clone()));
        assert!(!m(doc! { "s": { "$gt": 1 } }, d.clone()), "no comparison across type brackets");
        assert!(m(doc! { "a": { "$not": { "$gt": 6 } } }, d.clone()));
        assert!(m(doc! { "b": { "$not": { "$gt": 6 } } }, d.clone()));
        assert!(m(doc! { "$or": [{ "a": 1 }, { "s": "x" }] }, d.clone()));
        assert!(!m(doc! { "$and": [{ "a": 5 }, { "s": "y" }] }, d.clone()));
        assert!(m(doc! { "$nor": [{ "a": 1 }, { "s": "y" }] }, d.clone()));
        assert!(m(doc! { "$comment": "hi", "a": 5 }, d));
    }

    #[test]
    fn documents_compare_whole() {
        let d = doc! { "m": { "a": 1, "b": 2 } };
        assert!(m(doc! { "m": { "a": 1, "b": 2 } }, d.clone()));
        assert!(!m(doc! { "m": { "b": 2, "a": 1 } }, d.clone()));
        assert!(!m(doc! { "m": { "a": 1 } }, d));
    }

    #[test]
    fn parse_errors_are_the_servers() {
        assert_eq!(err(doc! { "a": { "$foo": 1 } }), EngineError::bad_value("unknown operator: $foo"));
        assert_eq!(err(doc! { "a": { "$eq": 1, "b": 1 } }), EngineError::bad_value("unknown operator: b"));
        assert_eq!(err(doc! { "$foo": 1 }).code, codes::BAD_VALUE);
        assert!(err(doc! { "$foo": 1 }).message.starts_with("unknown top level operator: $foo."));
        assert_eq!(err(doc! { "a": { "$in": 1 } }), EngineError::bad_value("$in needs an array"));
        assert_eq!(err(doc! { "$or": [] }), EngineError::bad_value("$or must be a nonempty array"));
        assert_eq!(err(doc! { "$and": [1] }), EngineError::bad_value("$or/$and/$nor entries need to be full objects"));
        assert_eq!(err(doc! { "a": { "$not": {} } }), EngineError::bad_value("$not cannot be empty"));
        assert_eq!(err(doc! { "a": { "$size": 1 } }).code, codes::NOT_IMPLEMENTED);
        assert_eq!(
            err(doc! { "a": bson::Regex { pattern: "x".try_into().unwrap(), options: "".try_into().unwrap() } }).code,
            codes::NOT_IMPLEMENTED
        );
    }

    #[test]
    fn equalities_for_upserts_and_indexes() {
        let f = doc! {
            "streamName": { "$eq": "order:1" },
            "metadata.streamPosition": 0_i64,
            "$and": [{ "x": 1 }, { "y": { "$gt": 1 } }],
            "$or": [{ "z": 2 }],
            "w": { "$in": [3] },
            "v": { "$in": [3, 4] },
            "n": { "$ne": 1 },
        };
        let parsed = Filter::parse(&f).unwrap();
        let paths: Vec<&str> = parsed.equalities().iter().map(|(p, _)| *p).collect();
        assert_eq!(paths, vec!["streamName", "metadata.streamPosition", "x", "z", "w"]);
    }
}
