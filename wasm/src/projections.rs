//! Inline projections in JavaScript: the `projections` option read into core's
//! [`InlineProjection`]s (a JavaScript `evolve` wrapped as core's synchronous fold), and
//! Emmett's `projections.inline` queries read into core's [`ProjectionQuery`].
//!
//! A projection is given as the options object of emmett-mongodb's
//! `mongoDBInlineProjection({ name?, canHandle, evolve, initialState?, schemaVersion? })`,
//! plus streamdoc's `streamTypes` and `indexes`, bare or in Emmett's registration
//! `{ type: "inline", projection }`. What `mongoDBInlineProjection` returns cannot be used:
//! its `handle` is asynchronous and writes into Emmett's own update, while core folds the
//! events synchronously into the append's one conditional update.
//!
//! `evolve(state, event)` receives the event as `readStream` returns it and the stored
//! read model without `_metadata` (or the initial state, or `null`), both through the
//! store's value conversion ([`crate::values`]); it returns the new state, or
//! `null`/`undefined` to delete the read model. It must be synchronous: a Promise, a
//! throw, or a state that cannot be stored fails the append with a `ProjectionError`,
//! and nothing is written.

use std::rc::Rc;
use std::sync::Arc;

use bson::{Bson, Document};
use js_sys::{Array, Function};
use send_wrapper::SendWrapper;
use streamdoc_core::limits::MAX_VALUE_DEPTH;
use streamdoc_core::ops::{ReadResult, SummaryFn};
use streamdoc_core::projection::{EvolveError, InlineProjection, ProjectionQuery, READ_MODEL_METADATA};
use streamdoc_core::{ConfigError, Error, RecordedEvent, StoreConfig};
use wasm_bindgen::prelude::*;

use crate::error;
use crate::executor::describe;
use crate::js::{check_options, get, is_absent, optional_function, optional_string, optional_u64, type_error};
use crate::ops;
use crate::options::Callbacks;
use crate::values::{document_to_js, to_bson, to_document, ValueError, Values};

#[wasm_bindgen(module = "/js/emmett.js")]
extern "C" {
    /// Whether `value` is a Promise or another thenable.
    #[wasm_bindgen(js_name = isThenable)]
    fn is_thenable(value: &JsValue) -> bool;
    /// Lets a promise nobody awaits settle without an unhandled rejection.
    #[wasm_bindgen(js_name = settleQuietly)]
    fn settle_quietly(value: &JsValue);
}

/// Emmett's `MongoDBDefaultInlineProjectionName`: the name of a projection given none,
/// and the projection a query reads when it names none.
pub const DEFAULT_PROJECTION_NAME: &str = "_default";

/// The keys of a projection's definition: `mongoDBInlineProjection`'s options, and
/// streamdoc's `streamTypes` and `indexes`.
const DEFINITION_KEYS: [&str; 7] =
    ["name", "canHandle", "evolve", "initialState", "schemaVersion", "streamTypes", "indexes"];

/// `options.projections`: the store's inline projections, in order.
pub(crate) fn projections(
    v: &JsValue,
    values: Values,
    callbacks: &Rc<Callbacks>,
) -> Result<Vec<InlineProjection>, JsValue> {
    if is_absent(v) {
        return Ok(Vec::new());
    }
    if !Array::is_array(v) {
        return Err(type_error(
            "options.projections must be an array of projections ({ name?, canHandle, evolve, initialState?, ... })",
        ));
    }
    v.unchecked_ref::<Array>()
        .iter()
        .enumerate()
        .map(|(i, p)| projection(&p, &format!("options.projections[{i}]"), values, callbacks))
        .collect()
}

