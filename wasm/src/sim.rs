//! `Simulation`: core's simulator in JavaScript — clients running scripted operations,
//! interleaved command by command under explicit schedules, on the in-memory engine
//! (with exhaustive exploration of every schedule and the invariant checks) or on any
//! executor, driven asynchronously.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use bson::Document;
use js_sys::{Array, Object, Promise};
use streamdoc_core::sim::{self, invariants, ClientScript, Design, SimError, SimOptions, Simulation, StoredDocuments};
use streamdoc_core::{Command, Engine, ExecutorError, Reply, StoreContext};
use wasm_bindgen::prelude::*;

use crate::error::{self, Guard};
use crate::executor::{self, JsExecutor};
use crate::explorer;
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
  | { op: "read"; stream: string; from?: bigint; to?: bigint; maxCount?: bigint; expected?: ExpectedStreamVersion; fromArchive?: boolean }
  | { op: "exists"; stream: string }
  /** The stream's status (`streamStatus`'s result). */
  | { op: "status"; stream: string }
  /** `archiveStream` (`expected` as its `expectedStreamVersion`). */
  | { op: "archive"; stream: string; expected?: ExpectedStreamVersion }
  /** `closeStream` with a summary event (a function cannot be replayed in every schedule). */
  | { op: "closeStream"; stream: string; successor: string; summary: NewEvent; expected?: ExpectedStreamVersion }
  | { op: "rebuild"; stream: string; projection?: string }
  | { op: "readModel"; stream: string; projection: string };

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
  /**
   * An in-memory engine to run on in the process, shared (e.g. with an `EventStore` given
   * the same engine, which can subscribe to the race's streams); not with `executor`.
   * `clone()` and `explore` work on copies of it.
   */
  engine?: Engine;
  database?: string;
  layout?: "streamdoc" | "emmett";
  storage?: StorageOption;
  maxAttempts?: number;
  defaultStreamType?: string;
  /** The clients' inline projections (as `EventStoreOptions.projections`); the invariants check that every read model is the fold of its events. */
  projections?: ProjectionOption[];
  /** Where archived streams go (as `EventStoreOptions.archive`). */
  archive?: { suffix: string } | { database: string };
  /** Segmented streams (as `EventStoreOptions.segments`). */
  segments?: { maxBytes: number | bigint };
  /** How BSON values come back in read results. Default `"native"`. */
  values?: "native" | "canonical";
  /**
   * How the clients append: `"streamdoc"` (the default), or one of the deliberately broken
   * designs of `designs()`, which exist only here, never in an `EventStore`.
   */
  design?: Design;
  /** How many times a client retries an append whose reply was lost, with the same event ids. Default 0. */
  retries?: number;
}

/** The append's design: streamdoc's, or a deliberately broken one. */
export type Design = "streamdoc" | "noUniqueIndex" | "noPositionInFilter" | "upsertedCountCheck" | "blindRetry" | "documentPerEvent";

/** What a design does, and what it breaks. */
export interface DesignInfo {
  id: Design;
  title: string;
  summary: string;
  /** The invariant (a `Violation` kind) it breaks; `null` for streamdoc's. */
  breaks: string | null;
  /** Why, as an explanation of a counterexample ends. */
  because: string;
  /** The id of the race (`races()`) that shows the flaw. */
  scenario: string;
  /** True when the flaw shows only when a reply is lost (explore with `faults: 1`). */
  needsFaults: boolean;
}

/** A race of the gallery: a setup run first, then clients racing. */
export interface Race {
  id: string;
  title: string;
  summary: string;
  layout: "streamdoc" | "emmett";
  setup: SimOperation[];
  clients: { name: string; ops: SimOperation[] }[];
  retries: number;
  faults: number;
  /** A schedule worth stepping through first, and the indexes of its steps whose replies are lost. */
  schedule: number[];
  lost: number[];
}

