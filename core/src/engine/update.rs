//! Update documents: parsing (`$set`, `$setOnInsert`, `$inc`, `$push`, `$unset`, or a
//! replacement document) and application.
//!
//! As on the server, all paths of all operators form one tree (conflicting paths are
//! refused at parse time, code 40, whether or not anything matches) and are applied in
//! path order (byte order; numbers numerically). Existing fields are modified in place;
//! new fields are appended to their parent.
//!
//! Application to a stored document happens in place, recording an undo log (the old
//! value of everything it replaces, the length of every array it grows) and the exact
//! change of the document's BSON size. The caller checks size and unique indexes
//! afterwards and rolls back with [`rollback`] if they refuse: the document is then
//! exactly as before, without ever having been copied (see `undo`).

use std::cmp::Ordering;

use bson::{Bson, Document};

use super::arg::Arg;
use super::bson_size::{array_element_size, array_size, element_size, value_size};
use super::compare::{identical, is_number};
use super::display;
use super::error::{code, EngineError, EngineResult};
use super::path::{array_index, compare_update_parts, id_of, may_change_index, prefix};
pub(crate) use super::undo::rollback;
use super::undo::{PathRef, Undo};
use crate::command::codes;
use crate::limits::{deeper_than, element_too_deep, MAX_STORED_DEPTH};

/// The most `null`s a `$set` on a far array index may add (`kMaxPaddingAllowed`).
const MAX_PADDING: usize = 1_500_000;

/// A parsed update document. It holds the update's values as [`Arg`]s: each is placed
/// (cloned or moved) at most once, by the one application of the plan.
#[derive(Debug)]
pub(crate) enum UpdatePlan<'a> {
    /// A replacement document (no `$` keys): replaces everything but `_id`.
    Replace(Arg<'a, Document>),
    /// Update operators.
    Modify(Modifiers<'a>),
}

impl<'a> UpdatePlan<'a> {
    /// Parses an update document. Operator updates are validated completely (arguments,
    /// paths, conflicts) before anything is looked up.
    pub(crate) fn parse(update: Arg<'a, Document>) -> EngineResult<Self> {
        match update.get().keys().next() {
            Some(first) if first.starts_with('$') => Ok(Self::Modify(Modifiers::parse(update)?)),
            _ => {
                if let Some(key) = update.get().keys().find(|k| k.starts_with('$')) {
                    return Err(dollar_prefixed(key));
                }
                Ok(Self::Replace(update))
            }
        }
    }
}

fn dollar_prefixed(name: &str) -> EngineError {
    EngineError::new(
        code::DOLLAR_PREFIXED_FIELD_NAME,
        format!(
            "The dollar ($) prefixed field '{name}' in '{name}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith."
        ),
    )
}

/// The operators of an update, as one tree of paths.
#[derive(Debug)]
pub(crate) struct Modifiers<'a> {
    root: Tree<'a>,
    /// A positional `$` part was used (the engine has no positional matching).
    positional: bool,
}

#[derive(Debug, Default)]
struct Tree<'a> {
    /// Children in application order.
    children: Vec<Child<'a>>,
}

#[derive(Debug)]
struct Child<'a> {
    name: &'a str,
    node: Node<'a>,
}

#[derive(Debug)]
enum Node<'a> {
    /// An interior path part; `path` is a full path through it (its prefix names this node).
    Inner {
        path: &'a str,
        tree: Tree<'a>,
    },
    Leaf(Leaf<'a>),
}

#[derive(Debug)]
struct Leaf<'a> {
    path: &'a str,
    op: Op<'a>,
}