/// One projection: a definition, or Emmett's registration `{ type: "inline", projection }`.
fn projection(v: &JsValue, what: &str, values: Values, callbacks: &Rc<Callbacks>) -> Result<InlineProjection, JsValue> {
    let object = |v: &JsValue, what: &str| {
        if v.is_object() && !Array::is_array(v) {
            Ok(())
        } else {
            Err(type_error(format!("{what} must be a projection {{ name?, canHandle, evolve, ... }}")))
        }
    };
    object(v, what)?;
    let (v, what) = if !is_absent(&get(v, "type")) || !is_absent(&get(v, "projection")) {
        check_options(v, &["type", "projection"], what)?;
        if get(v, "type").as_string().as_deref() != Some("inline") {
            return Err(type_error(format!(
                "{what}.type must be \"inline\": streamdoc's projections are inline, written by the append's own update"
            )));
        }
        (get(v, "projection"), format!("{what}.projection"))
    } else {
        (v.clone(), what.to_owned())
    };
    object(&v, &what)?;
    let name = optional_string(&v, "name", &what)?.unwrap_or_else(|| DEFAULT_PROJECTION_NAME.to_owned());
    if get(&v, "handle").is_function() && is_absent(&get(&v, "evolve")) {
        let why = "it is what emmett-mongodb's mongoDBInlineProjection(...) returns, whose asynchronous `handle` \
                   writes into Emmett's own update; streamdoc folds the events synchronously into the append's \
                   update: pass the options object given to mongoDBInlineProjection instead \
                   ({ name, canHandle, evolve, initialState?, schemaVersion? })";
        return Err(error::to_js(&Error::InvalidConfig(ConfigError::InvalidProjection { name, why: why.into() })));
    }
    check_options(&v, &DEFINITION_KEYS, &what)?;
    let can_handle = strings(&get(&v, "canHandle"), &format!("{what}.canHandle"))?
        .ok_or_else(|| type_error(format!("{what}.canHandle must be an array of event types")))?;
    let evolve = optional_function(&v, "evolve", &what)?
        .ok_or_else(|| type_error(format!("{what}.evolve must be a function (state, event) => state")))?;
    let mut p = InlineProjection::new(name, can_handle, js_evolve(evolve, values, callbacks.clone()));
    if let Some(initial) = optional_function(&v, "initialState", &what)? {
        let state = initial.call0(&JsValue::NULL)?;
        let state = to_document(&state, &format!("{what}.initialState()"), MAX_VALUE_DEPTH).map_err(type_error)?;
        p = p.with_initial(state);
    }
    if let Some(version) = optional_u64(&v, "schemaVersion", &what)? {
        let version = u32::try_from(version)
            .ok()
            .filter(|n| i32::try_from(*n).is_ok())
            .ok_or_else(|| type_error(format!("{what}.schemaVersion must be an integer below 2^31")))?;
        p = p.with_schema_version(version);
    }
    if let Some(types) = strings(&get(&v, "streamTypes"), &format!("{what}.streamTypes"))? {
        p = p.for_stream_types(types);
    }
    let indexes = get(&v, "indexes");
    if !is_absent(&indexes) {
        let what = format!("{what}.indexes");
        if !Array::is_array(&indexes) {
            return Err(type_error(format!("{what} must be an array of index keys ({{ field: 1 | -1 }})")));
        }
        for (i, keys) in indexes.unchecked_into::<Array>().iter().enumerate() {
            p = p.with_index(to_document(&keys, &format!("{what}[{i}]"), MAX_VALUE_DEPTH).map_err(type_error)?);
        }
    }
    Ok(p)
}

/// An optional array of strings.
fn strings(v: &JsValue, what: &str) -> Result<Option<Vec<String>>, JsValue> {
    if is_absent(v) {
        return Ok(None);
    }
    if !Array::is_array(v) {
        return Err(type_error(format!("{what} must be an array of strings")));
    }
    v.unchecked_ref::<Array>()
        .iter()
        .map(|s| s.as_string().ok_or_else(|| type_error(format!("{what} must be an array of strings"))))
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// A JavaScript `evolve` as core's fold. core's projections must be `Send + Sync` (the
/// host shares them across threads); the module runs on one thread, so the function is
/// kept in a `SendWrapper`, as the other callbacks are ([`crate::options`]).
fn js_evolve(
    evolve: Function,
    values: Values,
    callbacks: Rc<Callbacks>,
) -> impl Fn(Option<Document>, &RecordedEvent) -> Result<Option<Document>, EvolveError> + Send + Sync + 'static {
    let callback = SendWrapper::new((evolve, callbacks));
    move |state: Option<Document>, event: &RecordedEvent| {
        let (evolve, callbacks) = &*callback;
        callbacks.evolve_threw(None);
        let state = state.map_or(JsValue::NULL, |s| document_to_js(&s, values));
        let returned = match evolve.call2(&JsValue::NULL, &state, &ops::recorded_event(event, values)) {
            Ok(returned) => returned,
            Err(thrown) => {
                let message = format!("evolve threw: {}", crate::executor::describe(&thrown));
                callbacks.evolve_threw(Some(thrown));
                return Err(EvolveError(message));
            }
        };
        state_from_js(&returned)
    }
}

