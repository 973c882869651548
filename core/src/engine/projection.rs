//! Find projections: inclusion, exclusion, `_id` rules, dotted paths (into arrays of
//! subdocuments), nested projection documents and `$slice`.
//!
//! A projection whose only fields are `$slice`s is an exclusion (everything comes back,
//! arrays sliced). Inclusion and exclusion cannot be mixed, except for `_id`. The output
//! keeps the document's field order. Positional (`a.$`), `$elemMatch`, `$meta` and
//! computed fields answer 238 NotImplemented.

use bson::{Bson, Document};

use super::compare::decimal_to_f64;
use super::display;
use super::error::{code, EngineError, EngineResult};
use crate::command::codes;

/// A parsed, non-empty projection.
#[derive(Debug)]
pub(crate) struct Projection<'a> {
    inclusion: bool,
    tree: Tree<'a>,
}

#[derive(Debug, Default)]
struct Tree<'a> {
    fields: Vec<(&'a str, Node<'a>)>,
}

#[derive(Debug)]
enum Node<'a> {
    Include,
    Exclude,
    Slice(Slice),
    Sub(Tree<'a>),
}

#[derive(Debug, Clone, Copy)]
enum Slice {
    /// `$slice: n`: the first `n`, or the last `|n|` when negative.
    Count(i64),
    /// `$slice: [skip, limit]`.
    Range { skip: i64, limit: i64 },
}

impl<'a> Tree<'a> {
    fn get(&self, name: &str) -> Option<&Node<'a>> {
        self.fields.iter().find(|(n, _)| *n == name).map(|(_, node)| node)
    }

    fn insert(&mut self, parts: &[&'a str], leaf: Node<'a>, full: &str) -> EngineResult<()> {
        let Some((first, rest)) = parts.split_first() else {
            return Ok(());
        };
        let collision = || EngineError::new(code::PROJECTION_PATH_COLLISION, format!("Path collision at {full}"));
        match self.fields.iter_mut().find(|(n, _)| n == first) {
            Some((_, Node::Sub(sub))) if !rest.is_empty() => sub.insert(rest, leaf, full),
            Some(_) => Err(collision()),
            None if rest.is_empty() => {
                self.fields.push((first, leaf));
                Ok(())
            }
            None => {
                let mut sub = Tree::default();
                sub.insert(rest, leaf, full)?;
                self.fields.push((first, Node::Sub(sub)));
                Ok(())
            }
        }
    }
}

/// One projected path before the tree is built.
struct Entry<'a> {
    parts: Vec<&'a str>,
    node: Node<'a>,
}

impl<'a> Projection<'a> {
    /// Parses a projection; `None` for `{}` (the whole document). `slice_supported: false`
    /// refuses every document-valued projection with 238, as FerretDB 1.24 does.
    pub(crate) fn parse(spec: &'a Document, slice_supported: bool) -> EngineResult<Option<Self>> {
        if spec.is_empty() {
            return Ok(None);
        }
        let mut entries = Vec::new();
        flatten(spec, &mut Vec::new(), &mut entries, slice_supported)?;

        let mut mode: Option<bool> = None;
        let mut id_included: Option<bool> = None;
        for entry in &entries {
            let include = match entry.node {
                Node::Include => true,
                Node::Exclude => false,
                Node::Slice(_) | Node::Sub(_) => continue,
            };
            if entry.parts == ["_id"] {
                id_included = Some(include);
                continue;
            }
            match mode {
                None => mode = Some(include),
                Some(true) if !include => {
                    return Err(EngineError::new(
                        code::EXCLUSION_IN_INCLUSION_PROJECTION,
                        format!("Cannot do exclusion on field {} in inclusion projection", entry.parts.join(".")),
                    ))
                }
                Some(false) if include => {
                    return Err(EngineError::new(
                        code::INCLUSION_IN_EXCLUSION_PROJECTION,
                        format!("Cannot do inclusion on field {} in exclusion projection", entry.parts.join(".")),
                    ))
                }
                Some(_) => {}
            }
        }
        let inclusion = mode.unwrap_or(id_included == Some(true));

        let mut tree = Tree::default();
        for entry in entries {
            let full = entry.parts.join(".");
            tree.insert(&entry.parts, entry.node, &full)?;
        }
        if inclusion && tree.get("_id").is_none() {
            tree.fields.push(("_id", Node::Include));
        }
        Ok(Some(Self { inclusion, tree }))
    }

