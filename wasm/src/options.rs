//! Store and simulation options: read into core's own types, with JavaScript
//! callbacks (clock, event ids, custom storage) adapted to core's traits.
//!
//! core's `Clock`, `IdGenerator` and `Resolver` must be `Send + Sync` (the host shares
//! them across threads). A JavaScript function is neither, but the module runs on one
//! thread, so each is wrapped in a `SendWrapper`, which checks that. A callback cannot
//! report failure through core's traits: the first exception (or malformed return) is
//! kept in `Callbacks` and thrown by the method that triggered it, once core returns.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use bson::DateTime;
use js_sys::{Function, Object};
use send_wrapper::SendWrapper;
use streamdoc_core::layout::ArchiveStorage;
use streamdoc_core::{Clock, IdGenerator, Layout, Namespace, Resolver, SeededIds, Storage, StoreConfig};
use wasm_bindgen::prelude::*;

use crate::js::{
    check_options, get, is_absent, optional_function, optional_string, optional_u64, set, string_field, to_u64,
    type_error,
};
use crate::values::Values;

/// The first failure of a JavaScript callback since the last [`Callbacks::take`], and
/// what the last call of a projection's `evolve` threw.
#[derive(Debug, Default)]
pub(crate) struct Callbacks {
    failure: RefCell<Option<JsValue>>,
    evolve_thrown: RefCell<Option<JsValue>>,
}

impl Callbacks {
    fn fail(&self, error: JsValue) {
        self.failure.borrow_mut().get_or_insert(error);
    }

    /// Takes the failure, if any: the caller throws it instead of core's result.
    pub(crate) fn take(&self) -> Option<JsValue> {
        self.failure.borrow_mut().take()
    }

    /// What the `evolve` being called threw (`None`: it has not thrown). A failed
    /// `evolve` is reported through core, as its `Projection` error; what it threw is kept
    /// to become that error's `cause` ([`Callbacks::take_evolve_thrown`]). Every call
    /// starts by clearing it, and a failure ends the operation at once, so what is kept
    /// belongs to the error the operation ends with.
    pub(crate) fn evolve_threw(&self, thrown: Option<JsValue>) {
        *self.evolve_thrown.borrow_mut() = thrown;
    }

    /// Takes what the last `evolve` threw.
    pub(crate) fn take_evolve_thrown(&self) -> Option<JsValue> {
        self.evolve_thrown.borrow_mut().take()
    }
}

/// A JavaScript function and where its failures go.
type Callback = SendWrapper<(Function, Rc<Callbacks>)>;

/// The real time, from `Date.now()`.
#[derive(Debug)]
struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime {
        DateTime::from_millis(js_sys::Date::now() as i64)
    }
}

/// `clock: () => Date | number` (milliseconds since the epoch).
struct JsClock(Callback);

impl Clock for JsClock {
    fn now(&self) -> DateTime {
        let (f, callbacks) = &*self.0;
        let value = match f.call0(&JsValue::NULL) {
            Ok(v) => v,
            Err(e) => {
                callbacks.fail(e);
                return DateTime::from_millis(0);
            }
        };
        let ms = match value.dyn_ref::<js_sys::Date>() {
            Some(d) => d.get_time(),
            None => value.as_f64().unwrap_or(f64::NAN),
        };
        if ms.is_finite() {
            DateTime::from_millis(ms as i64)
        } else {
            callbacks.fail(type_error("options.clock must return a Date or a number of milliseconds"));
            DateTime::from_millis(0)
        }
    }
}

/// `generateEventId: () => string`.
struct JsIds(Callback);

impl IdGenerator for JsIds {
    fn next_event_id(&self) -> String {
        let (f, callbacks) = &*self.0;
        match f.call0(&JsValue::NULL).map(|v| v.as_string()) {
            Ok(Some(id)) => id,
            Ok(None) => {
                callbacks.fail(type_error("options.generateEventId must return a string"));
                String::new()
            }
            Err(e) => {
                callbacks.fail(e);
                String::new()
            }
        }
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buffer: &mut [u32]);
}

/// A seed from the platform's cryptographic random source, so that two stores do not
/// generate the same event ids.
fn random_seed() -> u64 {
    let mut words = [0u32; 2];
    get_random_values(&mut words);
    (u64::from(words[0]) << 32) | u64::from(words[1])
}

/// How many entries the command log keeps when enabled with `true`.
const DEFAULT_LOG_CAPACITY: usize = 1000;