#[derive(Debug)]
enum Op<'a> {
    Set(Arg<'a, Bson>),
    SetOnInsert(Arg<'a, Bson>),
    Unset,
    Inc(Arg<'a, Bson>),
    Push(Push<'a>),
}

#[derive(Debug)]
struct Push<'a> {
    values: Pushed<'a>,
    position: Option<i64>,
    slice: Option<i64>,
}

/// The values a `$push` adds.
#[derive(Debug)]
enum Pushed<'a> {
    /// `{ $push: { path: value } }`.
    One(Arg<'a, Bson>),
    /// `{ $push: { path: { $each: [values] } } }`.
    Each(Arg<'a, Vec<Bson>>),
}

impl Pushed<'_> {
    fn as_slice(&self) -> &[Bson] {
        match self {
            Pushed::One(value) => std::slice::from_ref(value.get()),
            Pushed::Each(values) => values.get(),
        }
    }

    /// The values, to be placed (once).
    fn take(&mut self) -> Vec<Bson> {
        match self {
            Pushed::One(value) => vec![value.take()],
            Pushed::Each(values) => values.take(),
        }
    }

    /// Appends the values to `items` (once).
    fn append_to(&mut self, items: &mut Vec<Bson>) {
        match self {
            Pushed::One(value) => items.push(value.take()),
            Pushed::Each(Arg::Shared(values)) => items.extend_from_slice(values),
            Pushed::Each(Arg::Owned(values)) => items.append(values),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum OpKind {
    Set,
    SetOnInsert,
    Unset,
    Inc,
    Push,
}

impl OpKind {
    fn from_name(name: &str) -> EngineResult<Self> {
        Ok(match name {
            "$set" => Self::Set,
            "$setOnInsert" => Self::SetOnInsert,
            "$unset" => Self::Unset,
            "$inc" => Self::Inc,
            "$push" => Self::Push,
            "$mul" | "$min" | "$max" | "$rename" | "$addToSet" | "$pop" | "$pull" | "$pullAll" | "$currentDate" | "$bit" => {
                return Err(EngineError::not_implemented(format!("the {name} update operator")))
            }
            _ => {
                return Err(EngineError::new(
                    code::FAILED_TO_PARSE,
                    format!("Unknown modifier: {name}. Expected a valid update modifier or pipeline-style update specified as an array"),
                ))
            }
        })
    }

    /// Validates the operator's argument for one path (`UpdateLeafNode::init`).
    fn init<'a>(self, path: &str, value: Arg<'a, Bson>) -> EngineResult<Op<'a>> {
        Ok(match self {
            Self::Set => Op::Set(value),
            Self::SetOnInsert => Op::SetOnInsert(value),
            Self::Unset => Op::Unset,
            Self::Inc => {
                if !is_number(value.get()) {
                    return Err(EngineError::new(
                        codes::TYPE_MISMATCH,
                        format!(
                            "Cannot increment with non-numeric argument: {{{}}}",
                            display::element(path, value.get())
                        ),
                    ));
                }
                Op::Inc(value)
            }
            Self::Push => Op::Push(parse_push(value)?),
        })
    }
}

fn parse_push(value: Arg<'_, Bson>) -> EngineResult<Push<'_>> {
    let Some((position, slice)) = push_modifiers(value.get())? else {
        return Ok(Push { values: Pushed::One(value), position: None, slice: None });
    };
    // `push_modifiers` has checked that `$each` is an array.
    let values = value.into_array_field("$each").ok_or_else(|| each_not_an_array(&Bson::Null))?;
    Ok(Push { values: Pushed::Each(values), position, slice })
}

fn each_not_an_array(each: &Bson) -> EngineError {
    EngineError::bad_value(format!(
        "The argument to $each in $push must be an array but it was of type: {}",
        display::type_name(each)
    ))
}

/// Validates the `$each` form of a `$push` argument: its `$position` and `$slice`, or
/// `None` if `value` is a single value to push.
fn push_modifiers(value: &Bson) -> EngineResult<Option<(Option<i64>, Option<i64>)>> {
    let Bson::Document(spec) = value else {
        return Ok(None);
    };
    let Some(each) = spec.get("$each") else {
        return Ok(None);
    };
    if let Some(clause) = spec.keys().find(|k| !matches!(k.as_str(), "$each" | "$slice" | "$sort" | "$position")) {
        return Err(EngineError::bad_value(format!("Unrecognized clause in $push: {clause}")));
    }
    if !matches!(each, Bson::Array(_)) {
        return Err(each_not_an_array(each));
    }
    let slice = match spec.get("$slice") {
        None => None,
        Some(v) => Some(integer(v).ok_or_else(|| {
            EngineError::bad_value(format!(
                "The value for $slice must be an integer value but was given type: {}",
                display::type_name(v)
            ))
        })?),
    };
    if spec.contains_key("$sort") {
        return Err(EngineError::bad_value("$sort in $push is not supported by the in-memory engine"));
    }
    let position = match spec.get("$position") {
        None => None,
        Some(v) => Some(integer(v).ok_or_else(|| {
            EngineError::bad_value(format!(
                "The value for $position must be an integer value, not of type: {}",
                display::type_name(v)
            ))
        })?),
    };
    Ok(Some((position, slice)))
}

/// A number with an integral value, as a 64-bit integer (`parseIntegerElementToLong`).
fn integer(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        Bson::Double(d) if d.is_finite() && d.fract() == 0.0 && d.abs() < 9.2e18 => Some(*d as i64),
        _ => None,
    }
}

/// `fieldchecker::isUpdatable`.
fn check_updatable(path: &str) -> EngineResult<()> {
    if path.is_empty() {
        return Err(EngineError::new(code::EMPTY_FIELD_NAME, "An empty update path is not valid."));
    }
    if path.split('.').any(str::is_empty) {
        return Err(EngineError::new(
            code::EMPTY_FIELD_NAME,
            format!("The update path '{path}' contains an empty field name, which is not allowed."),
        ));
    }
    Ok(())
}

fn conflict(path: &str, at: &str) -> EngineError {
    EngineError::new(
        codes::CONFLICTING_UPDATE_OPERATORS,
        format!("Updating the path '{path}' would create a conflict at '{at}'"),
    )
}

impl<'a> Tree<'a> {
    /// `Ok(index)` of the child named `name`, or `Err(index)` where it would be inserted.
    fn position(&self, name: &str) -> Result<usize, usize> {
        if let Some(found) = self.children.iter().position(|c| c.name == name) {
            return Ok(found);
        }
        // A linear scan for the insertion point: no sort routine, so no reliance on the
        // comparator being a total order.
        Err(self
            .children
            .iter()
            .position(|c| compare_update_parts(name, c.name) == Ordering::Less)
            .unwrap_or(self.children.len()))
    }

    /// Adds a leaf at `path` (`UpdateObjectNode::parseAndMerge`).
    fn merge(&mut self, path: &'a str, op: Op<'a>) -> EngineResult<()> {
        let (inner, last) = match path.rsplit_once('.') {
            Some((inner, last)) => (Some(inner), last),
            None => (None, path),
        };
        let mut tree = self;
        for (i, part) in inner.into_iter().flat_map(|inner| inner.split('.')).enumerate() {
            let index = match tree.position(part) {
                Ok(index) => index,
                Err(at) => {
                    tree.children.insert(at, Child { name: part, node: Node::Inner { path, tree: Tree::default() } });
                    at
                }
            };
            tree = match &mut tree.children[index].node {
                Node::Inner { tree, .. } => tree,
                Node::Leaf(_) => return Err(conflict(path, prefix(path, i + 1))),
            };
        }
        match tree.position(last) {
            Ok(_) => Err(conflict(path, path)),
            Err(at) => {
                tree.children.insert(at, Child { name: last, node: Node::Leaf(Leaf { path, op }) });
                Ok(())
            }
        }
    }
}

impl Tree<'_> {
    /// Whether `f` holds for the path of some leaf.
    fn any_leaf(&self, f: &mut dyn FnMut(&str) -> bool) -> bool {
        self.children.iter().any(|child| match &child.node {
            Node::Leaf(leaf) => f(leaf.path),
            Node::Inner { tree, .. } => tree.any_leaf(f),
        })
    }
}

impl Op<'_> {
    /// Whether applying to a missing field creates it.
    fn creates(&self, insert: bool) -> bool {
        match self {
            Op::Unset => false,
            Op::SetOnInsert(_) => insert,
            Op::Set(_) | Op::Inc(_) | Op::Push(_) => true,
        }
    }
}

fn creates(node: &Node<'_>, insert: bool) -> bool {
    match node {
        Node::Leaf(leaf) => leaf.op.creates(insert),
        Node::Inner { tree, .. } => tree.children.iter().any(|c| creates(&c.node, insert)),
    }
}

fn first_leaf_path<'a>(node: &Node<'a>) -> &'a str {
    match node {
        Node::Leaf(leaf) => leaf.path,
        Node::Inner { path, .. } => path,
    }
}

