//! `Simulation`: core's simulator in JavaScript — clients running scripted operations,
//! interleaved command by command against one engine under explicit schedules, and
//! exhaustive exploration of every schedule with the invariant checks.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::{Array, Object};
use streamdoc_core::sim::{self, invariants, ClientScript, Simulation};
use wasm_bindgen::prelude::*;

use crate::convert::{self, get, set, Values};
use crate::error::{self, type_error};
use crate::options::{self, Callbacks};

#[wasm_bindgen(typescript_custom_section)]
const SIM_TYPES: &'static str = r#"
/** One operation of a simulated client. */
export type SimOperation =
  | { op: "append"; stream: string; events: NewEvent[]; expected?: ExpectedStreamVersion }
  | { op: "read"; stream: string; from?: bigint; to?: bigint; maxCount?: bigint }
  | { op: "exists"; stream: string };

/** A client and the operations it runs, in order. Event ids default to `{name}{op}-{n}`. */
export interface ClientScript {
  name: string;
  ops: SimOperation[];
}

/** Options of `new Simulation(options)`. */
export interface SimulationOptions {
  /** The clients; each is a store with its own record of the indexes it ensured. */
  clients: ClientScript[];
  database?: string;
  layout?: "streamdoc" | "emmett";
  storage?: StorageOption;
  maxAttempts?: number;
  /** How BSON values come back in read results. Default `"native"`. */
  values?: "native" | "canonical";
}

/** One command of a run. */
export interface TraceEntry {
  client: number;
  opIndex: number;
  /** What the operation was doing. */
  step: string;
  /** The command in mongosh syntax. */
  command: string;
  /** The engine's reply in mongosh syntax. */
  reply: string;
}

/** A finished operation. */
export interface Outcome {
  client: number;
  opIndex: number;
  op: SimOperation;
  /** For appends: the ids of the events, generated ones included. */
  eventIds: string[];
  /** What the operation returned: the value its `EventStore` method resolves to, or the error it rejects with. */
  result: { ok: AppendToStreamResult | ReadStreamResult | boolean } | { error: Error & { kind: ErrorKind; details: ErrorDetails } };
}

/** A broken invariant (core's serde form, plus its message). */
export interface Violation {
  kind: string;
  message: string;
  [field: string]: unknown;
}

/** What exploring every schedule found. */
export interface Exploration {
  /** Complete schedules run. */
  schedules: number;
  /** True when the limit stopped the search early. */
  truncated: boolean;
  /** Each violation with the schedule that produced it (the first 32). */
  violations: { schedule: number[]; violation: Violation }[];
  /** How many schedules ended with each combination of results, e.g. `"a0:ok(1) b0:ConcurrencyConflict(actual 1)"`. */
  outcomes: Record<string, number>;
}

/**
 * Several clients' operations interleaved command by command against one in-memory
 * engine: the production state machines, under a schedule you choose or under every
 * schedule (`explore`), checking after each that positions are contiguous, nothing
 * acknowledged is lost, a failed append changes nothing, and every failure is typed.
 *
 * @example
 * const racer = (name: string): ClientScript => ({
 *   name, ops: [{ op: "append", stream: "order:1", events: [{ type: "Placed" }], expected: STREAM_DOES_NOT_EXIST }],
 * });
 * const sim = new Simulation({ clients: [racer("a"), racer("b")] });
 * const report = sim.explore();
 * // report.violations is empty; every schedule has exactly one winner
 */