    /// The projected copy of `doc`.
    pub(crate) fn apply(&self, doc: &Document) -> Document {
        if self.inclusion {
            include_document(doc, &self.tree, false)
        } else {
            exclude_document(doc, &self.tree, false)
        }
    }
}

fn flatten<'a>(
    spec: &'a Document,
    prefix: &mut Vec<&'a str>,
    out: &mut Vec<Entry<'a>>,
    slice_supported: bool,
) -> EngineResult<()> {
    for (key, value) in spec {
        if key == "$" || key.ends_with(".$") {
            return Err(EngineError::not_implemented("the positional projection operator"));
        }
        let depth = prefix.len();
        prefix.extend(key.split('.'));
        let node = match value {
            Bson::Document(sub) => {
                if !slice_supported {
                    return Err(EngineError::new(
                        codes::NOT_IMPLEMENTED,
                        format!("projection expression {} is not supported", display::document(sub)),
                    ));
                }
                match sub.keys().next() {
                    Some(op) if op.starts_with('$') => operator(op, sub)?,
                    Some(_) => {
                        flatten(sub, prefix, out, slice_supported)?;
                        prefix.truncate(depth);
                        continue;
                    }
                    None => {
                        return Err(EngineError::new(
                            51270,
                            format!(
                                "An empty sub-projection is not a valid value. Found empty object at path {}",
                                prefix.join(".")
                            ),
                        ))
                    }
                }
            }
            Bson::Boolean(b) => include_or_exclude(*b),
            Bson::Int32(i) => include_or_exclude(*i != 0),
            Bson::Int64(i) => include_or_exclude(*i != 0),
            Bson::Double(d) => include_or_exclude(*d != 0.0),
            Bson::Decimal128(d) => include_or_exclude(decimal_to_f64(d) != 0.0),
            _ => return Err(EngineError::not_implemented("a projection with a computed (literal) value")),
        };
        out.push(Entry { parts: prefix.clone(), node });
        prefix.truncate(depth);
    }
    Ok(())
}

fn include_or_exclude<'a>(include: bool) -> Node<'a> {
    if include {
        Node::Include
    } else {
        Node::Exclude
    }
}

/// A projection operator document such as `{ $slice: 2 }`.
fn operator<'a>(op: &str, spec: &Document) -> EngineResult<Node<'a>> {
    if spec.len() != 1 {
        return Err(EngineError::new(
            15983,
            format!(
                "an expression specification must contain exactly one field, the name of the expression. Found {} fields in {}",
                spec.len(),
                display::document(spec)
            ),
        ));
    }
    match (op, spec.get(op)) {
        ("$slice", Some(arg)) => Ok(Node::Slice(parse_slice(arg)?)),
        _ => Err(EngineError::not_implemented(format!("the {op} projection"))),
    }
}

fn parse_slice(arg: &Bson) -> EngineResult<Slice> {
    match arg {
        Bson::Array(items) => {
            let [skip, limit] = items.as_slice() else {
                return Err(EngineError::bad_value("$slice array wrong size"));
            };
            let (Some(skip), Some(limit)) = (number(skip), number(limit)) else {
                return Err(EngineError::bad_value("$slice array argument must be two numbers"));
            };
            if limit <= 0 {
                return Err(EngineError::bad_value("$slice limit must be positive"));
            }
            Ok(Slice::Range { skip, limit })
        }
        other => match number(other) {
            Some(n) => Ok(Slice::Count(n)),
            None => Err(EngineError::bad_value("$slice only supports numbers and [skip, limit] arrays")),
        },
    }
}

/// A number truncated to an integer (saturating; NaN is 0).
fn number(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        Bson::Double(d) => Some(*d as i64),
        Bson::Decimal128(d) => Some(decimal_to_f64(d) as i64),
        _ => None,
    }
}

fn slice_value(value: &Bson, slice: Slice) -> Bson {
    let Bson::Array(items) = value else {
        return value.clone();
    };
    let len = items.len();
    let clamp = |n: u64| usize::try_from(n).unwrap_or(usize::MAX).min(len);
    let (start, end) = match slice {
        Slice::Count(n) if n >= 0 => (0, clamp(n.unsigned_abs())),
        Slice::Count(n) => (len - clamp(n.unsigned_abs()), len),
        Slice::Range { skip, limit } => {
            let start = if skip >= 0 { clamp(skip.unsigned_abs()) } else { len - clamp(skip.unsigned_abs()) };
            (start, start.saturating_add(clamp(limit.unsigned_abs())).min(len))
        }
    };
    Bson::Array(items[start..end].to_vec())
}