impl<'a> Modifiers<'a> {
    fn parse(update: Arg<'a, Document>) -> EngineResult<Self> {
        let mut modifiers = Self { root: Tree::default(), positional: false };
        for (name, argument) in update.into_fields() {
            let kind = OpKind::from_name(name)?;
            if !matches!(argument.get(), Bson::Document(_)) {
                return Err(EngineError::new(
                    code::FAILED_TO_PARSE,
                    format!(
                        "Modifiers operate on fields but we found type {} instead. For example: {{$mod: {{<field>: ...}}}} not {{{}}}",
                        display::type_name(argument.get()),
                        display::element(name, argument.get())
                    ),
                ));
            }
            for (path, value) in argument.into_fields() {
                check_updatable(path)?;
                modifiers.positional |= check_positional(path)?;
                let op = kind.init(path, value)?;
                modifiers.root.merge(path, op)?;
            }
        }
        Ok(modifiers)
    }

    /// Whether the update may change what an index over `path` sees (some update path is,
    /// contains or lies inside it, array positions aside).
    pub(crate) fn touches(&self, path: &str) -> bool {
        self.root.any_leaf(&mut |leaf| may_change_index(leaf, path))
    }

    /// Applies the update to `doc`: a stored document (`insert` false) or a document being
    /// upserted (`insert` true, so `$setOnInsert` applies). On error `doc` is left as it was
    /// (for an insert it is discarded by the caller anyway).
    ///
    /// The update's values are placed (cloned or moved out of the command): apply a plan
    /// once.
    pub(crate) fn apply(&mut self, doc: &mut Document, insert: bool) -> EngineResult<Applied<'a>> {
        if self.positional {
            return Err(EngineError::bad_value(
                "The positional operator did not find the match needed from the query.",
            ));
        }
        let mut cx = Cx { insert, track: !insert, undo: Vec::new(), delta: 0, changed: false, id: id_of(doc).cloned() };
        match apply_doc(&mut self.root, doc, 0, &mut cx) {
            Ok(()) => Ok(Applied { changed: cx.changed, delta: cx.delta, undo: cx.undo }),
            Err(e) => {
                rollback(doc, cx.undo);
                Err(e)
            }
        }
    }
}

/// Positional parts: `$` is flagged (refused at application, as the server does when it
/// has no match position); array filters are refused now.
fn check_positional(path: &str) -> EngineResult<bool> {
    let mut count = 0;
    for (i, part) in path.split('.').enumerate() {
        if part == "$" {
            if i == 0 {
                return Err(EngineError::bad_value(format!(
                    "Cannot have positional (i.e. '$') element in the first position in path '{path}'"
                )));
            }
            count += 1;
        } else if part.starts_with("$[") && part.ends_with(']') {
            if i == 0 {
                return Err(EngineError::bad_value(format!(
                    "Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '{path}'"
                )));
            }
            let identifier = &part[2..part.len() - 1];
            if identifier.is_empty() {
                return Err(EngineError::not_implemented("the all-positional operator $[]"));
            }
            return Err(EngineError::bad_value(format!(
                "No array filter found for identifier '{identifier}' in path '{path}'"
            )));
        }
    }
    if count > 1 {
        return Err(EngineError::bad_value(format!("Too many positional (i.e. '$') elements found in path '{path}'")));
    }
    Ok(count == 1)
}

/// What an application did.
#[derive(Debug)]
pub(crate) struct Applied<'u> {
    /// Whether the document changed (nModified).
    pub(crate) changed: bool,
    /// The exact change of the document's BSON size (stored documents only).
    pub(crate) delta: i64,
    /// How to undo it (stored documents only).
    pub(crate) undo: Vec<Undo<'u>>,
}

/// Application state.
struct Cx<'u> {
    insert: bool,
    /// Record undo steps and the size delta (off for documents being built).
    track: bool,
    undo: Vec<Undo<'u>>,
    delta: i64,
    changed: bool,
    /// The document's `_id` before the update (error messages, immutability).
    id: Option<Bson>,
}

impl<'u> Cx<'u> {
    fn record(&mut self, step: Undo<'u>) {
        self.changed = true;
        if self.track {
            self.undo.push(step);
        }
    }

    fn grow(&mut self, bytes: usize) {
        if self.track {
            self.delta += bytes as i64;
        }
    }

    fn shrink(&mut self, bytes: usize) {
        if self.track {
            self.delta -= bytes as i64;
        }
    }

    fn id_element(&self) -> String {
        display::id_element(self.id.as_ref())
    }

    /// 52 for a top-level `$` field written by an update of a stored document.
    fn check_field_name(&self, name: &str, depth: usize) -> EngineResult<()> {
        if depth == 0 && !self.insert && name.starts_with('$') {
            return Err(dollar_prefixed(name));
        }
        Ok(())
    }
}