/// The `projection` of the `ProjectionError` a failed `closeStream` summary function
/// gives: a name no projection can have (projection names have no `.`).
pub const SUMMARY_PROJECTION: &str = "closeStream.summary";

/// `closeStream`'s `summary: (readResult) => event` as core's computed summary. The
/// function is called synchronously with the closed stream as `readStream` returns it
/// (all its events, in the store's values), before anything is written; when it throws,
/// returns a Promise or returns something that is not an event, the operation fails
/// with a `ProjectionError` (projection [`SUMMARY_PROJECTION`]) whose `cause` is what it
/// threw (or why its value was refused), and nothing is written. Kept in a
/// `SendWrapper` as the other callbacks are.
pub(crate) fn js_summary(
    summary: Function,
    (stream, successor): (String, String),
    values: Values,
    callbacks: Rc<Callbacks>,
) -> SummaryFn {
    let callback = SendWrapper::new((summary, stream, successor, callbacks));
    Arc::new(move |read: &ReadResult| {
        let (summary, stream, successor, callbacks) = &*callback;
        callbacks.evolve_threw(None);
        let failed = |cause: JsValue, message: String| {
            callbacks.evolve_threw(Some(cause));
            Error::Projection { stream: stream.clone(), projection: SUMMARY_PROJECTION.into(), message }
        };
        let returned = summary
            .call1(&JsValue::NULL, &ops::read_result(read, values))
            .map_err(|thrown| failed(thrown.clone(), format!("the summary function threw: {}", describe(&thrown))))?;
        if is_thenable(&returned) {
            settle_quietly(&returned);
            let message = "the summary function returned a Promise: it must be synchronous (compute what it needs \
                           from the events it is given)";
            return Err(failed(type_error(message), message.into()));
        }
        ops::summary_event(&returned, successor, "the event the summary function returned")
            .map_err(|refused| failed(refused.clone(), describe(&refused)))
    })
}

/// What `evolve` returned, as the new state (`None`: delete the read model).
fn state_from_js(returned: &JsValue) -> Result<Option<Document>, EvolveError> {
    if is_absent(returned) {
        return Ok(None);
    }
    if is_thenable(returned) {
        settle_quietly(returned);
        return Err(EvolveError(
            "evolve returned a Promise: an inline projection's evolve must be synchronous, since its state is \
             written by the append's own update (an async evolve is not supported)"
                .into(),
        ));
    }
    let mut state = to_document(returned, "the state evolve returned", MAX_VALUE_DEPTH).map_err(|e| match e {
        ValueError::TooDeep { .. } => EvolveError(format!("the state nests deeper than {MAX_VALUE_DEPTH} levels")),
        ValueError::Invalid(message) => EvolveError(format!("{message} (evolve returns the new state, or null)")),
    })?;
    // The read model's own field is the store's to write.
    state.remove(READ_MODEL_METADATA);
    Ok(Some(state))
}

// ---------------------------------------------------------------- Emmett's queries

/// The stream filter of `findOne`.
const SINGLE_FILTER_KEYS: [&str; 4] = ["projectionName", "streamName", "streamType", "streamId"];
/// The stream filter of `find` and `count`.
const MULTI_FILTER_KEYS: [&str; 4] = ["projectionName", "streamNames", "streamType", "streamIds"];