// `nested`: the document lies in an array that is itself an element of an array. There a
// `$slice` does not apply and the value comes back whole, while inclusion and exclusion
// still reach every depth (jstests/core/query/project/slice1.js: "$slice operator goes
// only 1 level deep into nested arrays"; `{a: {b: {$slice: [1, 1]}}}` leaves
// `{a: [[{b: [1, 2, 3]}]]}` as it is).

fn include_document(doc: &Document, tree: &Tree<'_>, nested: bool) -> Document {
    let mut out = Document::new();
    for (key, value) in doc {
        match tree.get(key) {
            Some(Node::Include) => {
                out.insert(key.clone(), value.clone());
            }
            Some(Node::Slice(_)) if nested => {
                out.insert(key.clone(), value.clone());
            }
            Some(Node::Slice(slice)) => {
                out.insert(key.clone(), slice_value(value, *slice));
            }
            Some(Node::Sub(sub)) => match value {
                Bson::Document(d) => {
                    out.insert(key.clone(), include_document(d, sub, nested));
                }
                Bson::Array(items) => {
                    out.insert(key.clone(), include_array(items, sub, nested));
                }
                _ => {}
            },
            Some(Node::Exclude) | None => {}
        }
    }
    out
}

fn include_array(items: &[Bson], tree: &Tree<'_>, nested: bool) -> Bson {
    Bson::Array(
        items
            .iter()
            .filter_map(|item| match item {
                Bson::Document(d) => Some(Bson::Document(include_document(d, tree, nested))),
                Bson::Array(inner) => Some(include_array(inner, tree, true)),
                _ => None,
            })
            .collect(),
    )
}

