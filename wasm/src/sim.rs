//! `Simulation`: core's simulator in JavaScript — clients running scripted operations,
//! interleaved command by command under explicit schedules, on the in-memory engine
//! (with exhaustive exploration of every schedule and the invariant checks) or on any
//! executor, driven asynchronously.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bson::Document;
use js_sys::{Array, Object, Promise};
use streamdoc_core::sim::{self, invariants, ClientScript, SimError, Simulation, StoredDocuments};
use streamdoc_core::{Command, Engine, ExecutorError, Reply, StoreContext};
use wasm_bindgen::prelude::*;

use crate::error::{self, Guard};
use crate::executor::{self, JsExecutor};
use crate::js::{check_options, get, json_to_js, optional_function, set, string_field, to_u64, type_error};
use crate::ops;
use crate::options::{self, Callbacks, CONFIG_OPTIONS};
use crate::store::EventStore;
use crate::values::{self, Values};

#[wasm_bindgen(typescript_custom_section)]
const SIM_TYPES: &'static str = r#"
/** One operation of a simulated client. */
export type SimOperation =
  | { op: "append"; stream: string; events: NewEvent[]; expected?: ExpectedStreamVersion }
  | { op: "read"; stream: string; from?: bigint; to?: bigint; maxCount?: bigint }
  | { op: "exists"; stream: string };

/**
 * A client and the operations it runs, in order. Without `store`, the client is a store
 * with the simulation's configuration, appends read the simulation's clock and events
 * get the ids `{name}{op}-{n}`, so a run depends on its schedule alone. With `store`,
 * the client's operations are built by that store: its configuration, clock, ids, and
 * what it remembers (give every client a store, or none).
 */
export interface ClientScript {
  name: string;
  ops: SimOperation[];
  store?: EventStore;
}

/** Options of `new Simulation(options)`. */
export interface SimulationOptions {
  /** The clients; each is a store with its own record of the indexes it ensured. */
  clients: ClientScript[];
  /**
   * Runs the clients' commands (e.g. `mongoExecutor(client)` on a live server): then the
   * run is driven with `stepAsync` / `runAsync` / `runToEndAsync`, and `explore` is not
   * available. Default: a fresh in-memory engine of the simulation's own.
   */
  executor?: Executor;
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
  /** The reply in mongosh syntax, or `no reply: ...`. */
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
  /** Lets `client` send its next command and take the reply (on the in-memory engine). */
  step(client: number): void;
  /** Runs `schedule` (client indexes), then lets every client finish in client order. */
  run(schedule: number[]): void;
  /** Lets every client finish, lowest index first. */
  runToEnd(): void;
  /** As `step`, on any executor. Rejects with a `TypeError` while another step of this simulation runs. */
  stepAsync(client: number): Promise<void>;
  /** As `run`, on any executor. */
  runAsync(schedule: number[]): Promise<void>;
  /** As `runToEnd`, on any executor. */
  runToEndAsync(): Promise<void>;
  /** Every command sent so far. */
  trace(): TraceEntry[];
  /** Every finished operation, in the order they finished. */
  outcomes(): Outcome[];
  /** The engine's documents, in canonical Extended JSON (in-memory engine only). */
  documents(): StoredDocuments;
  /**
   * The invariants broken by the run so far (empty: all hold), against the engine's
   * documents, or against `documents` (e.g. dumped from the server of `options.executor`).
   */
  checkInvariants(documents?: StoredDocuments): Violation[];
  /** Runs every schedule from the current state (at most `limit`, default 1,000,000; in-memory engine only). */
  explore(options?: { limit?: number }): Exploration;
  /** An independent copy of the run. */
  clone(): Simulation;
  free(): void;
}
"#;

/// Where the simulation's commands run: its own engine, or a JavaScript executor that
/// [`JsSimulation`] drives itself (core's `pending` / `deliver`).
#[derive(Debug, Clone)]
enum Target {
    Engine(Engine),
    /// The commands are carried by the async methods.
    Elsewhere,
}

