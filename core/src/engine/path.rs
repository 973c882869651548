//! Dotted paths: reading the values a path reaches (MongoDB's element-path traversal, used
//! by filters and index keys), the order of update paths, and small helpers.

use std::cmp::Ordering;

use bson::{Bson, Document};

/// What a traversal reports for one reached position: a value, or `None` where the path
/// is missing (MongoDB's EOO, which `null` equality matches).
pub(crate) type Reached<'d> = Option<&'d Bson>;

/// How a traversal treats an array found at the end of the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LeafArrays {
    /// Each element, then the array itself (query matching).
    ElementsThenArray,
    /// Each element only; an empty array reports `undefined` (index keys).
    ElementsOnly,
}

/// The first part of a dotted path, and the rest if there is more.
fn split_first(path: &str) -> (&str, Option<&str>) {
    match path.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (path, None),
    }
}

/// Calls `f` for every value the dotted `path` reaches in `doc`, stopping at (and
/// returning) the first `true`.
///
/// Subdocuments are entered; an array met before the end of the path is traversed: each
/// document element continues with the rest of the path, and when the next part is a
/// number the element at that index continues too. A path through a scalar, or a missing
/// field, reports `None`; an array whose elements yield nothing reports nothing.
pub(crate) fn any_reached<'d>(
    doc: &'d Document,
    path: &str,
    leaf_arrays: LeafArrays,
    f: &mut dyn FnMut(Reached<'d>) -> bool,
) -> bool {
    let (first, rest) = split_first(path);
    let Some(value) = doc.get(first) else {
        return f(None);
    };
    let Some(rest) = rest else {
        return leaf(value, leaf_arrays, f);
    };
    match value {
        Bson::Document(sub) => any_reached(sub, rest, leaf_arrays, f),
        Bson::Array(items) => through_array(items, rest, leaf_arrays, f),
        _ => f(None),
    }
}

fn leaf<'d>(value: &'d Bson, leaf_arrays: LeafArrays, f: &mut dyn FnMut(Reached<'d>) -> bool) -> bool {
    match (value, leaf_arrays) {
        (Bson::Array(items), LeafArrays::ElementsThenArray) => items.iter().any(|e| f(Some(e))) || f(Some(value)),
        (Bson::Array(items), LeafArrays::ElementsOnly) if items.is_empty() => f(Some(&Bson::Undefined)),
        (Bson::Array(items), LeafArrays::ElementsOnly) => items.iter().any(|e| f(Some(e))),
        _ => f(Some(value)),
    }
}

fn through_array<'d>(
    items: &'d [Bson],
    rest: &str,
    leaf_arrays: LeafArrays,
    f: &mut dyn FnMut(Reached<'d>) -> bool,
) -> bool {
    let (next, after) = split_first(rest);
    // An array offset matches the element's decimal name exactly ("01" matches nothing).
    let offset = if is_all_digits(next) && (next.len() == 1 || !next.starts_with('0')) {
        next.parse::<usize>().ok()
    } else {
        None
    };
    for (index, item) in items.iter().enumerate() {
        if let Bson::Document(sub) = item {
            if any_reached(sub, rest, leaf_arrays, f) {
                return true;
            }
        }
        if offset == Some(index) {
            let hit = match after {
                None => f(Some(item)),
                Some(after) => match item {
                    Bson::Document(sub) => any_reached(sub, after, leaf_arrays, f),
                    Bson::Array(inner) => through_array(inner, after, leaf_arrays, f),
                    _ => false,
                },
            };
            if hit {
                return true;
            }
        }
    }
    false
}

/// Whether updating `path` may change what an index over `indexed` reads
/// (`UpdateIndexData::mightBeIndexed`): one is a prefix of the other once numeric parts
/// after the first are left out, since an index path steps through every element of an
/// array (`a.0.b` updates what `a.b` indexes). Conservative: it may say yes for an update
/// that changes no key.
pub(crate) fn may_change_index(path: &str, indexed: &str) -> bool {
    fn canonical(path: &str) -> impl Iterator<Item = &str> {
        path.split('.').enumerate().filter(|(i, part)| *i == 0 || !is_all_digits(part)).map(|(_, part)| part)
    }
    fn first(path: &str) -> &str {
        path.split_once('.').map_or(path, |(first, _)| first)
    }
    if first(path) != first(indexed) {
        // The first part is never left out: different first parts never overlap.
        return false;
    }
    let (mut a, mut b) = (canonical(path), canonical(indexed));
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x == y => {}
            (Some(_), Some(_)) => return false,
            _ => return true,
        }
    }
}

/// The `_id` of `doc`: its first field in every stored document, so usually found without
/// a lookup.
pub(crate) fn id_of(doc: &Document) -> Option<&Bson> {
    match doc.iter().next() {
        Some((key, id)) if key == "_id" => Some(id),
        _ => doc.get("_id"),
    }
}