/** A schedule, and which of its steps lose their reply. */
export interface Path {
  schedule: number[];
  lost: number[];
}

/** What happened in a run, counted. */
export interface Tally {
  duplicateKeys: number;
  zeroMatches: number;
  rewrites: number;
  lostReplies: number;
  retries: number;
  conflicts: number;
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
  /** True when the reply was lost on its way back: the command was applied, the client saw an unknown outcome. */
  lost: boolean;
  /** The attempt of the operation (2 and more: a retry after a lost reply). */
  attempt: number;
}

/** A finished operation. */
export interface Outcome {
  client: number;
  opIndex: number;
  op: SimOperation;
  /** For appends: the ids of the events, generated ones included. */
  eventIds: string[];
  /** How many times it was sent (more than 1 after a lost reply). */
  attempts: number;
  /** What the operation returned: the value its `EventStore` method resolves to, or the error it rejects with. */
  result:
    | { ok: AppendToStreamResult | ReadStreamResult | boolean | StreamStatus | ArchiveStreamResult | CloseStreamResult | RebuildResult | ReadModel | null }
    | { error: Error & { kind: ErrorKind; details: ErrorDetails } };
}

/** A broken invariant (core's serde form, plus its message). */
export interface Violation {
  kind: string;
  message: string;
  [field: string]: unknown;
}

/** A violation with the shortest schedule found that produces it, told in events and positions. */
export interface Counterexample {
  path: Path;
  violation: Violation;
  explanation: string;
}

/** What exploring every schedule found. */
export interface Exploration {
  /** Complete schedules (each counted, also those whose states were reached before). */
  schedules: number;
  /** True when the limit stopped the search early. */
  truncated: boolean;
  /** Each violation with the path that produced it (the first 32). */
  violations: { path: Path; violation: Violation }[];
  /** Every invariant: in how many schedules it broke (0: it held in all), and its shortest counterexample. */
  invariants: Record<string, { invariant: string; violatedIn: number; shortest: Counterexample | null }>;
  /** How many schedules ended with each combination of results, e.g. `"a0:ok(1) b0:ConcurrencyConflict(actual 1)"`. */
  outcomes: Record<string, number>;
  /** The same combinations, each with the shortest path that ends with it. */
  finalStates: Record<string, { count: number; shortest: Path }>;
  /** In how many schedules each thing happened at least once. */
  coverage: { conflicts: number; duplicateKeys: number; zeroMatches: number; rewrites: number; lostReplies: number; retries: number };
  /** Distinct states explored (states reached again are not explored again). */
  states: number;
}

/** Options of `explore` and `new Explorer`. */
export interface ExploreOptions {
  /** Stop after this many schedules. Default 1,000,000. */
  limit?: number;
  /** At most this many replies to writes lost per schedule. Default 0. */
  faults?: number;
}

/**
 * An exploration run a slice at a time (in a Worker: post the progress between slices,
 * stop when asked).
 *
 * @example
 * const explorer = new Explorer(sim, { faults: 1 });
 * while (!explorer.run(500)) postMessage({ schedules: explorer.schedules });
 * const report = explorer.report();
 */
export class Explorer {
  constructor(simulation: Simulation, options?: ExploreOptions);
  /** Explores at most `budget` more states; true when the exploration is over. */
  run(budget: number): boolean;
  /** Schedules counted so far. */
  readonly schedules: number;
  /** Distinct states explored so far. */
  readonly states: number;
  /** What was found (complete once `run` returned true). */
  report(): Exploration;
  free(): void;
}