impl streamdoc_core::Executor for Target {
    fn execute(&mut self, command: &Command) -> Result<Reply, ExecutorError> {
        match self {
            Target::Engine(engine) => Ok(engine.execute(command)),
            Target::Elsewhere => {
                Err(ExecutorError { message: "the simulation runs on options.executor".into(), outcome_unknown: false })
            }
        }
    }

    fn execute_owned(&mut self, command: Command) -> Result<Reply, ExecutorError> {
        match self {
            Target::Engine(engine) => Ok(engine.execute_owned(command)),
            Target::Elsewhere => self.execute(&command),
        }
    }
}

impl StoredDocuments for Target {
    fn stored_documents(&self) -> Vec<Document> {
        match self {
            Target::Engine(engine) => engine.stored_documents(),
            Target::Elsewhere => Vec::new(),
        }
    }
}

/// The JavaScript `Simulation` (types in `SIM_TYPES`).
#[wasm_bindgen(js_name = Simulation, skip_typescript)]
#[derive(Debug)]
pub struct JsSimulation {
    sim: Rc<RefCell<Simulation<Target>>>,
    executor: Option<JsExecutor>,
    /// The callbacks of the stores whose contexts build the clients' operations.
    callbacks: Rc<Vec<Rc<Callbacks>>>,
    values: Values,
    /// True while an asynchronous step is out.
    busy: Rc<Cell<bool>>,
    guard: Guard,
}

/// The store of a simulated client: what builds its operations, and where its
/// callbacks report failures.
type ClientStore = (StoreContext, Rc<Callbacks>);

/// A client of the options: its name, its operations, and its store if it has one.
fn client(c: &JsValue, index: usize) -> Result<(ClientScript, Option<ClientStore>), JsValue> {
    let what = format!("options.clients[{index}]");
    check_options(c, &["name", "ops", "store"], &what)?;
    let name = string_field(c, "name", &what).map_err(type_error)?;
    let ops = get(c, "ops");
    if !Array::is_array(&ops) {
        return Err(type_error(format!("{what}.ops must be an array")));
    }
    let ops = ops.unchecked_into::<Array>().iter().map(|op| ops::op_spec(&op)).collect::<Result<_, _>>()?;
    let store = get(c, "store");
    let context = if store.is_undefined() {
        None
    } else {
        let store =
            EventStore::from_js(&store).ok_or_else(|| type_error(format!("{what}.store must be an EventStore")))?;
        Some(store.context())
    };
    Ok((ClientScript { name, ops }, context))
}

fn violation(v: &invariants::Violation) -> JsValue {
    let js = json_to_js(&serde_json::to_value(v).unwrap_or_default());
    let _ = js_sys::Reflect::set(&js, &JsValue::from_str("message"), &JsValue::from_str(&v.to_string()));
    js
}

fn violations(found: Vec<invariants::Violation>) -> Array {
    found.iter().map(violation).collect()
}

fn indexes(values: impl IntoIterator<Item = usize>) -> Array {
    values.into_iter().map(|i| JsValue::from_f64(i as f64)).collect()
}

fn range_error(e: impl std::fmt::Display) -> JsValue {
    js_sys::RangeError::new(&e.to_string()).into()
}

/// `{ "database.collection": [documents] }` given by the caller.
fn given_documents(v: &JsValue) -> Result<Vec<Document>, JsValue> {
    let mut docs = Vec::new();
    for key in crate::js::keys(v).iter() {
        let list = js_sys::Reflect::get(v, &key).unwrap_or(JsValue::UNDEFINED);
        if !Array::is_array(&list) {
            return Err(type_error("checkInvariants(documents): each namespace must map to an array of documents"));
        }
        for doc in list.unchecked_into::<Array>().iter() {
            let limit = streamdoc_core::limits::MAX_STORED_DEPTH;
            docs.push(values::to_document(&doc, "a stored document", limit).map_err(type_error)?);
        }
    }
    Ok(docs)
}