/// Whether `s` is a non-empty string of ASCII digits.
pub(crate) fn is_all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// An update path part used as an array index (`str::parseUnsignedBase10Integer`).
pub(crate) fn array_index(part: &str) -> Option<usize> {
    if is_all_digits(part) {
        part.parse::<usize>().ok()
    } else {
        None
    }
}

/// The order in which update paths are applied (`pathsupport::cmpPathsAndArrayIndexes`):
/// byte order, except that two numbers without leading zeros compare numerically.
pub(crate) fn compare_update_parts(a: &str, b: &str) -> Ordering {
    let (x, y) = (a.as_bytes(), b.as_bytes());
    let plain = x.is_empty()
        || y.is_empty()
        || !x[0].is_ascii_digit()
        || !y[0].is_ascii_digit()
        || (x[0] == b'0' && x.len() > 1)
        || (y[0] == b'0' && y.len() > 1);
    if plain {
        return x.cmp(y);
    }
    if x.len() != y.len() {
        return x.len().cmp(&y.len());
    }
    for (p, q) in x.iter().zip(y) {
        if !p.is_ascii_digit() || !q.is_ascii_digit() {
            break;
        }
        if p != q {
            return p.cmp(q);
        }
    }
    x.cmp(y)
}

/// The first `n` parts of a dotted path, as a slice of it.
pub(crate) fn prefix(path: &str, n: usize) -> &str {
    if n == 0 {
        return "";
    }
    let mut seen = 0;
    for (i, b) in path.bytes().enumerate() {
        if b == b'.' {
            seen += 1;
            if seen == n {
                return &path[..i];
            }
        }
    }
    path
}

/// Whether one dotted path is a prefix of the other, part-wise (`a` and `a.b` overlap,
/// `a` and `ab` do not).
pub(crate) fn overlap(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    long.starts_with(short) && (long.len() == short.len() || long.as_bytes().get(short.len()) == Some(&b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bson::doc;

    fn reached(doc: &Document, path: &str) -> Vec<Option<Bson>> {
        let mut out = Vec::new();
        any_reached(doc, path, LeafArrays::ElementsThenArray, &mut |v| {
            out.push(v.cloned());
            false
        });
        out
    }

    #[test]
    fn traversal_enters_documents_and_arrays() {
        let d = doc! { "a": { "b": 1 }, "c": [{ "d": 1 }, { "e": 2 }, 5], "f": [1, 2] };
        assert_eq!(reached(&d, "a.b"), vec![Some(Bson::Int32(1))]);
        assert_eq!(reached(&d, "a.x"), vec![None]);
        assert_eq!(reached(&d, "c.d"), vec![Some(Bson::Int32(1)), None]);
        assert_eq!(reached(&d, "c.1.e"), vec![None, None, Some(Bson::Int32(2))]);
        assert_eq!(reached(&d, "c.2"), vec![None, None, Some(Bson::Int32(5))]);
        assert_eq!(
            reached(&d, "f"),
            vec![Some(Bson::Int32(1)), Some(Bson::Int32(2)), Some(Bson::Array(vec![1.into(), 2.into()]))]
        );
        assert_eq!(reached(&d, "f.x"), Vec::<Option<Bson>>::new());
        assert_eq!(reached(&d, "a.b.c"), vec![None]);
    }

    #[test]
    fn update_parts_order_numbers_numerically() {
        assert_eq!(compare_update_parts("2", "10"), Ordering::Less);
        assert_eq!(compare_update_parts("b", "a"), Ordering::Greater);
        assert_eq!(compare_update_parts("010", "9"), Ordering::Less);
        assert_eq!(compare_update_parts("10", "10"), Ordering::Equal);
    }

    #[test]
    fn prefixes_and_overlaps() {
        assert_eq!(prefix("a.b.c", 1), "a");
        assert_eq!(prefix("a.b.c", 2), "a.b");
        assert_eq!(prefix("a.b.c", 3), "a.b.c");
        assert!(overlap("a", "a.b"));
        assert!(overlap("a.b", "a.b"));
        assert!(!overlap("a", "ab"));
        assert!(!overlap("a.c", "a.b"));
    }

    #[test]
    fn index_changes_look_through_array_positions() {
        assert!(may_change_index("a.0", "a.b"));
        assert!(may_change_index("a.0.b", "a.b"));
        assert!(may_change_index("a", "a.b.c"));
        assert!(may_change_index("a.b.c", "a.1.b"));
        assert!(may_change_index("events", "events"));
        assert!(!may_change_index("a.0.c", "a.b"));
        assert!(!may_change_index("metadata.streamPosition", "streamName"));
        assert!(!may_change_index("ab", "a"));
        assert!(!may_change_index("0.a", "1.a"), "a first part is a field name");
    }
}
