//! `Engine`: core's in-memory MongoDB as a JavaScript object, so that several stores
//! (through executors) or a test can share one database.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Array;
use streamdoc_core::engine::EngineOptions;
use streamdoc_core::Engine;
use wasm_bindgen::prelude::*;

use crate::error::{self, Guard};
use crate::js::{check_options, get, is_absent, optional_u64, type_error};
use crate::{values, wire};

#[wasm_bindgen(typescript_custom_section)]
const ENGINE_TYPES: &'static str = r#"
/** Options of `new Engine(options)`. */
export interface EngineOptions {
  /** Fixes the generated ObjectIds. Default 0. */
  seed?: number | bigint;
  /** `false` answers 238 NotImplemented to `$slice` projections, as FerretDB does. Default `true`. */
  sliceProjection?: boolean;
  /** The largest document a write may produce, in bytes. Default 16 MiB. */
  maxDocumentSize?: number;
}

/**
 * core's in-memory engine: a small MongoDB for the commands the store sends.
 * `execute` is a ready-made executor, so stores can share one engine; or give the
 * engine itself (`new EventStore({ engine })`, `new Simulation({ engine, ... })`) to run
 * on it in the process, synchronously, its change stream included (subscriptions):
 *
 * @example
 * const engine = new Engine();
 * const a = new EventStore({ executor: (command) => engine.execute(command) });
 * const b = new EventStore({ engine });
 */
export class Engine {
  constructor(options?: EngineOptions);
  /** Runs one command and answers as the server would. */
  execute(command: Command): Reply;
  /** The collections that exist, as `database.collection`, sorted. */
  namespaces(): string[];
  /** Every stored document, in canonical Extended JSON. */
  documents(): StoredDocuments;
  /** An independent copy of the engine. */
  clone(): Engine;
  free(): void;
}
"#;

/// The JavaScript `Engine` (types in `ENGINE_TYPES`).
#[wasm_bindgen(js_name = Engine, skip_typescript)]
#[derive(Debug)]
pub struct JsEngine {
    engine: Rc<RefCell<Engine>>,
    guard: Guard,
}

/// A second reference to an engine, for the stores and simulations that run on it
/// (`options.engine`). Internal: no TypeScript type.
#[wasm_bindgen(skip_typescript)]
#[derive(Debug)]
pub struct EngineHandle {
    engine: Rc<RefCell<Engine>>,
}

/// The engine of `options[key]`, when it is given: an `Engine` (through its
/// `__handle()`), to share in the process.
pub(crate) fn shared_engine(options: &JsValue, key: &str, what: &str) -> Result<Option<Rc<RefCell<Engine>>>, JsValue> {
    let value = get(options, key);
    if is_absent(&value) {
        return Ok(None);
    }
    let handle = get(&value, "__handle")
        .dyn_into::<js_sys::Function>()
        .ok()
        .and_then(|f| f.call0(&value).ok())
        .and_then(|h| <EngineHandle as wasm_bindgen::convert::TryFromJsValue>::try_from_js_value(h).ok());
    match handle {
        Some(h) => Ok(Some(h.engine)),
        None => Err(type_error(format!("{what}.{key} must be an Engine"))),
    }
}

#[wasm_bindgen(js_class = Engine)]
impl JsEngine {
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsEngine, JsValue> {
        let _call = error::enter_free()?;
        check_options(&options, &["seed", "sliceProjection", "maxDocumentSize"], "engine options")?;
        let seed = crate::options::seed(&get(&options, "seed"), "options.seed")?;
        let mut engine_options = EngineOptions::default();
        let slice = get(&options, "sliceProjection");
        if !is_absent(&slice) {
            engine_options.slice_projection =
                slice.as_bool().ok_or_else(|| type_error("options.sliceProjection must be a boolean"))?;
        }
        if let Some(max) = optional_u64(&options, "maxDocumentSize", "options")? {
            engine_options.max_document_size = usize::try_from(max).unwrap_or(usize::MAX);
        }
        Ok(JsEngine {
            engine: Rc::new(RefCell::new(Engine::with_options(seed, engine_options))),
            guard: Guard::new("Engine"),
        })
    }

    /// Internal (no TypeScript type): a handle on this engine for a store or a simulation.
    #[wasm_bindgen(js_name = "__handle", skip_typescript)]
    pub fn handle(&self) -> Result<EngineHandle, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(EngineHandle { engine: self.engine.clone() })
    }

    pub fn execute(&self, command: JsValue) -> Result<JsValue, JsValue> {
        let _call = error::enter(&self.guard)?;
        let command = wire::command_from_js(&command).map_err(type_error)?;
        // A store's operation on this engine calls back into JavaScript (a clock, an
        // evolve) while it holds the engine: a command from there is refused.
        let mut engine = self.engine.try_borrow_mut().map_err(|_| {
            type_error("the engine is running an operation of a store or simulation; run commands after it returns")
        })?;
        let reply = engine.execute(&command);
        Ok(wire::reply_to_js(&reply))
    }

    pub fn namespaces(&self) -> Result<Array, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(self.engine.borrow().namespaces().iter().map(|ns| JsValue::from_str(&ns.to_string())).collect())
    }

    pub fn documents(&self) -> Result<JsValue, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(values::stored_documents(&self.engine.borrow()))
    }

    #[wasm_bindgen(js_name = clone)]
    pub fn duplicate(&self) -> Result<JsEngine, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(JsEngine { engine: Rc::new(RefCell::new(self.engine.borrow().clone())), guard: Guard::new("Engine") })
    }
}