/// The read model filter (`projectionQuery`), on the read model's own fields.
fn read_model_filter(v: &JsValue, what: &str) -> Result<Document, JsValue> {
    if is_absent(v) {
        return Ok(Document::new());
    }
    to_document(v, what, MAX_VALUE_DEPTH).map_err(type_error)
}

fn projection_name(filter: &JsValue, what: &str) -> Result<String, JsValue> {
    Ok(optional_string(filter, "projectionName", what)?.unwrap_or_else(|| DEFAULT_PROJECTION_NAME.to_owned()))
}

/// The stream type and the stream name of `{ streamType, streamId }` (Emmett's
/// `toStreamName`).
fn by_type(filter: &JsValue, id_key: &str, what: &str) -> Result<String, JsValue> {
    if !is_absent(&get(filter, "streamName")) || !is_absent(&get(filter, "streamNames")) {
        return Err(type_error(format!("{what}: give the stream names, or streamType and {id_key}, not both")));
    }
    optional_string(filter, "streamType", what)?
        .ok_or_else(|| type_error(format!("{what} needs a stream name or a streamType")))
}

/// Emmett's `findOne(streamFilter, projectionQuery)`: `{ projectionName?, streamName }`
/// or `{ projectionName?, streamType, streamId? }`, and a filter on the read model's
/// fields. The first read model that matches (by stream name).
pub(crate) fn find_one_query(
    config: &StoreConfig,
    filter: &JsValue,
    projection_query: &JsValue,
) -> Result<ProjectionQuery, JsValue> {
    let what = "projections.inline.findOne streamFilter";
    if !filter.is_object() {
        return Err(type_error(format!("{what} must be an object")));
    }
    check_options(filter, &SINGLE_FILTER_KEYS, what)?;
    let projection = projection_name(filter, what)?;
    let (stream_type, names) = match optional_string(filter, "streamName", what)? {
        Some(name) => {
            if !is_absent(&get(filter, "streamType")) || !is_absent(&get(filter, "streamId")) {
                return Err(type_error(format!("{what}: give streamName, or streamType and streamId, not both")));
            }
            let parsed = config.stream_name(&name).map_err(|e| error::to_js(&e.into()))?;
            (parsed.stream_type().to_owned(), Some(vec![name]))
        }
        None => {
            let stream_type = by_type(filter, "streamId", what)?;
            let id = optional_string(filter, "streamId", what)?;
            let names = id.map(|id| vec![format!("{stream_type}:{id}")]);
            (stream_type, names)
        }
    };
    let mut query = ProjectionQuery::new(stream_type, projection)
        .filter(read_model_filter(projection_query, "projections.inline.findOne projectionQuery")?)
        .limit(1);
    query.stream_names = names;
    Ok(query)
}

