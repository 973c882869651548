//! One simulated run.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bson::DateTime;
use serde::{Deserialize, Serialize};

use crate::command::{Command, Reply};
use crate::engine::Engine;
use crate::error::Error;
use crate::ids::IdGenerator;
use crate::layout::StoreConfig;
use crate::name::StreamName;
use crate::ops::{AnyOp, Append, Exists, OpOutput, OpSpec, Operation, Read, Step, StoreCache};
use crate::store::DEFAULT_CLOCK_START_MS;

/// A client and the operations it runs, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientScript {
    /// A name for traces ("a", "b", ...).
    pub name: String,
    /// The operations, run one after another.
    pub ops: Vec<OpSpec>,
}

/// The order of steps: each entry is a client index; that client sends its next command.
pub type Schedule = Vec<usize>;

/// A finished operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// The client's index.
    pub client: usize,
    /// The operation's index in the client's script.
    pub op_index: usize,
    /// The operation.
    pub spec: OpSpec,
    /// For appends: the ids of the events, assigned ones included.
    pub event_ids: Vec<String>,
    /// What it returned.
    pub result: Result<OpOutput, Error>,
}

/// One command of a run, with its reply.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceEntry {
    /// The client that sent it.
    pub client: usize,
    /// The operation's index in the client's script.
    pub op_index: usize,
    /// What the operation was doing.
    pub step: &'static str,
    /// The command.
    pub command: Command,
    /// The engine's reply.
    pub reply: Reply,
}

/// Driving a simulation against its rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// No such client.
    #[error("there is no client {0}")]
    NoSuchClient(usize),
    /// The client has finished its script.
    #[error("client {0} has nothing left to run")]
    ClientFinished(usize),
}

/// Event ids of one simulated op: `{client}-{op}-{n}`, a pure function of position in
/// the scripts, so every interleaving assigns the same ids.
#[derive(Debug)]
struct ScriptIds {
    prefix: String,
    next: AtomicU64,
}

impl IdGenerator for ScriptIds {
    fn next_event_id(&self) -> String {
        format!("{}-{}", self.prefix, self.next.fetch_add(1, Ordering::Relaxed))
    }
}

#[derive(Debug, Clone)]
struct InFlight {
    op: AnyOp,
    op_index: usize,
    event_ids: Vec<String>,
    pending: Command,
}

#[derive(Debug)]
struct Client {
    name: String,
    /// Shared by every clone of the simulation: scripts never change.
    script: Arc<Vec<OpSpec>>,
    next_op: usize,
    /// What this client's store remembers (indexes seen acknowledged, positions seen).
    /// Its appends write to it. A cloned simulation's client and in-flight append each
    /// get their own copy, so the client adopts its append's cache when it finishes.
    cache: StoreCache,
    current: Option<InFlight>,
}

impl Clone for Client {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            script: self.script.clone(),
            next_op: self.next_op,
            cache: self.cache.snapshot(),
            current: self.current.clone(),
        }
    }
}

/// A run in progress: the engine, the clients, what has happened so far.
#[derive(Debug, Clone)]
pub struct Simulation {
    config: StoreConfig,
    engine: Engine,
    clients: Vec<Client>,
    clock_ms: i64,
    trace: Vec<TraceEntry>,
    /// False during exploration, which never reads traces: cloning them at every branch
    /// was most of its cost.
    tracing: bool,
    outcomes: Vec<Outcome>,
}

impl Simulation {
    /// A simulation of `clients` on a fresh engine (seed 0).
    pub fn new(config: StoreConfig, clients: Vec<ClientScript>) -> Self {
        Self::with_engine(config, Engine::new(0), clients)
    }

    /// A simulation starting from an existing engine state.
    pub fn with_engine(config: StoreConfig, engine: Engine, clients: Vec<ClientScript>) -> Self {
        let mut sim = Self {
            config,
            engine,
            clients: clients
                .into_iter()
                .map(|c| Client {
                    name: c.name,
                    script: Arc::new(c.ops),
                    next_op: 0,
                    cache: StoreCache::new(),
                    current: None,
                })
                .collect(),
            clock_ms: DEFAULT_CLOCK_START_MS,
            trace: Vec::new(),
            tracing: true,
            outcomes: Vec::new(),
        };
        for c in 0..sim.clients.len() {
            sim.advance(c);
        }
        sim
    }

    /// The clients that have a command to send.
    pub fn runnable(&self) -> Vec<usize> {
        (0..self.clients.len()).filter(|&c| self.clients[c].current.is_some()).collect()
    }

