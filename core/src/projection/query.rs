//! Queries over one projection's read models across the streams of a type.
//!
//! A filter is written on the read model's fields, as if the read model were the
//! document: `{ status: "open", total: { $gt: 10 } }`. Each field path gets the
//! `projections.<name>.` prefix; a value that is an operator expression (a document whose
//! first key starts with `$`) is kept as given, any other value is wrapped in `$eq`, so
//! a value can never become an operator; `$and`, `$or` and `$nor` hold filters of the same
//! kind. Every other top-level operator (`$where`, `$expr`, `$text`, …) could reach
//! beyond the read model and is refused.

use bson::{doc, Bson, Document};
use serde::{Deserialize, Serialize};

use super::read_model::path;
use crate::layout::{STREAM_NAME, STREAM_TYPE_PATH};

/// Why a query is refused (nothing is sent).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum QueryError {
    /// A projection name that cannot name a read model (empty, with '.' or NUL, or
    /// starting with '$').
    #[error("invalid projection name {name:?}")]
    InvalidProjectionName { name: String },
    /// A top-level operator other than `$and`, `$or`, `$nor`.
    #[error(
        "the operator {operator} is not allowed in a read model filter (only $and, $or and $nor at the top level)"
    )]
    UnsupportedOperator { operator: String },
    /// `$and`, `$or` or `$nor` without a non-empty array of documents.
    #[error("{operator} needs a non-empty array of filter documents")]
    InvalidLogicalOperator { operator: String },
    /// A field path that is empty, has an empty part or a part starting with `$`.
    #[error("invalid field path {path:?} in a read model {what}")]
    InvalidPath { path: String, what: String },
    /// A sort direction other than 1 or -1.
    #[error("the sort direction of {path:?} must be 1 or -1")]
    InvalidSortDirection { path: String },
    /// The store places streams with a custom resolver, which cannot say where all the
    /// streams of a type are.
    #[error(
        "queries across streams need a storage that places streams by type; a custom resolver places them by name"
    )]
    CustomStorage,
}

/// A query over the read models of `projection` in the streams of `stream_type`.
///
/// ```
/// use bson::doc;
/// use streamdoc_core::projection::ProjectionQuery;
///
/// let query = ProjectionQuery::new("cart", "summary")
///     .filter(doc! { "status": "open", "total": { "$gte": 10 } })
///     .sort(doc! { "total": -1 })
///     .limit(5);
/// assert_eq!(
///     query.server_filter().unwrap(),
///     doc! {
///         "metadata.streamType": { "$eq": "cart" },
///         "projections.summary": { "$ne": null },
///         "projections.summary.status": { "$eq": "open" },
///         "projections.summary.total": { "$gte": 10 },
///     }
/// );
/// assert_eq!(query.server_sort().unwrap(), doc! { "projections.summary.total": -1, "streamName": 1 });
/// assert!(ProjectionQuery::new("cart", "summary").filter(doc! { "$where": "1" }).server_filter().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectionQuery {
    /// The stream type whose streams are searched.
    pub stream_type: String,
    /// The projection's name.
    pub projection: String,
    /// Only these streams (`None`: every stream of the type; empty: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_names: Option<Vec<String>>,
    /// A filter on the read model's fields (empty: every read model).
    #[serde(default)]
    pub filter: Document,
    /// A sort on the read model's fields; ties (and no sort) are ordered by stream name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<Document>,
    /// How many matching read models to skip.
    #[serde(default)]
    pub skip: u64,
    /// At most this many (0: no limit).
    #[serde(default)]
    pub limit: u64,
}

impl ProjectionQuery {
    /// Every read model of `projection` in streams of `stream_type`.
    pub fn new(stream_type: impl Into<String>, projection: impl Into<String>) -> Self {
        Self { stream_type: stream_type.into(), projection: projection.into(), ..Self::default() }
    }