/// The options of `new EventStore(options)`.
const STORE_OPTIONS: [&str; 16] = [
    "database",
    "layout",
    "storage",
    "maxAttempts",
    "defaultStreamType",
    "projections",
    "archive",
    "segments",
    "executor",
    "engine",
    "clock",
    "idSeed",
    "generateEventId",
    "values",
    "commandLog",
    "hooks",
];

/// The configuration options, shared by stores and simulations.
pub(crate) const CONFIG_OPTIONS: [&str; 8] =
    ["database", "layout", "storage", "maxAttempts", "defaultStreamType", "projections", "archive", "segments"];

/// Everything an `EventStore` is built from.
pub(crate) struct StoreOptions {
    pub config: StoreConfig,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub values: Values,
    /// 0: no command log.
    pub log_capacity: usize,
    pub executor: Option<Function>,
    /// `options.engine`: an `Engine` to run on in the process, shared.
    pub engine: Option<Rc<RefCell<streamdoc_core::Engine>>>,
    pub callbacks: Rc<Callbacks>,
    /// `hooks.onAfterCommit`, Emmett's hook: called after each successful append.
    pub on_after_commit: Option<Function>,
}

/// Reads the options of `new EventStore(options)`; an unknown option is a `TypeError`.
pub(crate) fn store_options(options: &JsValue) -> Result<StoreOptions, JsValue> {
    check_options(options, &STORE_OPTIONS, "options")?;
    let callbacks = Rc::new(Callbacks::default());
    let values = Values::from_js(&get(options, "values"), "options.values")?;
    let config = store_config(options, &callbacks, values)?;
    let clock: Arc<dyn Clock> = match optional_function(options, "clock", "options")? {
        Some(f) => Arc::new(JsClock(SendWrapper::new((f, callbacks.clone())))),
        None => Arc::new(SystemClock),
    };
    let seed = get(options, "idSeed");
    let ids: Arc<dyn IdGenerator> = match (optional_function(options, "generateEventId", "options")?, is_absent(&seed))
    {
        (Some(_), false) => return Err(type_error("give options.idSeed or options.generateEventId, not both")),
        (Some(f), true) => Arc::new(JsIds(SendWrapper::new((f, callbacks.clone())))),
        (None, false) => Arc::new(SeededIds::new(self::seed(&seed, "options.idSeed")?)),
        (None, true) => Arc::new(SeededIds::new(random_seed())),
    };
    let log = get(options, "commandLog");
    let log_capacity = match log.as_bool() {
        _ if is_absent(&log) => 0,
        Some(on) => {
            if on {
                DEFAULT_LOG_CAPACITY
            } else {
                0
            }
        }
        None => usize::try_from(to_u64(&log, "options.commandLog (true, false or a number of entries)")?)
            .unwrap_or(usize::MAX),
    };
    let executor = optional_function(options, "executor", "options")?;
    let engine = crate::engine::shared_engine(options, "engine", "options")?;
    if executor.is_some() && engine.is_some() {
        return Err(type_error("give options.executor or options.engine, not both"));
    }
    Ok(StoreOptions {
        config,
        clock,
        ids,
        values,
        log_capacity,
        executor,
        engine,
        callbacks,
        on_after_commit: hooks(&get(options, "hooks"))?,
    })
}

/// `hooks: { onAfterCommit? }`, as Emmett's `DefaultEventStoreOptions` spells them.
fn hooks(v: &JsValue) -> Result<Option<Function>, JsValue> {
    if is_absent(v) {
        return Ok(None);
    }
    check_options(v, &["onAfterCommit"], "options.hooks")?;
    optional_function(v, "onAfterCommit", "options.hooks")
}