fn exclude_document(doc: &Document, tree: &Tree<'_>, nested: bool) -> Document {
    let mut out = Document::new();
    for (key, value) in doc {
        match tree.get(key) {
            Some(Node::Exclude) => {}
            Some(Node::Slice(_)) if nested => {
                out.insert(key.clone(), value.clone());
            }
            Some(Node::Slice(slice)) => {
                out.insert(key.clone(), slice_value(value, *slice));
            }
            Some(Node::Sub(sub)) => {
                out.insert(key.clone(), exclude_value(value, sub, nested));
            }
            Some(Node::Include) | None => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    out
}

fn exclude_value(value: &Bson, tree: &Tree<'_>, nested: bool) -> Bson {
    match value {
        Bson::Document(d) => Bson::Document(exclude_document(d, tree, nested)),
        Bson::Array(items) => Bson::Array(
            items.iter().map(|item| exclude_value(item, tree, nested || matches!(item, Bson::Array(_)))).collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    fn project(spec: Document, d: &Document) -> Document {
        match Projection::parse(&spec, true).expect("valid projection") {
            Some(p) => p.apply(d),
            None => d.clone(),
        }
    }

    fn err(spec: Document) -> EngineError {
        Projection::parse(&spec, true).expect_err("invalid projection")
    }

    fn stream() -> Document {
        doc! {
            "_id": 1,
            "streamName": "s",
            "events": [
                { "type": "A", "metadata": { "eventId": "e1", "p": 1 } },
                { "type": "B", "metadata": { "eventId": "e2", "p": 2 } },
                { "type": "C", "metadata": { "eventId": "e3", "p": 3 } },
            ],
            "metadata": { "streamPosition": 3_i64, "x": 1 },
        }
    }

    #[test]
    fn inclusion_keeps_document_order_and_id() {
        let d = stream();
        assert_eq!(
            project(doc! { "metadata.streamPosition": 1, "streamName": 1 }, &d),
            doc! {
                "_id": 1, "streamName": "s", "metadata": { "streamPosition": 3_i64 }
            }
        );
        assert_eq!(project(doc! { "streamName": 1, "_id": 0 }, &d), doc! { "streamName": "s" });
        assert_eq!(project(doc! { "_id": 1 }, &d), doc! { "_id": 1 });
        assert_eq!(project(doc! { "metadata": { "x": 1 } }, &d), doc! { "_id": 1, "metadata": { "x": 1 } });
    }

    #[test]
    fn paths_into_arrays_of_subdocuments() {
        let d = stream();
        assert_eq!(
            project(doc! { "events.metadata.eventId": 1, "_id": 0 }, &d),
            doc! {
                "events": [
                    { "metadata": { "eventId": "e1" } },
                    { "metadata": { "eventId": "e2" } },
                    { "metadata": { "eventId": "e3" } },
                ]
            }
        );
        let excluded = project(doc! { "events.metadata": 0, "metadata": 0 }, &d);
        assert_eq!(
            excluded,
            doc! { "_id": 1, "streamName": "s", "events": [{ "type": "A" }, { "type": "B" }, { "type": "C" }] }
        );
    }

    #[test]
    fn exclusion() {
        let d = stream();
        assert_eq!(project(doc! { "events": 0, "metadata": 0 }, &d), doc! { "_id": 1, "streamName": "s" });
        assert_eq!(project(doc! { "_id": 0 }, &d).keys().next().map(String::as_str), Some("streamName"));
    }

    fn event_types(d: &Document) -> Vec<String> {
        d.get_array("events")
            .unwrap()
            .iter()
            .map(|e| e.as_document().unwrap().get_str("type").unwrap().to_owned())
            .collect()
    }

    #[test]
    fn slice_forms() {
        let d = stream();
        let only_slice = project(doc! { "events": { "$slice": -2 } }, &d);
        assert_eq!(event_types(&only_slice), vec!["B", "C"]);
        assert!(only_slice.contains_key("metadata"), "a $slice-only projection is an exclusion");
        assert_eq!(event_types(&project(doc! { "events": { "$slice": 2 } }, &d)), vec!["A", "B"]);
        assert_eq!(event_types(&project(doc! { "events": { "$slice": 10 } }, &d)), vec!["A", "B", "C"]);
        assert_eq!(event_types(&project(doc! { "events": { "$slice": -10 } }, &d)), vec!["A", "B", "C"]);
        assert_eq!(event_types(&project(doc! { "events": { "$slice": [1, 1] } }, &d)), vec!["B"]);
        assert_eq!(event_types(&project(doc! { "events": { "$slice": [1, 5] } }, &d)), vec!["B", "C"]);
        assert!(event_types(&project(doc! { "events": { "$slice": [5, 1] } }, &d)).is_empty(), "skip past the end");
        assert_eq!(event_types(&project(doc! { "events": { "$slice": [-2, 1] } }, &d)), vec!["B"]);
        assert_eq!(
            event_types(&project(doc! { "events": { "$slice": [-10, 2] } }, &d)),
            vec!["A", "B"],
            "clamped to 0"
        );
        assert_eq!(project(doc! { "streamName": { "$slice": 1 } }, &d).get_str("streamName").unwrap(), "s");
        let with_inclusion = project(doc! { "events": { "$slice": -1 }, "metadata.streamPosition": 1 }, &d);
        assert_eq!(
            with_inclusion,
            doc! {
                "_id": 1,
                "events": [{ "type": "C", "metadata": { "eventId": "e3", "p": 3 } }],
                "metadata": { "streamPosition": 3_i64 },
            }
        );
    }

    #[test]
    fn slice_errors() {
        assert_eq!(err(doc! { "e": { "$slice": [1, 0] } }), EngineError::bad_value("$slice limit must be positive"));
        assert_eq!(err(doc! { "e": { "$slice": [1, -1] } }), EngineError::bad_value("$slice limit must be positive"));
        assert_eq!(err(doc! { "e": { "$slice": [1] } }), EngineError::bad_value("$slice array wrong size"));
        assert_eq!(
            err(doc! { "e": { "$slice": [1, "x"] } }),
            EngineError::bad_value("$slice array argument must be two numbers")
        );
        assert_eq!(
            err(doc! { "e": { "$slice": "x" } }),
            EngineError::bad_value("$slice only supports numbers and [skip, limit] arrays")
        );
        assert_eq!(err(doc! { "e": { "$elemMatch": { "a": 1 } } }).code, codes::NOT_IMPLEMENTED);
    }

    #[test]
    fn mixing_inclusion_and_exclusion_fails() {
        assert_eq!(
            err(doc! { "a": 1, "b": 0 }),
            EngineError::new(31254, "Cannot do exclusion on field b in inclusion projection")
        );
        assert_eq!(
            err(doc! { "a": 0, "b.c": 1 }),
            EngineError::new(31253, "Cannot do inclusion on field b.c in exclusion projection")
        );
        assert!(Projection::parse(&doc! { "a": 1, "_id": 0 }, true).is_ok());
        assert_eq!(err(doc! { "a": 1, "a.b": 1 }).code, code::PROJECTION_PATH_COLLISION);
    }

    #[test]
    fn servers_without_slice_refuse_document_values() {
        let spec = doc! { "events": { "$slice": -1 } };
        assert_eq!(Projection::parse(&spec, false).unwrap_err().code, codes::NOT_IMPLEMENTED);
        assert!(Projection::parse(&doc! { "events": 1 }, false).is_ok());
    }
}