/** Every design, streamdoc's first. */
export function designs(): DesignInfo[];
/** The gallery's races. */
export function races(): Race[];

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
  /**
   * The gallery's race `id` (see `races()`) under `design` (default `"streamdoc"`), its
   * setup already run; `retries` replaces the race's. On `engine`, the setup's documents
   * replace what the engine held.
   */
  static fromRace(
    id: string,
    options?: { design?: Design; retries?: number; values?: "native" | "canonical"; engine?: Engine },
  ): Simulation;
  /** The design and retry policy the clients run with. */
  options(): { design: Design; retries: number };
  /** Client names, by index. */
  clientNames(): string[];
  /** The clients that have a command to send. */
  runnable(): number[];
  /** True when every client has finished its script. */
  isFinished(): boolean;
  /** The command `client` would send next, in mongosh syntax. */
  pending(client: number): string | null;
  /**
   * Lets `client` send its next command and take the reply (on the in-memory engine).
   * With `loseReply`, the command is applied but the reply is lost on its way back.
   */
  step(client: number, options?: { loseReply?: boolean }): void;
  /** Runs `path`'s steps, losing the replies it says, then lets every client finish. */
  runPath(path: Path): void;
  /** What happened so far, counted. */
  tally(): Tally;
  /** Runs `schedule` (client indexes), then lets every client finish in client order. */
  run(schedule: number[]): void;
  /** Lets every client finish, lowest index first. */
  runToEnd(): void;
  /** As `step`, on any executor. Rejects with a `TypeError` while another step of this simulation runs. */
  stepAsync(client: number, options?: { loseReply?: boolean }): Promise<void>;
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
  explore(options?: ExploreOptions): Exploration;
  /** An independent copy of the run. */
  clone(): Simulation;
  free(): void;
}
"#;

/// Where the simulation's commands run: its own engine, an `Engine` it shares
/// (`options.engine`), or a JavaScript executor that [`JsSimulation`] drives itself
/// (core's `pending` / `deliver`).
#[derive(Debug)]
pub(crate) enum Target {
    Engine(Engine),
    /// An `Engine` shared in the process (with a store that subscribes to it, say).
    Shared(Rc<RefCell<Engine>>),
    /// The commands are carried by the async methods.
    Elsewhere,
}

/// A copy of a run is independent: a shared engine is copied, as its own would be (the
/// explorer runs every schedule on copies).
impl Clone for Target {
    fn clone(&self) -> Self {
        match self {
            Target::Engine(engine) => Target::Engine(engine.clone()),
            Target::Shared(engine) => Target::Engine(engine.borrow().clone()),
            Target::Elsewhere => Target::Elsewhere,
        }
    }
}

impl Target {
    /// The engine the commands run on, when they run in the process.
    fn with_engine<T>(&self, f: impl FnOnce(&Engine) -> T) -> Option<T> {
        match self {
            Target::Engine(engine) => Some(f(engine)),
            Target::Shared(engine) => Some(f(&engine.borrow())),
            Target::Elsewhere => None,
        }
    }
}

impl streamdoc_core::Executor for Target {
    fn execute(&mut self, command: &Command) -> Result<Reply, ExecutorError> {
        match self {
            Target::Engine(engine) => Ok(engine.execute(command)),
            Target::Shared(engine) => Ok(engine.borrow_mut().execute(command)),
            Target::Elsewhere => {
                Err(ExecutorError { message: "the simulation runs on options.executor".into(), outcome_unknown: false })
            }
        }
    }

    fn execute_owned(&mut self, command: Command) -> Result<Reply, ExecutorError> {
        match self {
            Target::Engine(engine) => Ok(engine.execute_owned(command)),
            Target::Shared(engine) => Ok(engine.borrow_mut().execute_owned(command)),
            Target::Elsewhere => self.execute(&command),
        }
    }
}

impl StoredDocuments for Target {
    fn stored_documents(&self) -> Vec<Document> {
        self.with_engine(|engine| engine.stored_documents()).unwrap_or_default()
    }
}