/// Whether `value`, held by an element at nesting `level` (1 for top-level fields), is or
/// holds an element deeper than a stored document may nest ([`MAX_STORED_DEPTH`]).
fn too_deep(value: &Bson, level: usize) -> bool {
    element_too_deep(value, level, MAX_STORED_DEPTH)
}

/// Whether a whole document nests deeper than a stored document may.
pub(crate) fn document_too_deep(doc: &Document) -> bool {
    deeper_than(doc, MAX_STORED_DEPTH)
}

/// 15 Overflow.
pub(crate) fn depth_error() -> EngineError {
    EngineError::new(codes::OVERFLOW, format!("Document exceeds maximum nesting depth of {MAX_STORED_DEPTH}"))
}

fn check_depth(value: &Bson, level: usize) -> EngineResult<()> {
    if too_deep(value, level) {
        return Err(depth_error());
    }
    Ok(())
}

fn path_not_viable(part: &str, name: &str, value: &Bson) -> EngineError {
    EngineError::new(
        codes::PATH_NOT_VIABLE,
        format!("Cannot create field '{part}' in element {{{}}}", display::element(name, value)),
    )
}

/// Applies `tree` to `doc`, which is reached by `depth` path parts (0: the root).
fn apply_doc<'u>(tree: &mut Tree<'u>, doc: &mut Document, depth: usize, cx: &mut Cx<'u>) -> EngineResult<()> {
    for child in &mut tree.children {
        match &mut child.node {
            Node::Leaf(leaf) => leaf_in_doc(leaf, child.name, doc, depth, cx)?,
            Node::Inner { path, tree } => match doc.get_mut(child.name) {
                Some(value) => inner_on_value(tree, path, child.name, value, depth + 1, cx)?,
                None => {
                    if let Some(created) = build_missing(tree, depth + 1, cx)? {
                        cx.check_field_name(child.name, depth)?;
                        let value = Bson::Document(created);
                        cx.grow(element_size(child.name, &value));
                        doc.insert(child.name, value);
                        cx.record(Undo::RemoveField { parent: PathRef::new(path, depth), key: child.name });
                    }
                }
            },
        }
        if depth == 0 && child.name == "_id" {
            if let Some(original) = &cx.id {
                if !doc.get("_id").is_some_and(|now| identical(now, original)) {
                    return Err(EngineError::new(
                        codes::IMMUTABLE_FIELD,
                        format!(
                            "Performing an update on the path '{}' would modify the immutable field '_id'",
                            first_leaf_path(&child.node)
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Builds the subdocument an interior node creates under a missing field; `None` when
/// none of its leaves creates anything (e.g. only `$unset`).
fn build_missing<'u>(tree: &mut Tree<'u>, depth: usize, cx: &mut Cx<'u>) -> EngineResult<Option<Document>> {
    let mut created = Document::new();
    let track = std::mem::replace(&mut cx.track, false);
    let result = apply_doc(tree, &mut created, depth, cx);
    cx.track = track;
    result?;
    Ok((!created.is_empty()).then_some(created))
}

/// Applies an interior node to the existing `value` of field `name`, reached by `depth`
/// parts.
fn inner_on_value<'u>(
    tree: &mut Tree<'u>,
    path: &'u str,
    name: &str,
    value: &mut Bson,
    depth: usize,
    cx: &mut Cx<'u>,
) -> EngineResult<()> {
    match value {
        Bson::Document(d) => apply_doc(tree, d, depth, cx),
        Bson::Array(items) => apply_array(tree, path, name, items, depth, cx),
        other => match tree.children.iter().find(|c| creates(&c.node, cx.insert)) {
            Some(child) => Err(path_not_viable(child.name, name, other)),
            None => Ok(()),
        },
    }
}

/// Applies `tree` to the elements of an array (parts are indexes).
fn apply_array<'u>(
    tree: &mut Tree<'u>,
    path: &'u str,
    name: &str,
    items: &mut Vec<Bson>,
    depth: usize,
    cx: &mut Cx<'u>,
) -> EngineResult<()> {
    for child in &mut tree.children {
        let Some(index) = array_index(child.name) else {
            if creates(&child.node, cx.insert) {
                return Err(path_not_viable(child.name, name, &Bson::Array(items.clone())));
            }
            continue;
        };
        if let Some(element) = items.get_mut(index) {
            match &mut child.node {
                Node::Leaf(leaf) => {
                    leaf_on_value(leaf, child.name, element, depth + 1, true, cx)?;
                }
                Node::Inner { path, tree } => inner_on_value(tree, path, child.name, element, depth + 1, cx)?,
            }
            continue;
        }
        let created = match &mut child.node {
            Node::Leaf(leaf) => create_value(leaf, depth + 1, cx)?,
            Node::Inner { tree, .. } => build_missing(tree, depth + 1, cx)?.map(Bson::Document),
        };
        if let Some(value) = created {
            if index - items.len() > MAX_PADDING {
                return Err(EngineError::new(
                    code::CANNOT_BACKFILL_ARRAY,
                    format!("can't backfill more than {MAX_PADDING} elements"),
                ));
            }
            let old_len = items.len();
            let mut grown = 0;
            while items.len() < index {
                grown += array_element_size(items.len(), &Bson::Null);
                items.push(Bson::Null);
            }
            grown += array_element_size(index, &value);
            items.push(value);
            cx.grow(grown);
            cx.record(Undo::Truncate { at: PathRef::new(path, depth), len: old_len });
        }
    }
    Ok(())
}

/// Applies a leaf to field `name` of `doc` (reached by `depth` parts).
fn leaf_in_doc<'u>(
    leaf: &mut Leaf<'u>,
    name: &'u str,
    doc: &mut Document,
    depth: usize,
    cx: &mut Cx<'u>,
) -> EngineResult<()> {
    if let Op::Unset = leaf.op {
        if let Some(pos) = doc.keys().position(|k| k == name) {
            if let Some(old) = doc.remove(name) {
                cx.shrink(element_size(name, &old));
                cx.record(Undo::Reinsert { parent: PathRef::new(leaf.path, depth), pos, key: name, old });
            }
        }
        return Ok(());
    }
    match doc.get_mut(name) {
        Some(value) => {
            if leaf_changes(leaf, value, cx) {
                cx.check_field_name(name, depth)?;
            }
            leaf_on_value(leaf, name, value, depth + 1, false, cx)
        }
        None => {
            if let Some(value) = create_value(leaf, depth + 1, cx)? {
                cx.check_field_name(name, depth)?;
                cx.grow(element_size(name, &value));
                doc.insert(name, value);
                cx.record(Undo::RemoveField { parent: PathRef::new(leaf.path, depth), key: name });
            }
            Ok(())
        }
    }
}

/// Whether a `$set`-like leaf would change an existing value (for the field-name check,
/// which only applies to a modification).
fn leaf_changes(leaf: &Leaf<'_>, value: &Bson, cx: &Cx<'_>) -> bool {
    match &leaf.op {
        Op::Set(v) => !identical(value, v.get()),
        Op::SetOnInsert(v) => cx.insert && !identical(value, v.get()),
        _ => false,
    }
}

/// The value a leaf gives a missing field at nesting `level`, or `None` if it leaves the
/// field missing.
fn create_value(leaf: &mut Leaf<'_>, level: usize, cx: &Cx<'_>) -> EngineResult<Option<Bson>> {
    let value = match &mut leaf.op {
        Op::Set(v) => v,
        Op::SetOnInsert(v) if cx.insert => v,
        Op::SetOnInsert(_) | Op::Unset => return Ok(None),
        Op::Inc(n) => n,
        Op::Push(push) => {
            if level > MAX_STORED_DEPTH {
                return Err(depth_error());
            }
            for v in push.values.as_slice() {
                check_depth(v, level + 1)?;
            }
            let mut items = push.values.take();
            push.trim(&mut items);
            return Ok(Some(Bson::Array(items)));
        }
    };
    check_depth(value.get(), level)?;
    Ok(Some(value.take()))
}

/// Applies a leaf to an existing value (a field, or an array element when `in_array`) at
/// nesting `level`; the leaf's path with `level` parts locates it.
fn leaf_on_value<'u>(
    leaf: &mut Leaf<'u>,
    name: &str,
    slot: &mut Bson,
    level: usize,
    in_array: bool,
    cx: &mut Cx<'u>,
) -> EngineResult<()> {
    let at = PathRef::new(leaf.path, level);
    match &mut leaf.op {
        Op::Set(v) => replace(slot, v, level, at, cx),
        Op::SetOnInsert(v) if cx.insert => replace(slot, v, level, at, cx),
        Op::SetOnInsert(_) => Ok(()),
        Op::Unset => {
            // Reached only for array elements: $unset leaves a null in the array.
            if in_array {
                let old = std::mem::replace(slot, Bson::Null);
                cx.shrink(value_size(&old));
                cx.record(Undo::Restore { at, old });
            }
            Ok(())
        }
        Op::Inc(n) => {
            if !is_number(slot) {
                return Err(EngineError::new(
                    codes::TYPE_MISMATCH,
                    format!(
                        "Cannot apply $inc to a value of non-numeric type. {{{}}} has the field '{name}' of non-numeric type {}",
                        cx.id_element(),
                        display::type_name(slot)
                    ),
                ));
            }
            let sum = add(slot, n.get(), cx)?;
            if identical(&sum, slot) {
                return Ok(());
            }
            let old = std::mem::replace(slot, sum);
            cx.grow(value_size(slot));
            cx.shrink(value_size(&old));
            cx.record(Undo::Restore { at, old });
            Ok(())
        }
        Op::Push(push) => push_existing(push, leaf.path, slot, level, at, cx),
    }
}

fn replace<'u>(
    slot: &mut Bson,
    value: &mut Arg<'_, Bson>,
    level: usize,
    at: PathRef<'u>,
    cx: &mut Cx<'u>,
) -> EngineResult<()> {
    if identical(slot, value.get()) {
        return Ok(());
    }
    check_depth(value.get(), level)?;
    let old = std::mem::replace(slot, value.take());
    cx.grow(value_size(slot));
    cx.shrink(value_size(&old));
    cx.record(Undo::Restore { at, old });
    Ok(())
}

/// `$inc` arithmetic (`SafeNum`): Int32 overflow widens to Int64, Int64 overflow fails,
/// a double operand gives a double.
fn add(current: &Bson, increment: &Bson, cx: &Cx<'_>) -> EngineResult<Bson> {
    let overflow = || {
        EngineError::bad_value(format!(
            "Failed to apply $inc operations to current value ({}) for document {{{}}}",
            safe_num(current),
            cx.id_element()
        ))
    };
    Ok(match (current, increment) {
        (Bson::Int32(a), Bson::Int32(b)) => match a.checked_add(*b) {
            Some(sum) => Bson::Int32(sum),
            None => Bson::Int64(i64::from(*a) + i64::from(*b)),
        },
        (Bson::Int32(_) | Bson::Int64(_), Bson::Int32(_) | Bson::Int64(_)) => {
            let (Some(a), Some(b)) = (as_i64(current), as_i64(increment)) else {
                return Err(overflow());
            };
            Bson::Int64(a.checked_add(b).ok_or_else(overflow)?)
        }
        (Bson::Decimal128(_), _) | (_, Bson::Decimal128(_)) => {
            return Err(EngineError::not_implemented("$inc on Decimal128 values"));
        }
        _ => Bson::Double(as_f64(current) + as_f64(increment)),
    })
}

fn as_i64(value: &Bson) -> Option<i64> {
    match value {
        Bson::Int32(i) => Some(i64::from(*i)),
        Bson::Int64(i) => Some(*i),
        _ => None,
    }
}

fn as_f64(value: &Bson) -> f64 {
    match value {
        Bson::Int32(i) => f64::from(*i),
        Bson::Int64(i) => *i as f64,
        Bson::Double(d) => *d,
        _ => f64::NAN,
    }
}

/// `SafeNum::debugString`.
fn safe_num(value: &Bson) -> String {
    match value {
        Bson::Int32(i) => format!("(NumberInt){i}"),
        Bson::Int64(i) => format!("(NumberLong){i}"),
        Bson::Double(d) => format!("(NumberDouble){d}"),
        other => display::value(other),
    }
}

impl Push<'_> {
    /// Inserts the values at `$position` (`PushNode::insertElementsWithPosition`); whether
    /// anything was inserted.
    fn insert(&mut self, items: &mut Vec<Bson>) -> bool {
        if self.values.as_slice().is_empty() {
            return false;
        }
        let len = items.len() as i64;
        let at = match self.position {
            None => len,
            Some(p) if p >= 0 => p.min(len),
            Some(p) if p.unsigned_abs() < len.unsigned_abs() => len + p,
            Some(_) => 0,
        };
        let at = usize::try_from(at).unwrap_or(items.len()).min(items.len());
        items.splice(at..at, self.values.take());
        true
    }

    /// Applies `$slice`; whether anything was removed.
    fn trim(&self, items: &mut Vec<Bson>) -> bool {
        let Some(slice) = self.slice else {
            return false;
        };
        let keep = usize::try_from(slice.unsigned_abs()).unwrap_or(usize::MAX);
        if items.len() <= keep {
            return false;
        }
        if slice >= 0 {
            items.truncate(keep);
        } else {
            items.drain(..items.len() - keep);
        }
        true
    }
}

