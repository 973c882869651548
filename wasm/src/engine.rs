//! `Engine`: core's in-memory MongoDB as a JavaScript object, so that several stores
//! (through executors) or a test can share one database.

use std::cell::RefCell;

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
 * `execute` is a ready-made executor, so stores can share one engine:
 *
 * @example
 * const engine = new Engine();
 * const a = new EventStore({ executor: (command) => engine.execute(command) });
 * const b = new EventStore({ executor: (command) => engine.execute(command) });
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
    engine: RefCell<Engine>,
    guard: Guard,
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
        Ok(JsEngine { engine: RefCell::new(Engine::with_options(seed, engine_options)), guard: Guard::new("Engine") })
    }

    pub fn execute(&self, command: JsValue) -> Result<JsValue, JsValue> {
        let _call = error::enter(&self.guard)?;
        let command = wire::command_from_js(&command).map_err(type_error)?;
        let reply = self.engine.borrow_mut().execute(&command);
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
        Ok(JsEngine { engine: RefCell::new(self.engine.borrow().clone()), guard: Guard::new("Engine") })
    }
}