/// The JavaScript `Simulation` (types in `SIM_TYPES`).
#[wasm_bindgen(js_name = Simulation, skip_typescript)]
#[derive(Debug)]
pub struct JsSimulation {
    pub(crate) sim: Rc<RefCell<Simulation<Target>>>,
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

pub(crate) fn violation(v: &invariants::Violation) -> JsValue {
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

/// `options.design` and `options.retries`.
fn sim_options(options: &JsValue) -> Result<SimOptions, JsValue> {
    let design = match get(options, "design") {
        v if v.is_undefined() => Design::default(),
        v => {
            let name = v.as_string().unwrap_or_default();
            serde_json::from_value(serde_json::Value::String(name.clone())).map_err(|_| {
                let known = Design::ALL.map(|d| serde_json::to_string(&d).unwrap_or_default());
                type_error(format!("options.design must be one of {}, not {name:?}", known.join(", ")))
            })?
        }
    };
    let retries = match get(options, "retries") {
        v if v.is_undefined() => 0,
        v => u32::try_from(to_u64(&v, "options.retries")?)
            .map_err(|_| js_sys::RangeError::new("options.retries is too large"))?,
    };
    Ok(SimOptions { design, retries })
}

/// `{ loseReply }` of `step` (absent: the reply is delivered).
fn lose_reply(options: &JsValue) -> Result<bool, JsValue> {
    if options.is_undefined() || options.is_null() {
        return Ok(false);
    }
    check_options(options, &["loseReply"], "step options")?;
    match get(options, "loseReply") {
        v if v.is_undefined() => Ok(false),
        v => v.as_bool().ok_or_else(|| type_error("step options.loseReply must be a boolean")),
    }
}

pub(crate) fn range_error(e: impl std::fmt::Display) -> JsValue {
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
        let mut allowed = vec!["clients", "values", "executor", "engine", "design", "retries"];
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
        let target = match (&executor, crate::engine::shared_engine(&options, "engine", "options")?) {
            (Some(_), Some(_)) => return Err(type_error("give options.executor or options.engine, not both")),
            (Some(_), None) => Target::Elsewhere,
            (None, Some(shared)) => Target::Shared(shared),
            (None, None) => Target::Engine(Engine::new(0)),
        };
        let sim_options = sim_options(&options)?;
        let with_stores = clients.iter().filter(|(_, store)| store.is_some()).count();
        let (sim, callbacks) = if with_stores == 0 {
            let callbacks = Rc::new(Callbacks::default());
            let config = options::store_config(&options, &callbacks, values)?;
            let scripts = clients.into_iter().map(|(script, _)| script).collect();
            let sim = Simulation::configured(target, config, scripts, sim_options).map_err(|e| error::to_js(&e))?;
            (sim, vec![callbacks])
        } else if with_stores == clients.len() {
            if CONFIG_OPTIONS.iter().any(|k| !get(&options, k).is_undefined()) {
                return Err(type_error("clients with a store take the store's configuration: give no database, layout, storage, maxAttempts, defaultStreamType or projections"));
            }
            let mut callbacks = Vec::new();
            let mut contexts = Vec::new();
            for (script, store) in clients {
                let Some((ctx, cb)) = store else { continue };
                callbacks.push(cb);
                contexts.push((ctx, script));
            }
            (Simulation::from_contexts_with(target, contexts, sim_options), callbacks)
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

    #[wasm_bindgen(js_name = fromRace)]
    pub fn from_race(id: String, options: JsValue) -> Result<JsSimulation, JsValue> {
        let _call = error::enter_free()?;
        let race = sim::Race::named(&id).ok_or_else(|| {
            let known: Vec<&str> = sim::races().iter().map(|r| r.id).collect();
            type_error(format!("there is no race {id:?}; the races are {}", known.join(", ")))
        })?;
        if !(options.is_undefined() || options.is_null()) {
            check_options(&options, &["design", "retries", "values", "engine"], "options")?;
        }
        let mut sim_options = race.options(sim_options(&options)?.design);
        if !get(&options, "retries").is_undefined() {
            sim_options.retries = self::sim_options(&options)?.retries;
        }
        let values = Values::from_js(&get(&options, "values"), "options.values")?;
        let engine = race.engine_after_setup(sim_options.design).map_err(|e| error::to_js(&e))?;
        // On a shared engine, the race's setup replaces what the engine held.
        let target = match crate::engine::shared_engine(&options, "engine", "options")? {
            Some(shared) => {
                *shared.borrow_mut() = engine;
                Target::Shared(shared)
            }
            None => Target::Engine(engine),
        };
        let sim = Simulation::configured(target, race.config(), race.clients.clone(), sim_options)
            .map_err(|e| error::to_js(&e))?;
        Ok(JsSimulation {
            sim: Rc::new(RefCell::new(sim)),
            executor: None,
            callbacks: Rc::new(vec![Rc::new(Callbacks::default())]),
            values,
            busy: Rc::new(Cell::new(false)),
            guard: Guard::new("Simulation"),
        })
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

    pub fn step(&self, client: usize, options: JsValue) -> Result<(), JsValue> {
        let _call = error::enter(&self.guard)?;
        self.on_engine("step")?;
        let lose = lose_reply(&options)?;
        let mut sim = self.sim.borrow_mut();
        if lose { sim.step_losing_reply(client) } else { sim.step(client) }.map_err(range_error)?;
        drop(sim);
        self.callback_failure()
    }

    #[wasm_bindgen(js_name = runPath)]
    pub fn run_path(&self, path: JsValue) -> Result<(), JsValue> {
        let _call = error::enter(&self.guard)?;
        self.on_engine("runPath")?;
        let path = explorer::path_from_js(&path)?;
        self.sim.borrow_mut().run_path(&path).map_err(range_error)?;
        self.callback_failure()
    }

    pub fn options(&self) -> Result<JsValue, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(json_to_js(&serde_json::to_value(self.sim.borrow().options()).unwrap_or_default()))
    }

    pub fn tally(&self) -> Result<JsValue, JsValue> {
        let _call = error::enter(&self.guard)?;
        Ok(json_to_js(&serde_json::to_value(self.sim.borrow().tally()).unwrap_or_default()))
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
    pub fn step_async(&self, client: usize, options: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.guard)?;
        let lose = lose_reply(&options)?;
        self.spawn(move |runner| async move { runner.step_with(client, lose).await })
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
                set(&object, "lost", &JsValue::from_bool(t.lost));
                set(&object, "attempt", &JsValue::from_f64(f64::from(t.attempt)));
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
                set(&object, "attempts", &JsValue::from_f64(f64::from(o.attempts)));
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
        self.sim.borrow().executor().with_engine(values::stored_documents).ok_or_else(|| {
            type_error("documents() needs the in-memory engine; this simulation runs on options.executor")
        })
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
        let mut explorer = explorer::Exploring::new(&self.sim.borrow(), &options)?;
        explorer.run_to_end();
        Ok(explorer.report_js())
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
        self.step_with(client, false).await
    }

    /// As `step`; with `lose`, the reply is lost on its way back to the client.
    async fn step_with(&self, client: usize, lose: bool) -> Result<(), JsValue> {
        let Some(executor) = &self.executor else {
            let mut sim = self.sim.borrow_mut();
            if lose { sim.step_losing_reply(client) } else { sim.step(client) }.map_err(range_error)?;
            drop(sim);
            return self.failure();
        };
        let command = self.sim.borrow().pending(client).cloned();
        let Some(command) = command else {
            let clients = self.sim.borrow().client_names().len();
            let e = if client < clients { SimError::ClientFinished(client) } else { SimError::NoSuchClient(client) };
            return Err(range_error(e));
        };
        let reply = executor.execute(&command).await.map_err(|(failure, _cause)| failure);
        let mut sim = self.sim.borrow_mut();
        if lose { sim.deliver_lost(client, reply) } else { sim.deliver(client, reply) }.map_err(range_error)?;
        drop(sim);
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