/// The configuration part of store or simulation options: `database`, `layout`,
/// `storage`, `maxAttempts`, `defaultStreamType`, `projections`, `archive`, `segments`
/// (the caller checks which keys the object may have; core validates the combination). `values` is how the projections' `evolve` sees values.
pub(crate) fn store_config(
    options: &JsValue,
    callbacks: &Rc<Callbacks>,
    values: Values,
) -> Result<StoreConfig, JsValue> {
    let storage_option = emmett_storage(&get(options, "storage"))?;
    let database = match (optional_string(options, "database", "options")?, storage_option.database_name()?) {
        (Some(a), Some(b)) if a != b => {
            return Err(type_error(format!(
                "options.database ({a:?}) and options.storage.databaseName ({b:?}) name different databases: give one"
            )))
        }
        (a, b) => b.or(a).unwrap_or_else(|| "streamdoc".to_owned()),
    };
    let layout = match optional_string(options, "layout", "options")?.as_deref() {
        None | Some("streamdoc") => Layout::Streamdoc,
        Some("emmett") => Layout::Emmett,
        Some(other) => {
            return Err(type_error(format!("options.layout must be \"streamdoc\" or \"emmett\", not {other:?}")))
        }
    };
    let mut config = StoreConfig::new(database.clone()).with_layout(layout).with_storage(storage(
        &storage_option,
        callbacks,
        &database,
    )?);
    if let Some(n) = optional_u64(options, "maxAttempts", "options")? {
        config.max_attempts = u32::try_from(n)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| type_error("options.maxAttempts must be a positive integer below 2^32"))?;
    }
    if let Some(stream_type) = optional_string(options, "defaultStreamType", "options")? {
        config = config.with_default_stream_type(stream_type);
    }
    for projection in crate::projections::projections(&get(options, "projections"), values, callbacks)? {
        config = config.with_projection(projection);
    }
    if let Some(archive) = archive_storage(&get(options, "archive"))? {
        config = config.with_archive(archive);
    }
    let segments = get(options, "segments");
    if !is_absent(&segments) {
        check_options(&segments, &["maxBytes"], "options.segments")?;
        let max_bytes = get(&segments, "maxBytes");
        if is_absent(&max_bytes) {
            return Err(type_error("options.segments.maxBytes is required: the size a segment's events stay under"));
        }
        config = config.with_segments(to_u64(&max_bytes, "options.segments.maxBytes")?);
    }
    Ok(config)
}

/// `archive: { suffix } | { database }`: where archived streams go (default: the live
/// collection's name with the suffix `"_archive"`, in its database).
fn archive_storage(v: &JsValue) -> Result<Option<ArchiveStorage>, JsValue> {
    if is_absent(v) {
        return Ok(None);
    }
    let what = "options.archive";
    check_options(v, &["suffix", "database"], what)?;
    match (optional_string(v, "suffix", what)?, optional_string(v, "database", what)?) {
        (Some(suffix), None) => Ok(Some(ArchiveStorage::Suffix(suffix))),
        (None, Some(database)) => Ok(Some(ArchiveStorage::Database(database))),
        _ => Err(type_error("options.archive must be { suffix } or { database }: give exactly one")),
    }
}

/// `storage` as given: streamdoc's own spelling, or `@event-driven-io/emmett-mongodb`'s.
enum StorageOption {
    Own(JsValue),
    /// `{ type: "COLLECTION_PER_STREAM_TYPE" | "SINGLE_COLLECTION" | "CUSTOM", ... }` or
    /// the bare strings `"COLLECTION_PER_STREAM_TYPE"`, `"SINGLE_COLLECTION"`.
    Emmett {
        kind: String,
        object: JsValue,
    },
}

impl StorageOption {
    /// Emmett's `databaseName`, which stands for streamdoc's `options.database`.
    fn database_name(&self) -> Result<Option<String>, JsValue> {
        match self {
            StorageOption::Own(_) => Ok(None),
            StorageOption::Emmett { object, .. } => optional_string(object, "databaseName", "options.storage"),
        }
    }
}

/// Tells the two spellings of `storage` apart: Emmett's has `type` (or is one of its
/// two strings), streamdoc's has `kind`.
fn emmett_storage(v: &JsValue) -> Result<StorageOption, JsValue> {
    if let Some(kind) = v.as_string() {
        return match kind.as_str() {
            "COLLECTION_PER_STREAM_TYPE" | "SINGLE_COLLECTION" => {
                Ok(StorageOption::Emmett { kind, object: JsValue::UNDEFINED })
            }
            other => Err(type_error(format!(
                "options.storage must be an object, \"COLLECTION_PER_STREAM_TYPE\" or \"SINGLE_COLLECTION\", not {other:?}"
            ))),
        };
    }
    let kind = get(v, "type");
    if is_absent(&kind) || !is_absent(&get(v, "kind")) {
        return Ok(StorageOption::Own(v.clone()));
    }
    let kind = kind.as_string().ok_or_else(|| type_error("options.storage.type must be a string"))?;
    Ok(StorageOption::Emmett { kind, object: v.clone() })
}