#[wasm_bindgen(js_class = Simulation)]
impl JsSimulation {
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<JsSimulation, JsValue> {
        let _call = error::enter_free()?;
        let mut allowed = vec!["clients", "values", "executor"];
        allowed.extend(CONFIG_OPTIONS);
        check_options(&options, &allowed, "options")?;
        let list = get(&options, "clients");
        if !Array::is_array(&list) {
            return Err(type_error("options.clients must be an array"));
        }
        let clients = list
            .unchecked_into::<Array>()
            .iter()
            .enumerate()
            .map(|(i, c)| client(&c, i))
            .collect::<Result<Vec<_>, _>>()?;
        let values = Values::from_js(&get(&options, "values"), "options.values")?;
        let executor = optional_function(&options, "executor", "options")?.map(JsExecutor);
        let target = if executor.is_some() { Target::Elsewhere } else { Target::Engine(Engine::new(0)) };
        let with_stores = clients.iter().filter(|(_, store)| store.is_some()).count();
        let (sim, callbacks) = if with_stores == 0 {
            let callbacks = Rc::new(Callbacks::default());
            let config = options::store_config(&options, &callbacks)?;
            let scripts = clients.into_iter().map(|(script, _)| script).collect();
            let sim = Simulation::with_executor(target, config, scripts).map_err(|e| error::to_js(&e))?;
            (sim, vec![callbacks])
        } else if with_stores == clients.len() {
            if CONFIG_OPTIONS.iter().any(|k| !get(&options, k).is_undefined()) {
                return Err(type_error("clients with a store take the store's configuration: give no database, layout, storage or maxAttempts"));
            }
            let mut callbacks = Vec::new();
            let mut contexts = Vec::new();
            for (script, store) in clients {
                let Some((ctx, cb)) = store else { continue };
                callbacks.push(cb);
                contexts.push((ctx, script));
            }
            (Simulation::from_contexts(target, contexts), callbacks)
        } else {
            return Err(type_error("give every client a store, or none"));
        };
        let sim = JsSimulation {
            sim: Rc::new(RefCell::new(sim)),
            executor,
            callbacks: Rc::new(callbacks),
            values,
            busy: Rc::new(Cell::new(false)),
            guard: Guard::new("Simulation"),
        };
        sim.callback_failure()?;
        Ok(sim)
    }

