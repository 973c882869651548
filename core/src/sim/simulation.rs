//! One simulated run.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;

use bson::DateTime;
use serde::{Deserialize, Serialize};

use crate::command::{Command, Reply};
use crate::context::StoreContext;
use crate::driver::Executor;
use crate::engine::Engine;
use crate::error::{Error, ExecutorError};
use crate::ids::{Clock, IdGenerator, SeededIds, SteppingClock};
use crate::layout::StoreConfig;
use crate::ops::{AnyOp, OpOutput, OpSpec, Operation, Step};
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
    /// The executor's reply, or why there was none.
    pub reply: Result<Reply, ExecutorError>,
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

/// Event ids of one simulated op: `{client}{op}-{n}`, a pure function of position in
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

/// The simulation's own clock, read by the operation being prepared: 1 ms per reading.
#[derive(Debug)]
struct SimClock(AtomicI64);

impl Clock for SimClock {
    fn now(&self) -> DateTime {
        DateTime::from_millis(self.0.fetch_add(1, Ordering::Relaxed))
    }
}

/// Where the time of an append and the ids of its events come from.
#[derive(Debug, Clone, Copy)]
enum Sources {
    /// The simulation's: a clock at this reading (in ms) and ids from the scripts, so
    /// that a run depends on its schedule alone, and exploring branches is reproducible.
    Simulated { now_ms: i64 },
    /// Each client's store context's clock and id generator.
    Contexts,
}

#[derive(Debug, Clone)]
struct InFlight {
    op: AnyOp,
    op_index: usize,
    event_ids: Vec<String>,
    /// The command to send next (taken while it is out).
    pending: Option<Command>,
}

#[derive(Debug)]
struct Client {
    name: String,
    /// Shared by every clone of the simulation: scripts never change.
    script: Arc<Vec<OpSpec>>,
    next_op: usize,
    /// The client's store: it builds the client's operations, and what it remembers
    /// (indexes seen acknowledged, positions seen) its appends write to. A cloned
    /// simulation's client and in-flight append each get their own copy, so the client
    /// adopts its append's cache when it finishes.
    ctx: StoreContext,
    current: Option<InFlight>,
}

impl Clone for Client {
    fn clone(&self) -> Self {
        Self {
            name: self.name.clone(),
            script: self.script.clone(),
            next_op: self.next_op,
            ctx: self.ctx.fork(),
            current: self.current.clone(),
        }
    }
}

/// A run in progress: the executor, the clients, what has happened so far.
///
/// Each client is a store (a [`StoreContext`]) running its script; a *step* lets one
/// client send its next command to the executor and take the reply. The executor is
/// any [`Executor`]: the in-memory [`Engine`] (the default, which [`explore`] can clone
/// at every branch), or a live server. An asynchronous driver carries the commands
/// itself with [`Simulation::pending`] and [`Simulation::deliver`].
///
/// [`explore`]: crate::sim::explore
#[derive(Debug, Clone)]
pub struct Simulation<E = Engine> {
    executor: E,
    config: StoreConfig,
    clients: Vec<Client>,
    sources: Sources,
    trace: Vec<TraceEntry>,
    /// False during exploration, which never reads traces: cloning them at every branch
    /// was most of its cost.
    tracing: bool,
    outcomes: Vec<Outcome>,
}

impl Simulation<Engine> {
    /// A simulation of `clients` on a fresh engine (seed 0), all with `config`.
    ///
    /// Appends read the simulation's clock (from [`DEFAULT_CLOCK_START_MS`], 1 ms per
    /// append), and events given without an id get `{client}{op}-{n}`: a run depends on
    /// its schedule alone.
    pub fn new(config: StoreConfig, clients: Vec<ClientScript>) -> Result<Self, Error> {
        Self::with_executor(Engine::new(0), config, clients)
    }
}

impl<E> Simulation<E> {
    /// As [`Simulation::new`], on `executor` (an engine in some state, or a server).
    pub fn with_executor(executor: E, config: StoreConfig, clients: Vec<ClientScript>) -> Result<Self, Error> {
        // The context's own clock and ids are never read: the simulation passes its own.
        let ctx = StoreContext::new(config.clone(), SteppingClock::new(DEFAULT_CLOCK_START_MS, 0), SeededIds::new(0))?;
        let clients = clients.into_iter().map(|c| (ctx.fork(), c)).collect();
        Ok(Self::build(executor, config, clients, Sources::Simulated { now_ms: DEFAULT_CLOCK_START_MS }))
    }