    /// True when every client has finished its script.
    pub fn is_finished(&self) -> bool {
        self.clients.iter().all(|c| c.current.is_none())
    }

    /// The command `client` would send next.
    pub fn pending(&self, client: usize) -> Option<&Command> {
        self.clients.get(client)?.current.as_ref().map(|f| &f.pending)
    }

    /// Lets `client` send its next command and take the reply.
    pub fn step(&mut self, client: usize) -> Result<(), SimError> {
        let c = self.clients.get_mut(client).ok_or(SimError::NoSuchClient(client))?;
        let mut flight = c.current.take().ok_or(SimError::ClientFinished(client))?;
        let reply = self.engine.execute(&flight.pending);
        let step = flight.op.describe_step();
        if self.tracing {
            flight.op.feed(reply.clone());
            self.trace.push(TraceEntry {
                client,
                op_index: flight.op_index,
                step,
                command: flight.pending.clone(),
                reply,
            });
        } else {
            flight.op.feed(reply);
        }
        match flight.op.next() {
            Step::Send(cmd) => {
                flight.pending = cmd;
                self.clients[client].current = Some(flight);
            }
            Step::Done(result) => {
                // In a cloned simulation the append learned into its own copy of the
                // cache (in the original one this is the client's cache already).
                if let AnyOp::Append(append) = &flight.op {
                    self.clients[client].cache = append.cache().clone();
                }
                self.record(client, flight.op_index, flight.event_ids, result);
                self.advance(client);
            }
        }
        Ok(())
    }

    /// Runs `schedule`, then lets every client finish in client order.
    pub fn run(&mut self, schedule: &[usize]) -> Result<(), SimError> {
        for &c in schedule {
            self.step(c)?;
        }
        self.run_to_end();
        Ok(())
    }

    /// Lets every client finish, lowest index first.
    pub fn run_to_end(&mut self) {
        while let Some(&c) = self.runnable().first() {
            let _ = self.step(c);
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The configuration every client uses.
    pub fn config(&self) -> &StoreConfig {
        &self.config
    }

    /// Stops (or resumes) recording the trace; exploration runs without one.
    pub(crate) fn set_tracing(&mut self, on: bool) {
        self.tracing = on;
    }

    /// Every command sent so far, in order.
    pub fn trace(&self) -> &[TraceEntry] {
        &self.trace
    }

    /// Every finished operation, in the order they finished.
    pub fn outcomes(&self) -> &[Outcome] {
        &self.outcomes
    }

    /// Client names, by index.
    pub fn client_names(&self) -> Vec<String> {
        self.clients.iter().map(|c| c.name.clone()).collect()
    }

    /// Starts the client's next operations until one has a command to send.
    fn advance(&mut self, client: usize) {
        loop {
            let c = &mut self.clients[client];
            let Some(spec) = c.script.get(c.next_op).cloned() else { return };
            let op_index = c.next_op;
            c.next_op += 1;
            // As in `StoreContext`, only an append reads the clock.
            let now = DateTime::from_millis(self.clock_ms);
            if matches!(spec, OpSpec::Append { .. }) {
                self.clock_ms += 1;
            }
            let ids = ScriptIds { prefix: format!("{}{}", c.name, op_index), next: AtomicU64::new(0) };
            let cache = &c.cache;
            let built = StreamName::parse(spec.stream()).map_err(Error::from).map(|stream| match &spec {
                OpSpec::Append { events, expected, .. } => {
                    AnyOp::Append(Append::new(&self.config, cache, stream, events.clone(), *expected, now, &ids))
                }
                OpSpec::Read { range, .. } => AnyOp::Read(Read::new(&self.config, stream, *range)),
                OpSpec::Exists { .. } => AnyOp::Exists(Exists::new(&self.config, stream)),
            });
            let mut op = match built {
                Ok(op) => op,
                Err(e) => {
                    self.record(client, op_index, Vec::new(), Err(e));
                    continue;
                }
            };
            let event_ids = match &op {
                AnyOp::Append(a) => a.event_ids(),
                _ => Vec::new(),
            };
            match op.next() {
                Step::Send(pending) => {
                    self.clients[client].current = Some(InFlight { op, op_index, event_ids, pending });
                    return;
                }
                Step::Done(result) => self.record(client, op_index, event_ids, result),
            }
        }
    }

    fn record(&mut self, client: usize, op_index: usize, event_ids: Vec<String>, result: Result<OpOutput, Error>) {
        let spec = self.clients[client].script[op_index].clone();
        self.outcomes.push(Outcome { client, op_index, spec, event_ids, result });
    }
}