    #[wasm_bindgen(js_name = clientNames)]
    pub fn client_names(&self) -> Result<Array, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(self.sim.borrow().client_names().iter().map(|n| JsValue::from_str(n)).collect())
    }

    pub fn runnable(&self) -> Result<Array, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(indexes(self.sim.borrow().runnable()))
    }

    #[wasm_bindgen(js_name = isFinished)]
    pub fn is_finished(&self) -> Result<bool, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(self.sim.borrow().is_finished())
    }

    pub fn pending(&self, client: usize) -> Result<Option<String>, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(self.sim.borrow().pending(client).map(|c| c.to_mongosh()))
    }

    pub fn step(&self, client: usize) -> Result<(), JsValue> {
        let _call = error::enter(&self.guard)?;
        self.on_engine("step")?;
        self.sim.borrow_mut().step(client).map_err(range_error)?;
        self.callback_failure()
    }

    pub fn run(&self, schedule: Vec<usize>) -> Result<(), JsValue> {
        let _call = error::enter(&self.guard)?;
        self.on_engine("run")?;
        self.sim.borrow_mut().run(&schedule).map_err(range_error)?;
        self.callback_failure()
    }

    #[wasm_bindgen(js_name = runToEnd)]
    pub fn run_to_end(&self) -> Result<(), JsValue> {
        let _call = error::enter(&self.guard)?;
        self.on_engine("runToEnd")?;
        self.sim.borrow_mut().run_to_end();
        self.callback_failure()
    }

    #[wasm_bindgen(js_name = stepAsync)]
    pub fn step_async(&self, client: usize) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.guard)?;
        self.spawn(move |runner| async move { runner.step(client).await })
    }

    #[wasm_bindgen(js_name = runAsync)]
    pub fn run_async(&self, schedule: Vec<usize>) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.guard)?;
        self.spawn(move |runner| async move {
            for client in schedule {
                runner.step(client).await?;
            }
            runner.run_to_end().await
        })
    }

    #[wasm_bindgen(js_name = runToEndAsync)]
    pub fn run_to_end_async(&self) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.guard)?;
        self.spawn(|runner| async move { runner.run_to_end().await })
    }

    pub fn trace(&self) -> Result<Array, JsValue> {
        let _call = error::enter(&self.guard)?;
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
                let reply = match &t.reply {
                    Ok(reply) => reply.to_mongosh(),
                    Err(e) => format!("no reply: {e}"),
                };
                set(&object, "reply", &JsValue::from_str(&reply));
                JsValue::from(object)
            })
            .collect())
    }

    pub fn outcomes(&self) -> Result<Array, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(self
            .sim
            .borrow()
            .outcomes()
            .iter()
            .map(|o| {
                let object = Object::new();
                set(&object, "client", &JsValue::from_f64(o.client as f64));
                set(&object, "opIndex", &JsValue::from_f64(o.op_index as f64));
                set(&object, "op", &ops::op_spec_to_js(&o.spec, self.values));
                set(&object, "eventIds", &o.event_ids.iter().map(|id| JsValue::from_str(id)).collect::<Array>());
                let result = Object::new();
                match &o.result {
                    Ok(output) => set(&result, "ok", &ops::op_output(output, self.values)),
                    Err(e) => set(&result, "error", &error::to_js(e)),
                }
                set(&object, "result", &result);
                JsValue::from(object)
            })
            .collect())
    }

    pub fn documents(&self) -> Result<JsValue, JsValue> {
        let _call = error::enter(&self.guard)?;
        match self.sim.borrow().executor() {
            Target::Engine(engine) => Ok(values::stored_documents(engine)),
            Target::Elsewhere => {
                Err(type_error("documents() needs the in-memory engine; this simulation runs on options.executor"))
            }
        }
    }

    #[wasm_bindgen(js_name = checkInvariants)]
    pub fn check_invariants(&self, documents: JsValue) -> Result<Array, JsValue> {
        let _call = error::enter(&self.guard)?;
        let sim = self.sim.borrow();
        if documents.is_undefined() {
            if let Target::Elsewhere = sim.executor() {
                return Err(type_error(
                    "checkInvariants() on options.executor needs the stored documents: checkInvariants(documents)",
                ));
            }
            return Ok(violations(invariants::check(&sim)));
        }
        let given = given_documents(&documents)?;
        Ok(violations(invariants::check_state(sim.config(), given, sim.outcomes())))
    }

    pub fn explore(&self, options: JsValue) -> Result<JsValue, JsValue> {
        let _call = error::enter(&self.guard)?;
        self.on_engine("explore")?;
        check_options(&options, &["limit"], "explore options")?;
        let limit = match get(&options, "limit") {
            v if v.is_undefined() || v.is_null() => 1_000_000,
            v => to_u64(&v, "options.limit")?,
        };
        let report = sim::explore(&self.sim.borrow(), limit);
        let object = Object::new();
        set(&object, "schedules", &JsValue::from_f64(report.schedules as f64));
        set(&object, "truncated", &JsValue::from_bool(report.truncated));
        let found: Array = report
            .violations
            .iter()
            .map(|(schedule, v)| {
                let entry = Object::new();
                set(&entry, "schedule", &indexes(schedule.iter().copied()));
                set(&entry, "violation", &violation(v));
                JsValue::from(entry)
            })
            .collect();
        set(&object, "violations", &found);
        let outcomes = Object::new();
        for (summary, count) in &report.outcomes {
            set(&outcomes, summary, &JsValue::from_f64(*count as f64));
        }
        set(&object, "outcomes", &outcomes);
        Ok(object.into())
    }

    #[wasm_bindgen(js_name = clone)]
    pub fn duplicate(&self) -> Result<JsSimulation, JsValue> {
        let _call = error::enter(&self.guard)?;
        if self.busy.get() {
            return Err(type_error("a simulation cannot be cloned while a step is out"));
        }
        Ok(JsSimulation {
            sim: Rc::new(RefCell::new(self.sim.borrow().clone())),
            executor: self.executor.clone(),
            callbacks: self.callbacks.clone(),
            values: self.values,
            busy: Rc::new(Cell::new(false)),
            guard: Guard::new("Simulation"),
        })
    }
}