    /// Only the read models of these streams.
    pub fn streams<T: Into<String>>(mut self, names: impl IntoIterator<Item = T>) -> Self {
        self.stream_names = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Only the read models matching `filter`.
    pub fn filter(mut self, filter: Document) -> Self {
        self.filter = filter;
        self
    }

    /// Ordered by `sort`.
    pub fn sort(mut self, sort: Document) -> Self {
        self.sort = Some(sort);
        self
    }

    /// Skipping the first `skip`.
    pub fn skip(mut self, skip: u64) -> Self {
        self.skip = skip;
        self
    }

    /// At most `limit` (0: no limit).
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }

    /// The filter sent to the server.
    pub fn server_filter(&self) -> Result<Document, QueryError> {
        check_projection_name(&self.projection)?;
        let mut out = doc! {
            STREAM_TYPE_PATH: { "$eq": self.stream_type.clone() },
            path(&self.projection): { "$ne": Bson::Null },
        };
        if let Some(names) = &self.stream_names {
            out.insert(STREAM_NAME, doc! { "$in": names.iter().cloned().map(Bson::String).collect::<Vec<_>>() });
        }
        prefix_filter(&self.filter, &path(&self.projection), &mut out)?;
        Ok(out)
    }

    /// The sort sent to the server: the caller's, prefixed, then `streamName`.
    pub fn server_sort(&self) -> Result<Document, QueryError> {
        let prefix = path(&self.projection);
        let mut out = Document::new();
        for (key, direction) in self.sort.iter().flatten() {
            check_path(key, "sort")?;
            let direction = match direction {
                Bson::Int32(n @ (1 | -1)) => *n,
                Bson::Int64(n @ (1 | -1)) => *n as i32,
                Bson::Double(d) if *d == 1.0 || *d == -1.0 => *d as i32,
                _ => return Err(QueryError::InvalidSortDirection { path: key.clone() }),
            };
            out.insert(format!("{prefix}.{key}"), direction);
        }
        out.insert(STREAM_NAME, 1);
        Ok(out)
    }

    /// The fields a found stream document is reduced to.
    pub(crate) fn server_projection(&self) -> Document {
        doc! { "_id": 0, STREAM_NAME: 1, path(&self.projection): 1 }
    }
}

/// Refuses a name that cannot be a key under `projections`.
pub(crate) fn check_projection_name(name: &str) -> Result<(), QueryError> {
    if name.is_empty() || name.contains(['.', '\0']) || name.starts_with('$') {
        return Err(QueryError::InvalidProjectionName { name: name.to_owned() });
    }
    Ok(())
}

fn check_path(key: &str, what: &str) -> Result<(), QueryError> {
    if key.is_empty() || key.split('.').any(|part| part.is_empty() || part.starts_with('$')) {
        return Err(QueryError::InvalidPath { path: key.to_owned(), what: what.to_owned() });
    }
    Ok(())
}

/// Adds the prefixed clauses of `filter` to `out`.
fn prefix_filter(filter: &Document, prefix: &str, out: &mut Document) -> Result<(), QueryError> {
    for (key, value) in filter {
        if let Some(operator) = key.strip_prefix('$') {
            if !matches!(operator, "and" | "or" | "nor") {
                return Err(QueryError::UnsupportedOperator { operator: key.clone() });
            }
            let invalid = || QueryError::InvalidLogicalOperator { operator: key.clone() };
            let Bson::Array(items) = value else { return Err(invalid()) };
            if items.is_empty() {
                return Err(invalid());
            }
            let mut clauses = Vec::with_capacity(items.len());
            for item in items {
                let Bson::Document(sub) = item else { return Err(invalid()) };
                let mut clause = Document::new();
                prefix_filter(sub, prefix, &mut clause)?;
                clauses.push(Bson::Document(clause));
            }
            append_clause(out, key, Bson::Array(clauses));
            continue;
        }
        check_path(key, "filter")?;
        let is_operator_expression =
            matches!(value, Bson::Document(d) if d.keys().next().is_some_and(|k| k.starts_with('$')));
        let value = if is_operator_expression { value.clone() } else { Bson::Document(doc! { "$eq": value.clone() }) };
        append_clause(out, &format!("{prefix}.{key}"), value);
    }
    Ok(())
}