    /// A simulation whose clients are existing stores: each client's operations are
    /// built by its context, with the context's clock and id generator, and what they
    /// learn stays in the context (a race among the clients of a longer scenario).
    /// Invariants are checked with the first context's layout.
    pub fn from_contexts(executor: E, clients: Vec<(StoreContext, ClientScript)>) -> Self {
        let config = clients.first().map(|(ctx, _)| ctx.config().clone()).unwrap_or_else(|| StoreConfig::new("app"));
        Self::build(executor, config, clients, Sources::Contexts)
    }

    fn build(executor: E, config: StoreConfig, clients: Vec<(StoreContext, ClientScript)>, sources: Sources) -> Self {
        let clients = clients
            .into_iter()
            .map(|(ctx, c)| Client { name: c.name, script: Arc::new(c.ops), next_op: 0, ctx, current: None })
            .collect();
        let mut sim =
            Self { executor, config, clients, sources, trace: Vec::new(), tracing: true, outcomes: Vec::new() };
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
        self.clients.get(client)?.current.as_ref()?.pending.as_ref()
    }

    /// Gives `client` the reply to its [pending](Simulation::pending) command, obtained
    /// by the caller (an asynchronous executor); an `Err` ends the client's operation
    /// with [`Error::Unavailable`], as a driver does.
    pub fn deliver(&mut self, client: usize, reply: Result<Reply, ExecutorError>) -> Result<(), SimError> {
        let mut flight = self.take(client)?;
        let command = flight.pending.take();
        self.resume(client, flight, command, reply);
        Ok(())
    }

    /// The executor.
    pub fn executor(&self) -> &E {
        &self.executor
    }

    /// The executor, mutably (e.g. to change the engine behind the clients' backs).
    pub fn executor_mut(&mut self) -> &mut E {
        &mut self.executor
    }

    /// The configuration of the clients (of the first, for [`Simulation::from_contexts`]).
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

    fn take(&mut self, client: usize) -> Result<InFlight, SimError> {
        let c = self.clients.get_mut(client).ok_or(SimError::NoSuchClient(client))?;
        c.current.take().ok_or(SimError::ClientFinished(client))
    }

    /// Feeds the reply to the command `flight` sent (`command`, for the trace) and moves
    /// the client on.
    fn resume(
        &mut self,
        client: usize,
        mut flight: InFlight,
        command: Option<Command>,
        reply: Result<Reply, ExecutorError>,
    ) {
        let step = flight.op.describe_step();
        let next = match &reply {
            Ok(reply) => {
                flight.op.feed(reply.clone());
                flight.op.next()
            }
            Err(e) => Step::Done(Err(Error::Unavailable(e.clone()))),
        };
        if let (true, Some(command)) = (self.tracing, command) {
            self.trace.push(TraceEntry { client, op_index: flight.op_index, step, command, reply });
        }
        match next {
            Step::Send(cmd) => {
                flight.pending = Some(cmd);
                self.clients[client].current = Some(flight);
            }
            Step::Done(result) => {
                // In a cloned simulation the append learned into its own copy of the
                // cache (in the original one this is the client's cache already).
                if let AnyOp::Append(append) = &flight.op {
                    let c = &mut self.clients[client];
                    c.ctx = c.ctx.with_cache(append.cache().clone());
                }
                self.record(client, flight.op_index, flight.event_ids, result);
                self.advance(client);
            }
        }
    }

    /// Starts the client's next operations until one has a command to send.
    fn advance(&mut self, client: usize) {
        loop {
            let c = &self.clients[client];
            let Some(spec) = c.script.get(c.next_op) else { return };
            let op_index = c.next_op;
            let prepared = match self.sources {
                Sources::Simulated { now_ms } => {
                    let clock = SimClock(AtomicI64::new(now_ms));
                    let ids = ScriptIds { prefix: format!("{}{op_index}", c.name), next: AtomicU64::new(0) };
                    let prepared = c.ctx.prepare_with(spec, &clock, &ids);
                    self.sources = Sources::Simulated { now_ms: clock.0.into_inner() };
                    prepared
                }
                Sources::Contexts => c.ctx.prepare(spec),
            };
            self.clients[client].next_op += 1;
            let mut op = match prepared {
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
                    let pending = Some(pending);
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

impl<E: Executor> Simulation<E> {
    /// Lets `client` send its next command to the executor and take the reply.
    pub fn step(&mut self, client: usize) -> Result<(), SimError> {
        let mut flight = self.take(client)?;
        let Some(command) = flight.pending.take() else { return Err(SimError::ClientFinished(client)) };
        let (command, reply) = if self.tracing {
            let reply = self.executor.execute(&command);
            (Some(command), reply)
        } else {
            // Nobody reads the command again: the executor may consume it.
            (None, self.executor.execute_owned(command))
        };
        self.resume(client, flight, command, reply);
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
}