impl JsSimulation {
    /// Refuses a synchronous method when the commands run on a JavaScript executor.
    fn on_engine(&self, method: &str) -> Result<(), JsValue> {
        if self.executor.is_some() {
            return Err(type_error(format!(
                "{method}() needs the in-memory engine; this simulation runs on options.executor (use the Async methods)"
            )));
        }
        Ok(())
    }

    /// The first failure of a store's JavaScript callback (clock, ids, resolver).
    fn callback_failure(&self) -> Result<(), JsValue> {
        first_failure(&self.callbacks)
    }

    /// Runs an asynchronous drive of the simulation as a task; one at a time.
    fn spawn<F: std::future::Future<Output = Result<(), JsValue>> + 'static>(
        &self,
        drive: impl FnOnce(Runner) -> F,
    ) -> Result<Promise, JsValue> {
        if self.busy.replace(true) {
            return Ok(Promise::reject(&type_error("another step of this simulation is running: await it first")));
        }
        let runner =
            Runner { sim: self.sim.clone(), executor: self.executor.clone(), callbacks: self.callbacks.clone() };
        let future = drive(runner);
        let busy = self.busy.clone();
        Ok(executor::spawn(self.guard.clone(), async move {
            let result = future.await;
            busy.set(false);
            result.map(|()| JsValue::UNDEFINED)
        }))
    }
}

/// The first failure of the stores' JavaScript callbacks since they were last asked.
fn first_failure(callbacks: &[Rc<Callbacks>]) -> Result<(), JsValue> {
    match callbacks.iter().find_map(|c| c.take()) {
        Some(thrown) => Err(thrown),
        None => Ok(()),
    }
}

/// What an asynchronous drive holds: the simulation, and where its commands go.
struct Runner {
    sim: Rc<RefCell<Simulation<Target>>>,
    executor: Option<JsExecutor>,
    callbacks: Rc<Vec<Rc<Callbacks>>>,
}

impl Runner {
    /// Lets `client` send its next command and take the reply: on the engine at once,
    /// or through the JavaScript executor, awaited.
    async fn step(&self, client: usize) -> Result<(), JsValue> {
        let Some(executor) = &self.executor else {
            self.sim.borrow_mut().step(client).map_err(range_error)?;
            return self.failure();
        };
        let command = self.sim.borrow().pending(client).cloned();
        let Some(command) = command else {
            let clients = self.sim.borrow().client_names().len();
            let e = if client < clients { SimError::ClientFinished(client) } else { SimError::NoSuchClient(client) };
            return Err(range_error(e));
        };
        let reply = executor.execute(&command).await.map_err(|(failure, _cause)| failure);
        self.sim.borrow_mut().deliver(client, reply).map_err(range_error)?;
        self.failure()
    }

    async fn run_to_end(&self) -> Result<(), JsValue> {
        loop {
            let next = self.sim.borrow().runnable().first().copied();
            let Some(client) = next else { return Ok(()) };
            self.step(client).await?;
        }
    }

    fn failure(&self) -> Result<(), JsValue> {
        first_failure(&self.callbacks)
    }
}
