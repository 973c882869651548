//! `Engine`: core's in-memory MongoDB as a JavaScript object, so that several stores
//! (through executors) or a test can share one database.

use std::cell::RefCell;

use js_sys::Array;
use serde::Deserialize;
use streamdoc_core::engine::EngineOptions;
use streamdoc_core::Engine;
use wasm_bindgen::prelude::*;

use crate::convert;
use crate::error::{self, type_error};

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

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Options {
    slice_projection: Option<bool>,
    max_document_size: Option<u32>,
}

/// The JavaScript `Engine` (types in `ENGINE_TYPES`).
#[wasm_bindgen(js_name = Engine, skip_typescript)]
#[derive(Debug)]
pub struct JsEngine {
    engine: RefCell<Engine>,
}

#[wasm_bindgen(js_class = Engine)]
impl JsEngine {
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsEngine, JsValue> {
        error::enter()?;
        let o: Options = if options.is_undefined() || options.is_null() {
            Options::default()
        } else {
            serde_wasm_bindgen::from_value(options.clone())
                .map_err(|e| type_error(format!("invalid engine options: {e}")))?
        };
        let seed = crate::options::seed(&convert::get(&options, "seed"), "options.seed")?;
        let mut engine_options = EngineOptions::default();
        if let Some(slice) = o.slice_projection {
            engine_options.slice_projection = slice;
        }
        if let Some(max) = o.max_document_size {
            engine_options.max_document_size = max as usize;
        }
        Ok(JsEngine { engine: RefCell::new(Engine::with_options(seed, engine_options)) })
    }

    pub fn execute(&self, command: JsValue) -> Result<JsValue, JsValue> {
        error::enter()?;
        let command = convert::command_from_js(&command).map_err(type_error)?;
        let reply = self.engine.borrow_mut().execute(&command);
        Ok(convert::reply_to_js(&reply))
    }

    pub fn namespaces(&self) -> Result<Array, JsValue> {
        error::enter()?;
        Ok(self.engine.borrow().namespaces().iter().map(|ns| JsValue::from_str(&ns.to_string())).collect())
    }

    pub fn documents(&self) -> Result<JsValue, JsValue> {
        error::enter()?;
        Ok(convert::stored_documents(&self.engine.borrow()))
    }

    #[wasm_bindgen(js_name = clone)]
    pub fn duplicate(&self) -> Result<JsEngine, JsValue> {
        error::enter()?;
        Ok(JsEngine { engine: RefCell::new(self.engine.borrow().clone()) })
    }
}