/// Emmett's `find(streamFilter, projectionQuery, { skip, limit, sort })` and
/// `count(streamFilter, projectionQuery)`: `{ projectionName?, streamNames }` or
/// `{ projectionName?, streamType, streamIds? }`. `None` when `streamNames` is empty
/// (Emmett answers `[]` and `0` without asking the server); an empty `streamIds` is no
/// filter, as in Emmett.
pub(crate) fn find_query(
    config: &StoreConfig,
    method: &str,
    filter: &JsValue,
    projection_query: &JsValue,
    options: &JsValue,
) -> Result<Option<ProjectionQuery>, JsValue> {
    let what = format!("projections.inline.{method} streamFilter");
    let what = what.as_str();
    if !filter.is_object() {
        return Err(type_error(format!("{what} must be an object")));
    }
    check_options(filter, &MULTI_FILTER_KEYS, what)?;
    let projection = projection_name(filter, what)?;
    let names = get(filter, "streamNames");
    let (stream_type, names) = if !is_absent(&names) {
        if !is_absent(&get(filter, "streamType")) || !is_absent(&get(filter, "streamIds")) {
            return Err(type_error(format!("{what}: give streamNames, or streamType and streamIds, not both")));
        }
        let names = strings(&names, &format!("{what}.streamNames"))?.unwrap_or_default();
        let mut stream_type: Option<String> = None;
        for name in &names {
            let parsed = config.stream_name(name).map_err(|e| error::to_js(&e.into()))?;
            match &stream_type {
                None => stream_type = Some(parsed.stream_type().to_owned()),
                Some(t) if t != parsed.stream_type() => {
                    return Err(type_error(format!(
                        "{what}.streamNames must all be of one stream type: {name:?} is not of type {t:?}"
                    )))
                }
                Some(_) => {}
            }
        }
        let Some(stream_type) = stream_type else { return Ok(None) };
        (stream_type, Some(names))
    } else {
        let stream_type = by_type(filter, "streamIds", what)?;
        let ids = strings(&get(filter, "streamIds"), &format!("{what}.streamIds"))?.unwrap_or_default();
        let names = (!ids.is_empty()).then(|| ids.iter().map(|id| format!("{stream_type}:{id}")).collect());
        (stream_type, names)
    };
    let mut query = ProjectionQuery::new(stream_type, projection)
        .filter(read_model_filter(projection_query, &format!("projections.inline.{method} projectionQuery"))?);
    query.stream_names = names;
    let what = format!("projections.inline.{method} queryOptions");
    check_options(options, &["skip", "limit", "sort"], &what)?;
    query.skip = optional_u64(options, "skip", &what)?.unwrap_or(0);
    query.limit = optional_u64(options, "limit", &what)?.unwrap_or(0);
    let sort = get(options, "sort");
    if !is_absent(&sort) {
        query.sort = Some(sort_document(&sort, &format!("{what}.sort"))?);
    }
    Ok(Some(query))
}

/// The fields of streamdoc's own query (`findReadModels`, `countReadModels`).
const NATIVE_QUERY_KEYS: [&str; 7] = ["streamType", "projection", "streams", "filter", "sort", "skip", "limit"];

/// streamdoc's own query: `{ streamType, projection, streams?, filter?, sort?, skip?, limit? }`,
/// core's [`ProjectionQuery`] field for field.
pub(crate) fn native_query(query: &JsValue, method: &str) -> Result<ProjectionQuery, JsValue> {
    let what = format!("{method} query");
    let what = what.as_str();
    if !query.is_object() {
        return Err(type_error(format!("{what} must be an object {{ streamType, projection, ... }}")));
    }
    check_options(query, &NATIVE_QUERY_KEYS, what)?;
    let stream_type =
        optional_string(query, "streamType", what)?.ok_or_else(|| type_error(format!("{what} needs a streamType")))?;
    let projection = optional_string(query, "projection", what)?.unwrap_or_else(|| DEFAULT_PROJECTION_NAME.to_owned());
    let mut out = ProjectionQuery::new(stream_type, projection)
        .filter(read_model_filter(&get(query, "filter"), &format!("{what}.filter"))?);
    out.stream_names = strings(&get(query, "streams"), &format!("{what}.streams"))?;
    out.skip = optional_u64(query, "skip", what)?.unwrap_or(0);
    out.limit = optional_u64(query, "limit", what)?.unwrap_or(0);
    let sort = get(query, "sort");
    if !is_absent(&sort) {
        out.sort = Some(sort_document(&sort, &format!("{what}.sort"))?);
    }
    Ok(out)
}

/// Emmett's sort: `[[field, 1 | -1], ...]` or `{ field: 1 | -1, ... }`, in order.
fn sort_document(v: &JsValue, what: &str) -> Result<Document, JsValue> {
    if !Array::is_array(v) {
        return to_document(v, what, 1).map_err(type_error);
    }
    let mut sort = Document::new();
    for pair in v.unchecked_ref::<Array>().iter() {
        let malformed = || type_error(format!("{what} must be [field, 1 | -1] pairs or {{ field: 1 | -1 }}"));
        if !Array::is_array(&pair) {
            return Err(malformed());
        }
        let pair: Array = pair.unchecked_into();
        let (Some(field), 2) = (pair.get(0).as_string(), pair.length()) else { return Err(malformed()) };
        let direction: Bson = to_bson(&pair.get(1), 0).map_err(|_| malformed())?;
        sort.insert(field, direction);
    }
    Ok(sort)
}