fn push_existing<'u>(
    push: &mut Push<'u>,
    path: &str,
    slot: &mut Bson,
    level: usize,
    at: PathRef<'u>,
    cx: &mut Cx<'u>,
) -> EngineResult<()> {
    let Bson::Array(items) = slot else {
        return Err(EngineError::bad_value(format!(
            "The field '{path}' must be an array but is of type {} in document {{{}}}",
            display::type_name(slot),
            cx.id_element()
        )));
    };
    let values = push.values.as_slice();
    for v in values {
        check_depth(v, level + 1)?;
    }
    if push.position.is_none() && push.slice.is_none() {
        // The append: grow in place, undo by truncating.
        if values.is_empty() {
            return Ok(());
        }
        let old_len = items.len();
        let grown: usize = values.iter().enumerate().map(|(i, v)| array_element_size(old_len + i, v)).sum();
        push.values.append_to(items);
        cx.grow(grown);
        cx.record(Undo::Truncate { at, len: old_len });
        return Ok(());
    }
    let mut updated = items.clone();
    let inserted = push.insert(&mut updated);
    let trimmed = push.trim(&mut updated);
    if !inserted && !trimmed {
        return Ok(());
    }
    let old = std::mem::replace(items, updated);
    cx.grow(array_size(items));
    cx.shrink(array_size(&old));
    cx.record(Undo::Restore { at, old: Bson::Array(old) });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::bson_size::bson_size;
    use bson::doc;

    fn parse_err(update: Document) -> EngineError {
        UpdatePlan::parse(Arg::Shared(&update)).expect_err("invalid update")
    }

    fn modifiers(update: &Document) -> Modifiers<'_> {
        match UpdatePlan::parse(Arg::Shared(update)).expect("valid update") {
            UpdatePlan::Modify(m) => m,
            UpdatePlan::Replace(_) => panic!("expected operators"),
        }
    }

    /// Applies to a stored document; checks the size delta against a re-encoding.
    fn apply(doc: &mut Document, update: &Document) -> EngineResult<bool> {
        let before = bson_size(doc);
        let mut m = modifiers(update);
        let applied = m.apply(doc, false)?;
        assert_eq!(bson_size(doc) as i64, before as i64 + applied.delta, "size delta is exact");
        Ok(applied.changed)
    }

    /// Applies, then rolls back: the document must be exactly as before.
    fn apply_and_undo(doc: &Document, update: &Document) {
        let mut copy = doc.clone();
        let mut m = modifiers(update);
        let applied = m.apply(&mut copy, false).expect("applies");
        rollback(&mut copy, applied.undo);
        assert!(crate::engine::compare::identical_documents(&copy, doc), "rollback restores {doc:?}, got {copy:?}");
    }

    #[test]
    fn conflicts_are_refused_at_parse() {
        assert_eq!(
            parse_err(doc! { "$set": { "a": 1 }, "$inc": { "a.b": 1 } }),
            EngineError::new(40, "Updating the path 'a.b' would create a conflict at 'a'")
        );
        assert_eq!(
            parse_err(doc! { "$set": { "a.b": 1 }, "$setOnInsert": { "a": 1 } }),
            EngineError::new(40, "Updating the path 'a' would create a conflict at 'a'")
        );
        assert_eq!(
            parse_err(doc! { "$set": { "x": 1 }, "$setOnInsert": { "x": 2 } }),
            EngineError::new(40, "Updating the path 'x' would create a conflict at 'x'")
        );
    }

    #[test]
    fn parse_errors() {
        assert_eq!(parse_err(doc! { "$foo": { "a": 1 } }).code, code::FAILED_TO_PARSE);
        assert_eq!(parse_err(doc! { "$set": 1 }).code, code::FAILED_TO_PARSE);
        assert_eq!(
            parse_err(doc! { "$inc": { "a": "x" } }),
            EngineError::new(14, "Cannot increment with non-numeric argument: {a: \"x\"}")
        );
        assert_eq!(parse_err(doc! { "$set": { "a..b": 1 } }).code, code::EMPTY_FIELD_NAME);
        assert_eq!(parse_err(doc! { "$push": { "a": { "$each": 1 } } }).code, codes::BAD_VALUE);
        assert_eq!(parse_err(doc! { "$push": { "a": { "$each": [], "$sort": 1 } } }).code, codes::BAD_VALUE);
        assert_eq!(parse_err(doc! { "$push": { "a": { "$each": [], "$foo": 1 } } }).code, codes::BAD_VALUE);
        assert_eq!(parse_err(doc! { "a": 1, "$set": { "b": 1 } }).code, code::DOLLAR_PREFIXED_FIELD_NAME);
        assert_eq!(parse_err(doc! { "$set": { "$[x].a": 1 } }).code, codes::BAD_VALUE);
        assert_eq!(parse_err(doc! { "$mul": { "a": 2 } }).code, codes::NOT_IMPLEMENTED);
    }

    #[test]
    fn paths_apply_in_order_and_new_fields_append() {
        let mut d = doc! { "_id": 1, "z": 1, "m": { "b": 1 } };
        let changed = apply(&mut d, &doc! { "$set": { "y": 1, "m.c": 2, "m.a": 3, "a": 4, "z": 5 } }).unwrap();
        assert!(changed);
        let keys: Vec<&str> = d.keys().map(String::as_str).collect();
        assert_eq!(keys, vec!["_id", "z", "m", "a", "y"]);
        let m_keys: Vec<&str> = d.get_document("m").unwrap().keys().map(String::as_str).collect();
        assert_eq!(m_keys, vec!["b", "a", "c"]);
        assert_eq!(d.get_i32("z").unwrap(), 5);
    }

    #[test]
    fn numeric_parts_index_arrays_in_numeric_order() {
        let mut d = doc! { "_id": 1, "a": [0] };
        apply(&mut d, &doc! { "$set": { "a.10": 10, "a.2": 2 } }).unwrap();
        let a = d.get_array("a").unwrap();
        assert_eq!(a.len(), 11);
        assert_eq!(a[2], Bson::Int32(2));
        assert_eq!(a[1], Bson::Null);
        assert_eq!(a[10], Bson::Int32(10));
        apply_and_undo(&doc! { "_id": 1, "a": [{ "y": 0 }] }, &doc! { "$set": { "a.10": 10, "a.0.x": 1 } });
        let mut scalar = doc! { "_id": 1, "a": [0] };
        assert_eq!(
            apply(&mut scalar, &doc! { "$set": { "a.0.x": 1 } }).unwrap_err(),
            EngineError::new(28, "Cannot create field 'x' in element {0: 0}")
        );
    }

    #[test]
    fn identical_set_is_not_a_modification() {
        let mut d = doc! { "_id": 1, "a": 1, "m": { "x": [1, 2] } };
        assert!(!apply(&mut d, &doc! { "$set": { "a": 1, "m.x": [1, 2] } }).unwrap());
        assert!(apply(&mut d, &doc! { "$set": { "a": 1_i64 } }).unwrap(), "another type is a change");
        assert!(!apply(&mut d, &doc! { "$inc": { "a": 0_i64 } }).unwrap());
        assert!(!apply(&mut d, &doc! { "$unset": { "nope": 1, "m.nope": 1 } }).unwrap());
        assert!(!apply(&mut d, &doc! { "$setOnInsert": { "b": 1 } }).unwrap());
    }

    #[test]
    fn inc_arithmetic() {
        let mut d = doc! { "_id": 1, "i": i32::MAX, "l": 1_i64, "d": 1.5, "m": i64::MAX };
        apply(&mut d, &doc! { "$inc": { "i": 1, "l": 2, "d": 1, "new": 3_i64, "newd": 0.5 } }).unwrap();
        assert_eq!(d.get("i"), Some(&Bson::Int64(i64::from(i32::MAX) + 1)));
        assert_eq!(d.get("l"), Some(&Bson::Int64(3)));
        assert_eq!(d.get("d"), Some(&Bson::Double(2.5)));
        assert_eq!(d.get("new"), Some(&Bson::Int64(3)));
        assert_eq!(d.get("newd"), Some(&Bson::Double(0.5)));
        let mut i = doc! { "_id": 1, "x": 1 };
        apply(&mut i, &doc! { "$inc": { "x": 1.5 } }).unwrap();
        assert_eq!(i.get("x"), Some(&Bson::Double(2.5)));

        let before = d.clone();
        let err = apply(&mut d, &doc! { "$inc": { "l": 1, "m": 1 } }).unwrap_err();
        assert_eq!(err.code, codes::BAD_VALUE);
        assert!(err
            .message
            .starts_with("Failed to apply $inc operations to current value ((NumberLong)9223372036854775807)"));
        assert!(identical_documents_eq(&d, &before), "overflow changes nothing");

        let mut s = doc! { "_id": 1, "s": "x" };
        assert_eq!(
            apply(&mut s, &doc! { "$inc": { "s": 1 } }).unwrap_err(),
            EngineError::new(14, "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 's' of non-numeric type string")
        );
    }

    fn identical_documents_eq(a: &Document, b: &Document) -> bool {
        crate::engine::compare::identical_documents(a, b)
    }

    #[test]
    fn push_forms() {
        let mut d = doc! { "_id": 1, "e": [1] };
        assert!(apply(&mut d, &doc! { "$push": { "e": 2, "f": { "$each": [] }, "g": { "a": 1 } } }).unwrap());
        assert_eq!(d.get_array("e").unwrap(), &vec![Bson::Int32(1), Bson::Int32(2)]);
        assert_eq!(d.get_array("f").unwrap(), &Vec::<Bson>::new(), "empty $each creates []");
        assert_eq!(d.get_array("g").unwrap(), &vec![Bson::Document(doc! { "a": 1 })]);
        assert!(
            !apply(&mut d, &doc! { "$push": { "e": { "$each": [] } } }).unwrap(),
            "empty $each on an array is a no-op"
        );
        apply(&mut d, &doc! { "$push": { "e": { "$each": [0], "$position": 0 } } }).unwrap();
        assert_eq!(d.get_array("e").unwrap(), &vec![Bson::Int32(0), Bson::Int32(1), Bson::Int32(2)]);
        apply(&mut d, &doc! { "$push": { "e": { "$each": [3, 4], "$slice": -3 } } }).unwrap();
        assert_eq!(d.get_array("e").unwrap(), &vec![Bson::Int32(2), Bson::Int32(3), Bson::Int32(4)]);
        apply(&mut d, &doc! { "$push": { "e": { "$each": [9], "$position": -1 } } }).unwrap();
        assert_eq!(d.get_array("e").unwrap(), &vec![Bson::Int32(2), Bson::Int32(3), Bson::Int32(9), Bson::Int32(4)]);
        // values with `$` and `.` names are stored verbatim
        apply(&mut d, &doc! { "$push": { "e": { "$each": [{ "$x": 1, "a.b": 2 }] } } }).unwrap();
        assert_eq!(d.get_array("e").unwrap().last(), Some(&Bson::Document(doc! { "$x": 1, "a.b": 2 })));
    }

    #[test]
    fn push_onto_a_non_array() {
        let mut d = doc! { "_id": "s1", "events": "x" };
        assert_eq!(
            apply(&mut d, &doc! { "$push": { "events": 1 } }).unwrap_err(),
            EngineError::bad_value(
                "The field 'events' must be an array but is of type string in document {_id: \"s1\"}"
            )
        );
    }

    #[test]
    fn paths_through_scalars() {
        let mut d = doc! { "_id": 1, "a": "x", "arr": [1, 2] };
        assert_eq!(
            apply(&mut d, &doc! { "$set": { "a.b": 1 } }).unwrap_err(),
            EngineError::new(28, "Cannot create field 'b' in element {a: \"x\"}")
        );
        assert_eq!(
            apply(&mut d, &doc! { "$set": { "arr.b": 1 } }).unwrap_err(),
            EngineError::new(28, "Cannot create field 'b' in element {arr: [ 1, 2 ]}")
        );
        assert!(
            !apply(&mut d, &doc! { "$unset": { "a.b": 1, "arr.b": 1 } }).unwrap(),
            "$unset through a scalar is a no-op"
        );
    }

    #[test]
    fn errors_roll_back_earlier_paths() {
        let original = doc! { "_id": 1, "a": 1, "b": "x", "m": { "k": 1 }, "e": [1], "z": "s" };
        let mut d = original.clone();
        // "a", "b", "e", "m.k", "m.n" apply before "z.c" fails on the string
        let err = apply(
            &mut d,
            &doc! { "$set": { "a": 2, "m.k": 3, "m.n": 4 }, "$push": { "e": 2 }, "$unset": { "b": 1 }, "$inc": { "z.c": 1 } },
        )
        .unwrap_err();
        assert_eq!(err, EngineError::new(28, "Cannot create field 'c' in element {z: \"s\"}"));
        assert!(identical_documents_eq(&d, &original), "got {d:?}");
        apply_and_undo(
            &original,
            &doc! {
                "$set": { "a": 2, "m.k": 3, "m.n": { "deep": [1] }, "new.x": 1 },
                "$push": { "e": { "$each": [2], "$slice": 1 } },
                "$unset": { "b": 1, "z": 1 },
            },
        );
    }

    #[test]
    fn id_is_immutable() {
        let mut d = doc! { "_id": 1, "a": 1 };
        assert_eq!(
            apply(&mut d, &doc! { "$set": { "_id": 2, "a": 5 } }).unwrap_err(),
            EngineError::new(66, "Performing an update on the path '_id' would modify the immutable field '_id'")
        );
        assert_eq!(d.get("a"), Some(&Bson::Int32(1)));
        assert!(!apply(&mut d, &doc! { "$set": { "_id": 1 } }).unwrap());
        assert_eq!(apply(&mut d, &doc! { "$unset": { "_id": 1 } }).unwrap_err().code, 66);
    }

    #[test]
    fn nesting_limit() {
        let mut deep = Bson::Int32(1);
        for _ in 0..MAX_STORED_DEPTH - 1 {
            deep = Bson::Document(doc! { "d": deep });
        }
        // top-level field "x" at level 1 holding MAX - 1 nested documents: the innermost
        // element is at level MAX
        let mut d = doc! { "_id": 1 };
        apply(&mut d, &doc! { "$set": { "x": deep.clone() } }).unwrap();
        let mut d = doc! { "_id": 1 };
        assert_eq!(apply(&mut d, &doc! { "$set": { "m.x": deep } }).unwrap_err().code, codes::OVERFLOW);
        assert_eq!(d, doc! { "_id": 1 });
    }

    #[test]
    fn insert_mode_applies_set_on_insert() {
        let update = doc! { "$setOnInsert": { "m.a": 1, "b": 2 }, "$inc": { "m.p": 1_i64 } };
        let mut m = modifiers(&update);
        let mut d = doc! { "m": { "p": 0_i64 } };
        let applied = m.apply(&mut d, true).unwrap();
        assert!(applied.changed);
        assert_eq!(d, doc! { "m": { "p": 1_i64, "a": 1 }, "b": 2 });
    }

    #[test]
    fn dollar_names() {
        let mut d = doc! { "_id": 1 };
        assert_eq!(apply(&mut d, &doc! { "$set": { "$x": 1 } }).unwrap_err().code, code::DOLLAR_PREFIXED_FIELD_NAME);
        apply(&mut d, &doc! { "$set": { "a.$x": 1, "v": { "$y": 1, "p.q": 2 } } }).unwrap();
        assert_eq!(d, doc! { "_id": 1, "a": { "$x": 1 }, "v": { "$y": 1, "p.q": 2 } });
    }
}
