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
use serde::Deserialize;
use streamdoc_core::{Clock, IdGenerator, Layout, Namespace, Resolver, SeededIds, Storage, StoreConfig};
use wasm_bindgen::prelude::*;

use crate::convert::{get, set, string_field, to_u64, Values};
use crate::error::type_error;

/// The first failure of a JavaScript callback since the last [`Callbacks::take`].
#[derive(Debug, Default)]
pub(crate) struct Callbacks {
    failure: RefCell<Option<JsValue>>,
}

impl Callbacks {
    fn fail(&self, error: JsValue) {
        self.failure.borrow_mut().get_or_insert(error);
    }

    /// Takes the failure, if any: the caller throws it instead of core's result.
    pub(crate) fn take(&self) -> Option<JsValue> {
        self.failure.borrow_mut().take()
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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    database: Option<String>,
    layout: Option<Layout>,
    max_attempts: Option<u32>,
    id_seed: Option<u64>,
    values: Option<Values>,
    command_log: Option<LogOption>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum LogOption {
    On(bool),
    Capacity(u32),
}

/// How many entries the command log keeps when enabled with `true`.
const DEFAULT_LOG_CAPACITY: usize = 1000;

/// Everything an `EventStore` is built from.
pub(crate) struct StoreOptions {
    pub config: StoreConfig,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub values: Values,
    /// 0: no command log.
    pub log_capacity: usize,
    pub executor: Option<Function>,
    pub callbacks: Rc<Callbacks>,
}

fn data(options: &JsValue) -> Result<Data, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(Data::default());
    }
    if !options.is_object() {
        return Err(type_error("options must be an object"));
    }
    serde_wasm_bindgen::from_value(options.clone()).map_err(|e| type_error(format!("invalid options: {e}")))
}

fn function(options: &JsValue, key: &str) -> Result<Option<Function>, JsValue> {
    let v = get(options, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into::<Function>().map(Some).map_err(|_| type_error(format!("options.{key} must be a function")))
}

/// Reads the options of `new EventStore(options)`.
pub(crate) fn store_options(options: &JsValue) -> Result<StoreOptions, JsValue> {
    let d = data(options)?;
    let callbacks = Rc::new(Callbacks::default());
    let config = config(options, &d, &callbacks)?;
    let clock: Arc<dyn Clock> = match function(options, "clock")? {
        Some(f) => Arc::new(JsClock(SendWrapper::new((f, callbacks.clone())))),
        None => Arc::new(SystemClock),
    };
    let ids: Arc<dyn IdGenerator> = match (function(options, "generateEventId")?, d.id_seed) {
        (Some(_), Some(_)) => return Err(type_error("give options.idSeed or options.generateEventId, not both")),
        (Some(f), None) => Arc::new(JsIds(SendWrapper::new((f, callbacks.clone())))),
        (None, Some(seed)) => Arc::new(SeededIds::new(seed)),
        (None, None) => Arc::new(SeededIds::new(random_seed())),
    };
    let log_capacity = match d.command_log {
        None | Some(LogOption::On(false)) => 0,
        Some(LogOption::On(true)) => DEFAULT_LOG_CAPACITY,
        Some(LogOption::Capacity(n)) => n as usize,
    };
    Ok(StoreOptions {
        config,
        clock,
        ids,
        values: d.values.unwrap_or_default(),
        log_capacity,
        executor: function(options, "executor")?,
        callbacks,
    })
}

/// The configuration part of store or simulation options: `database`, `layout`,
/// `storage`, `maxAttempts`.
pub(crate) fn store_config(options: &JsValue, callbacks: &Rc<Callbacks>) -> Result<StoreConfig, JsValue> {
    config(options, &data(options)?, callbacks)
}

fn config(options: &JsValue, d: &Data, callbacks: &Rc<Callbacks>) -> Result<StoreConfig, JsValue> {
    let mut config = StoreConfig::new(d.database.clone().unwrap_or_else(|| "streamdoc".to_owned()))
        .with_layout(d.layout.unwrap_or_default())
        .with_storage(storage(&get(options, "storage"), callbacks)?);
    if let Some(n) = d.max_attempts {
        config.max_attempts = n;
    }
    Ok(config)
}

/// `storage`: `{ kind: "perStreamType", prefix? }`, `{ kind: "single", name? }` or
/// `{ kind: "custom", resolve(stream) { return { database, collection } } }`.
fn storage(v: &JsValue, callbacks: &Rc<Callbacks>) -> Result<Storage, JsValue> {
    if v.is_undefined() || v.is_null() {
        return Ok(Storage::default());
    }
    let kind = string_field(v, "kind", "options.storage").map_err(type_error)?;
    let optional_string = |key: &str| -> Result<Option<String>, JsValue> {
        let value = get(v, key);
        if value.is_undefined() || value.is_null() {
            return Ok(None);
        }
        value.as_string().map(Some).ok_or_else(|| type_error(format!("options.storage.{key} must be a string")))
    };
    Ok(match kind.as_str() {
        "perStreamType" => match optional_string("prefix")? {
            Some(prefix) => Storage::PrefixedCollectionPerStreamType { prefix },
            None => Storage::CollectionPerStreamType,
        },
        "single" => Storage::SingleCollection { name: optional_string("name")? },
        "custom" => {
            let resolve =
                function(v, "resolve")?.ok_or_else(|| type_error("options.storage.resolve must be a function"))?;
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

/// `seed` for an engine or a generator: a `bigint` or a non-negative integer.
pub(crate) fn seed(v: &JsValue, what: &str) -> Result<u64, JsValue> {
    if v.is_undefined() || v.is_null() {
        Ok(0)
    } else {
        to_u64(v, what)
    }
}