/// `storage`, in either spelling. Emmett's map onto streamdoc's own, whose default
/// collection names follow the layout (with `layout: "emmett"`, emmett-mongodb's):
/// `COLLECTION_PER_STREAM_TYPE` is `perStreamType`, `SINGLE_COLLECTION` with
/// `collectionName` is `single` with `name`, and `CUSTOM`'s `collectionFor(streamType)`
/// (a collection name, or `{ collectionName, databaseName? }`) is a custom resolver
/// whose database defaults to `database`.
fn storage(option: &StorageOption, callbacks: &Rc<Callbacks>, database: &str) -> Result<Storage, JsValue> {
    let v = match option {
        StorageOption::Own(v) => v,
        StorageOption::Emmett { kind, object } => return emmett_storage_kind(kind, object, callbacks, database),
    };
    if is_absent(v) {
        return Ok(Storage::default());
    }
    let what = "options.storage";
    let kind = string_field(v, "kind", what).map_err(type_error)?;
    Ok(match kind.as_str() {
        "perStreamType" => {
            check_options(v, &["kind", "prefix"], what)?;
            match optional_string(v, "prefix", what)? {
                Some(prefix) => Storage::PrefixedCollectionPerStreamType { prefix },
                None => Storage::CollectionPerStreamType,
            }
        }
        "single" => {
            check_options(v, &["kind", "name"], what)?;
            Storage::SingleCollection { name: optional_string(v, "name", what)? }
        }
        "custom" => {
            check_options(v, &["kind", "resolve"], what)?;
            let resolve = optional_function(v, "resolve", what)?
                .ok_or_else(|| type_error("options.storage.resolve must be a function"))?;
            let callback: Callback = SendWrapper::new((resolve, callbacks.clone()));
            Storage::Custom(Resolver::new(move |stream| {
                let (f, callbacks) = &*callback;
                let arg = Object::new();
                set(&arg, "name", &JsValue::from_str(stream.as_str()));
                set(&arg, "type", &JsValue::from_str(stream.stream_type()));
                set(&arg, "id", &JsValue::from_str(stream.stream_id()));
                let resolved = f.call1(&JsValue::NULL, &arg).and_then(|ns| {
                    let part =
                        |key: &str| string_field(&ns, key, "options.storage.resolve() result").map_err(type_error);
                    Ok(Namespace::new(part("database")?, part("collection")?))
                });
                resolved.unwrap_or_else(|e| {
                    callbacks.fail(e);
                    Namespace::new("", "")
                })
            }))
        }
        other => {
            return Err(type_error(format!(
                "options.storage.kind must be \"perStreamType\", \"single\" or \"custom\", not {other:?}"
            )))
        }
    })
}

/// Emmett's spelling of `storage` (see [`storage`]).
fn emmett_storage_kind(kind: &str, v: &JsValue, callbacks: &Rc<Callbacks>, database: &str) -> Result<Storage, JsValue> {
    let what = "options.storage";
    Ok(match kind {
        "COLLECTION_PER_STREAM_TYPE" => {
            check_options(v, &["type", "databaseName"], what)?;
            Storage::CollectionPerStreamType
        }
        "SINGLE_COLLECTION" => {
            check_options(v, &["type", "collectionName", "databaseName"], what)?;
            Storage::SingleCollection { name: optional_string(v, "collectionName", what)? }
        }
        "CUSTOM" => {
            check_options(v, &["type", "collectionFor", "databaseName"], what)?;
            let collection_for = optional_function(v, "collectionFor", what)?
                .ok_or_else(|| type_error("options.storage.collectionFor must be a function"))?;
            let callback: Callback = SendWrapper::new((collection_for, callbacks.clone()));
            let database = database.to_owned();
            Storage::Custom(Resolver::new(move |stream| {
                let (f, callbacks) = &*callback;
                let what = "options.storage.collectionFor() result";
                let resolved = f.call1(&JsValue::NULL, &JsValue::from_str(stream.stream_type())).and_then(|r| {
                    if let Some(collection) = r.as_string() {
                        return Ok(Namespace::new(database.clone(), collection));
                    }
                    check_options(&r, &["collectionName", "databaseName"], what)?;
                    let collection = string_field(&r, "collectionName", what).map_err(type_error)?;
                    let db = optional_string(&r, "databaseName", what)?.unwrap_or_else(|| database.clone());
                    Ok(Namespace::new(db, collection))
                });
                resolved.unwrap_or_else(|e| {
                    callbacks.fail(e);
                    Namespace::new("", "")
                })
            }))
        }
        other => {
            return Err(type_error(format!(
                "options.storage.type must be \"COLLECTION_PER_STREAM_TYPE\", \"SINGLE_COLLECTION\" or \"CUSTOM\", not {other:?}"
            )))
        }
    })
}

/// `seed` for an engine or a generator: a `bigint` or a non-negative integer.
pub(crate) fn seed(v: &JsValue, what: &str) -> Result<u64, JsValue> {
    if is_absent(v) {
        Ok(0)
    } else {
        to_u64(v, what)
    }
}