export class Simulation {
  constructor(options: SimulationOptions);
  /** Client names, by index. */
  clientNames(): string[];
  /** The clients that have a command to send. */
  runnable(): number[];
  /** True when every client has finished its script. */
  isFinished(): boolean;
  /** The command `client` would send next, in mongosh syntax. */
  pending(client: number): string | null;
  /** Lets `client` send its next command and take the reply. */
  step(client: number): void;
  /** Runs `schedule` (client indexes), then lets every client finish in client order. */
  run(schedule: number[]): void;
  /** Lets every client finish, lowest index first. */
  runToEnd(): void;
  /** Every command sent so far. */
  trace(): TraceEntry[];
  /** Every finished operation, in the order they finished. */
  outcomes(): Outcome[];
  /** The engine's documents, in canonical Extended JSON. */
  documents(): StoredDocuments;
  /** The invariants broken by the run so far (empty: all hold). */
  checkInvariants(): Violation[];
  /** Runs every schedule from the current state (at most `limit`, default 1,000,000). */
  explore(options?: { limit?: number }): Exploration;
  /** An independent copy of the run. */
  clone(): Simulation;
  free(): void;
}
"#;

/// The JavaScript `Simulation` (types in `SIM_TYPES`).
#[wasm_bindgen(js_name = Simulation, skip_typescript)]
#[derive(Debug)]
pub struct JsSimulation {
    sim: RefCell<Simulation>,
    values: Values,
}

fn scripts(v: &JsValue) -> Result<Vec<ClientScript>, JsValue> {
    if !Array::is_array(v) {
        return Err(type_error("options.clients must be an array"));
    }
    let clients: &Array = v.unchecked_ref();
    clients
        .iter()
        .map(|c| {
            let name = convert::string_field(&c, "name", "client").map_err(type_error)?;
            let ops = get(&c, "ops");
            if !Array::is_array(&ops) {
                return Err(type_error(format!("client {name}: ops must be an array")));
            }
            let ops = ops.unchecked_into::<Array>().iter().map(|op| convert::op_spec(&op)).collect::<Result<_, _>>()?;
            Ok(ClientScript { name, ops })
        })
        .collect()
}

fn violation(v: &invariants::Violation) -> JsValue {
    let js = convert::json_to_js(&serde_json::to_value(v).unwrap_or_default());
    let _ = js_sys::Reflect::set(&js, &JsValue::from_str("message"), &JsValue::from_str(&v.to_string()));
    js
}

fn indexes(values: impl IntoIterator<Item = usize>) -> Array {
    values.into_iter().map(|i| JsValue::from_f64(i as f64)).collect()
}

#[wasm_bindgen(js_class = Simulation)]
impl JsSimulation {
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsSimulation, JsValue> {
        error::enter()?;
        let callbacks = Rc::new(Callbacks::default());
        let config = options::store_config(&options, &callbacks)?;
        let clients = scripts(&get(&options, "clients"))?;
        let values = match get(&options, "values").as_string().as_deref() {
            None | Some("native") => Values::Native,
            Some("canonical") => Values::Canonical,
            Some(other) => {
                return Err(type_error(format!("options.values must be \"native\" or \"canonical\", not {other:?}")))
            }
        };
        let sim = Simulation::new(config, clients);
        if let Some(thrown) = callbacks.take() {
            return Err(thrown);
        }
        Ok(JsSimulation { sim: RefCell::new(sim), values })
    }

    #[wasm_bindgen(js_name = clientNames)]
    pub fn client_names(&self) -> Result<Array, JsValue> {
        error::enter()?;
        Ok(self.sim.borrow().client_names().iter().map(|n| JsValue::from_str(n)).collect())
    }

    pub fn runnable(&self) -> Result<Array, JsValue> {
        error::enter()?;
        Ok(indexes(self.sim.borrow().runnable()))
    }

    #[wasm_bindgen(js_name = isFinished)]
    pub fn is_finished(&self) -> Result<bool, JsValue> {
        error::enter()?;
        Ok(self.sim.borrow().is_finished())
    }

    pub fn pending(&self, client: usize) -> Result<Option<String>, JsValue> {
        error::enter()?;
        Ok(self.sim.borrow().pending(client).map(|c| c.to_mongosh()))
    }

    pub fn step(&self, client: usize) -> Result<(), JsValue> {
        error::enter()?;
        self.sim.borrow_mut().step(client).map_err(|e| js_sys::RangeError::new(&e.to_string()).into())
    }