/// Adds `key: value`, or when `key` is already there (the same logical operator at two
/// levels cannot collide, but a caller's `$and` next to ours could), `$and`s them.
fn append_clause(out: &mut Document, key: &str, value: Bson) {
    match out.remove(key) {
        None => {
            out.insert(key, value);
        }
        Some(existing) => {
            let mut both = Vec::new();
            for v in [existing, value] {
                both.push(Bson::Document(doc! { key: v }));
            }
            append_clause(out, "$and", Bson::Array(both));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(f: Document) -> Result<Document, QueryError> {
        ProjectionQuery::new("cart", "p").filter(f).server_filter()
    }

    #[test]
    fn values_are_wrapped_and_operators_kept() {
        let out = filter(doc! { "a": { "$gt": 1 }, "b": { "x": 1 }, "c": [1, 2], "d": "$where" }).unwrap();
        assert_eq!(out.get_document("projections.p.a").unwrap(), &doc! { "$gt": 1 });
        assert_eq!(out.get_document("projections.p.b").unwrap(), &doc! { "$eq": { "x": 1 } });
        assert_eq!(out.get_document("projections.p.c").unwrap(), &doc! { "$eq": [1, 2] });
        assert_eq!(out.get_document("projections.p.d").unwrap(), &doc! { "$eq": "$where" });
    }

    #[test]
    fn logical_operators_recurse_and_others_are_refused() {
        let out = filter(doc! { "$or": [{ "a": 1 }, { "$and": [{ "b": { "$lt": 2 } }] }] }).unwrap();
        assert_eq!(
            out.get_array("$or").unwrap(),
            &vec![
                Bson::Document(doc! { "projections.p.a": { "$eq": 1 } }),
                Bson::Document(doc! { "$and": [{ "projections.p.b": { "$lt": 2 } }] }),
            ]
        );
        for bad in [doc! { "$where": "x" }, doc! { "$expr": {} }, doc! { "$text": { "$search": "x" } }] {
            assert!(matches!(filter(bad), Err(QueryError::UnsupportedOperator { .. })));
        }
        assert!(matches!(filter(doc! { "$or": [] }), Err(QueryError::InvalidLogicalOperator { .. })));
        assert!(matches!(filter(doc! { "$or": [1] }), Err(QueryError::InvalidLogicalOperator { .. })));
        assert!(matches!(filter(doc! { "a.$b": 1 }), Err(QueryError::InvalidPath { .. })));
        assert!(matches!(filter(doc! { "": 1 }), Err(QueryError::InvalidPath { .. })));
    }

    #[test]
    fn stream_names_are_matched_with_in() {
        let out = ProjectionQuery::new("cart", "p").streams(["cart:1", "$x"]).server_filter().unwrap();
        assert_eq!(out.get_document("streamName").unwrap(), &doc! { "$in": ["cart:1", "$x"] });
    }

    #[test]
    fn sorts_are_prefixed_and_end_with_the_stream_name() {
        let q = ProjectionQuery::new("cart", "p").sort(doc! { "a": -1, "b.c": 1.0 });
        assert_eq!(q.server_sort().unwrap(), doc! { "projections.p.a": -1, "projections.p.b.c": 1, "streamName": 1 });
        let bad = ProjectionQuery::new("cart", "p").sort(doc! { "a": 2 });
        assert!(matches!(bad.server_sort(), Err(QueryError::InvalidSortDirection { .. })));
        assert_eq!(ProjectionQuery::new("cart", "p").server_sort().unwrap(), doc! { "streamName": 1 });
    }
}