    pub fn run(&self, schedule: Vec<usize>) -> Result<(), JsValue> {
        error::enter()?;
        self.sim.borrow_mut().run(&schedule).map_err(|e| js_sys::RangeError::new(&e.to_string()).into())
    }

    #[wasm_bindgen(js_name = runToEnd)]
    pub fn run_to_end(&self) -> Result<(), JsValue> {
        error::enter()?;
        self.sim.borrow_mut().run_to_end();
        Ok(())
    }

    pub fn trace(&self) -> Result<Array, JsValue> {
        error::enter()?;
        Ok(self
            .sim
            .borrow()
            .trace()
            .iter()
            .map(|t| {
                let object = Object::new();
                set(&object, "client", &JsValue::from_f64(t.client as f64));
                set(&object, "opIndex", &JsValue::from_f64(t.op_index as f64));
                set(&object, "step", &JsValue::from_str(t.step));
                set(&object, "command", &JsValue::from_str(&t.command.to_mongosh()));
                set(&object, "reply", &JsValue::from_str(&t.reply.to_mongosh()));
                JsValue::from(object)
            })
            .collect())
    }

    pub fn outcomes(&self) -> Result<Array, JsValue> {
        error::enter()?;
        Ok(self
            .sim
            .borrow()
            .outcomes()
            .iter()
            .map(|o| {
                let object = Object::new();
                set(&object, "client", &JsValue::from_f64(o.client as f64));
                set(&object, "opIndex", &JsValue::from_f64(o.op_index as f64));
                set(&object, "op", &convert::op_spec_to_js(&o.spec, self.values));
                set(&object, "eventIds", &o.event_ids.iter().map(|id| JsValue::from_str(id)).collect::<Array>());
                let result = Object::new();
                match &o.result {
                    Ok(output) => set(&result, "ok", &convert::op_output(output, self.values)),
                    Err(e) => set(&result, "error", &error::to_js(e)),
                }
                set(&object, "result", &result);
                JsValue::from(object)
            })
            .collect())
    }

    pub fn documents(&self) -> Result<JsValue, JsValue> {
        error::enter()?;
        Ok(convert::stored_documents(self.sim.borrow().engine()))
    }

    #[wasm_bindgen(js_name = checkInvariants)]
    pub fn check_invariants(&self) -> Result<Array, JsValue> {
        error::enter()?;
        Ok(invariants::check(&self.sim.borrow()).iter().map(violation).collect())
    }

    pub fn explore(&self, options: JsValue) -> Result<JsValue, JsValue> {
        error::enter()?;
        let limit = match get(&options, "limit") {
            v if v.is_undefined() || v.is_null() => 1_000_000,
            v => convert::to_u64(&v, "options.limit")?,
        };
        let report = sim::explore(&self.sim.borrow(), limit);
        let object = Object::new();
        set(&object, "schedules", &JsValue::from_f64(report.schedules as f64));
        set(&object, "truncated", &JsValue::from_bool(report.truncated));
        let violations: Array = report
            .violations
            .iter()
            .map(|(schedule, v)| {
                let entry = Object::new();
                set(&entry, "schedule", &indexes(schedule.iter().copied()));
                set(&entry, "violation", &violation(v));
                JsValue::from(entry)
            })
            .collect();
        set(&object, "violations", &violations);
        let outcomes = Object::new();
        for (summary, count) in &report.outcomes {
            set(&outcomes, summary, &JsValue::from_f64(*count as f64));
        }
        set(&object, "outcomes", &outcomes);
        Ok(object.into())
    }

    #[wasm_bindgen(js_name = clone)]
    pub fn duplicate(&self) -> Result<JsSimulation, JsValue> {
        error::enter()?;
        Ok(JsSimulation { sim: RefCell::new(self.sim.borrow().clone()), values: self.values })
    }
}
