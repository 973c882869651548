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
use crate::ops::{OpOutput, OpSpec, Operation, Step};
use crate::sim::designs::{self, Design, SimOp};
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
    /// How many times it was sent: more than once when a lost reply was retried.
    #[serde(default = "one")]
    pub attempts: u32,
}

fn one() -> u32 {
    1
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
    /// True when the reply never reached the client (a simulated fault): the command
    /// was applied, the client saw an unknown outcome.
    pub lost: bool,
    /// The attempt of the operation that sent it (1, or more after a lost reply).
    pub attempt: u32,
}

/// How a simulation's clients behave beyond their scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SimOptions {
    /// How the clients append: streamdoc's design, or one of the broken ones.
    #[serde(default)]
    pub design: Design,
    /// How many times a client retries an append whose outcome is unknown (its reply
    /// was lost), with the same event ids.
    #[serde(default)]
    pub retries: u32,
}

/// What happened during a run, counted: what a sceptic checks to see the race happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tally {
    /// Replies `E11000 duplicate key`.
    pub duplicate_keys: u32,
    /// Updates that matched nothing and did not upsert.
    pub zero_matches: u32,
    /// Appends that sent a second write (lost the race for a position and tried again).
    pub rewrites: u32,
    /// Replies lost on the way back.
    pub lost_replies: u32,
    /// Appends retried after a lost reply.
    pub retries: u32,
    /// Operations that ended with a concurrency conflict.
    pub conflicts: u32,
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
    op: SimOp,
    op_index: usize,
    event_ids: Vec<String>,
    /// 1, or more after a lost reply.
    attempt: u32,
    /// Updates sent so far.
    writes: u32,
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
    options: SimOptions,
    tally: Tally,
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
        Self::configured(executor, config, clients, SimOptions::default())
    }

    /// As [`Simulation::with_executor`], with a design and a retry policy.
    pub fn configured(
        executor: E,
        config: StoreConfig,
        clients: Vec<ClientScript>,
        options: SimOptions,
    ) -> Result<Self, Error> {
        // The context's own clock and ids are never read: the simulation passes its own.
        let ctx = StoreContext::new(config.clone(), SteppingClock::new(DEFAULT_CLOCK_START_MS, 0), SeededIds::new(0))?;
        let clients = clients.into_iter().map(|c| (ctx.fork(), c)).collect();
        Ok(Self::build(executor, config, clients, Sources::Simulated { now_ms: DEFAULT_CLOCK_START_MS }, options))
    }

    /// A simulation whose clients are existing stores: each client's operations are
    /// built by its context, with the context's clock and id generator, and what they
    /// learn stays in the context (a race among the clients of a longer scenario).
    /// Invariants are checked with the first context's layout.
    pub fn from_contexts(executor: E, clients: Vec<(StoreContext, ClientScript)>) -> Self {
        Self::from_contexts_with(executor, clients, SimOptions::default())
    }

    /// As [`Simulation::from_contexts`], with a design and a retry policy.
    pub fn from_contexts_with(executor: E, clients: Vec<(StoreContext, ClientScript)>, options: SimOptions) -> Self {
        let config = clients.first().map(|(ctx, _)| ctx.config().clone()).unwrap_or_else(|| StoreConfig::new("app"));
        Self::build(executor, config, clients, Sources::Contexts, options)
    }

    fn build(
        executor: E,
        config: StoreConfig,
        clients: Vec<(StoreContext, ClientScript)>,
        sources: Sources,
        options: SimOptions,
    ) -> Self {
        let clients = clients
            .into_iter()
            .map(|(ctx, c)| Client { name: c.name, script: Arc::new(c.ops), next_op: 0, ctx, current: None })
            .collect();
        let mut sim = Self {
            executor,
            config,
            clients,
            sources,
            options,
            tally: Tally::default(),
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
        self.clients.get(client)?.current.as_ref()?.pending.as_ref()
    }

    /// Gives `client` the reply to its [pending](Simulation::pending) command, obtained
    /// by the caller (an asynchronous executor); an `Err` ends the client's operation
    /// with [`Error::Unavailable`], as a driver does (and is retried as the
    /// [options](SimOptions) say when the outcome is unknown).
    pub fn deliver(&mut self, client: usize, reply: Result<Reply, ExecutorError>) -> Result<(), SimError> {
        let mut flight = self.take(client)?;
        let command = flight.pending.take();
        self.resume(client, flight, command, reply, false);
        Ok(())
    }

    /// As [`Simulation::deliver`], for a reply the executor sent but the client never
    /// got: the trace shows `reply`, the client sees an unknown outcome.
    pub fn deliver_lost(&mut self, client: usize, reply: Result<Reply, ExecutorError>) -> Result<(), SimError> {
        let mut flight = self.take(client)?;
        let command = flight.pending.take();
        self.resume(client, flight, command, reply, true);
        Ok(())
    }

    /// The design and retry policy.
    pub fn options(&self) -> SimOptions {
        self.options
    }

    /// What happened so far, counted.
    pub fn tally(&self) -> Tally {
        self.tally
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

    /// A fingerprint of everything that decides the rest of the run (the executor, each
    /// client's progress, operation and store, the outcomes and the tally), or `None`
    /// when part of it cannot be seen (clients built from stores, whose clocks and id
    /// generators are their own). Two states with the same key have the same futures.
    pub(crate) fn state_key(&self) -> Option<u128>
    where
        E: std::fmt::Debug,
    {
        use std::fmt::Write;
        use std::hash::{Hash, Hasher};
        let Sources::Simulated { now_ms } = self.sources else { return None };
        let mut text = String::with_capacity(4096);
        let _ = write!(text, "{now_ms}|{:?}|{:?}|{:?}", self.tally, self.executor, self.outcomes);
        for c in &self.clients {
            let _ = write!(text, "|{}:{:?}:{:?}", c.next_op, c.ctx.cache(), c.current);
        }
        let mut low = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut low);
        let mut high = std::collections::hash_map::DefaultHasher::new();
        (text.len(), &text, 0x5eed_u32).hash(&mut high);
        Some((u128::from(high.finish()) << 64) | u128::from(low.finish()))
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
    /// the client on; a `lost` reply reaches the trace only, the client sees an unknown
    /// outcome.
    fn resume(
        &mut self,
        client: usize,
        mut flight: InFlight,
        command: Option<Command>,
        reply: Result<Reply, ExecutorError>,
        lost: bool,
    ) {
        let step = flight.op.describe_step();
        self.count(&reply, lost);
        let next = match (&reply, lost) {
            (Ok(reply), false) => {
                flight.op.feed(reply.clone());
                flight.op.next()
            }
            (Ok(_), true) => Step::Done(Err(Error::Unavailable(ExecutorError {
                message: "the reply was lost on its way back (a simulated fault): the command may have been applied"
                    .into(),
                outcome_unknown: true,
            }))),
            (Err(e), _) => Step::Done(Err(Error::Unavailable(e.clone()))),
        };
        if let (true, Some(command)) = (self.tracing, command) {
            let (op_index, attempt) = (flight.op_index, flight.attempt);
            self.trace.push(TraceEntry { client, op_index, step, command, reply, lost, attempt });
        }
        match next {
            Step::Send(cmd) => self.send(client, flight, cmd),
            Step::Done(result) => {
                // In a cloned simulation the append learned into its own copy of the
                // cache (in the original one this is the client's cache already).
                if let Some(cache) = flight.op.cache() {
                    let c = &mut self.clients[client];
                    c.ctx = c.ctx.with_cache(cache.clone());
                }
                if let Err(Error::Unavailable(ExecutorError { outcome_unknown: true, .. })) = &result {
                    if flight.attempt <= self.options.retries && self.retry(client, &flight) {
                        return;
                    }
                }
                if matches!(result, Err(Error::ConcurrencyConflict { .. })) {
                    self.tally.conflicts += 1;
                }
                self.record(client, flight.op_index, flight.event_ids, result, flight.attempt);
                self.advance(client);
            }
        }
    }

    fn count(&mut self, reply: &Result<Reply, ExecutorError>, lost: bool) {
        match reply {
            Ok(Reply::DuplicateKey { .. }) => self.tally.duplicate_keys += 1,
            Ok(Reply::Updated { matched: 0, upserted_id: None, .. }) => self.tally.zero_matches += 1,
            _ => {}
        }
        if lost {
            self.tally.lost_replies += 1;
        }
    }

    /// Puts `flight` out with `cmd` as its next command.
    fn send(&mut self, client: usize, mut flight: InFlight, cmd: Command) {
        if matches!(cmd, Command::UpdateOne { .. }) {
            if flight.writes > 0 {
                self.tally.rewrites += 1;
            }
            flight.writes += 1;
        }
        flight.pending = Some(cmd);
        self.clients[client].current = Some(flight);
    }

    /// Starts the operation of `failed` again after a lost reply, with the same event
    /// ids; false when it is not an append (or an archive, or closing the books: both
    /// resume where the lost reply left them) or cannot be prepared.
    fn retry(&mut self, client: usize, failed: &InFlight) -> bool {
        let spec = &self.clients[client].script[failed.op_index];
        if !matches!(spec, OpSpec::Append { .. } | OpSpec::Archive { .. } | OpSpec::CloseStream { .. }) {
            return false;
        }
        let spec = self.options.design.retry_spec(spec, &failed.event_ids);
        let Ok(mut op) = self.prepare(client, failed.op_index, &spec) else { return false };
        let Step::Send(cmd) = op.next() else { return false };
        self.tally.retries += 1;
        let (op_index, event_ids, attempt) = (failed.op_index, failed.event_ids.clone(), failed.attempt + 1);
        let flight = InFlight { op, op_index, event_ids, attempt, writes: 0, pending: None };
        self.send(client, flight, cmd);
        true
    }

    /// Builds the operation of `spec`, the `op_index`th of `client`'s script, under the
    /// simulation's design.
    fn prepare(&mut self, client: usize, op_index: usize, spec: &OpSpec) -> Result<SimOp, Error> {
        let c = &self.clients[client];
        let design = self.options.design;
        match self.sources {
            Sources::Simulated { now_ms } => {
                let clock = SimClock(AtomicI64::new(now_ms));
                let ids = ScriptIds { prefix: format!("{}{op_index}", c.name), next: AtomicU64::new(0) };
                let prepared = design.prepare(&c.ctx, spec, &clock, &ids);
                self.sources = Sources::Simulated { now_ms: clock.0.into_inner() };
                prepared
            }
            Sources::Contexts => design.prepare(&c.ctx, spec, c.ctx.clock(), c.ctx.ids()),
        }
    }

    /// Starts the client's next operations until one has a command to send.
    fn advance(&mut self, client: usize) {
        loop {
            let c = &self.clients[client];
            let Some(spec) = c.script.get(c.next_op).cloned() else { return };
            let op_index = c.next_op;
            let prepared = self.prepare(client, op_index, &spec);
            self.clients[client].next_op += 1;
            let mut op = match prepared {
                Ok(op) => op,
                Err(e) => {
                    self.record(client, op_index, Vec::new(), Err(e), 1);
                    continue;
                }
            };
            let event_ids = op.event_ids();
            match op.next() {
                Step::Send(cmd) => {
                    let flight = InFlight { op, op_index, event_ids, attempt: 1, writes: 0, pending: None };
                    return self.send(client, flight, cmd);
                }
                Step::Done(result) => self.record(client, op_index, event_ids, result, 1),
            }
        }
    }

    fn record(
        &mut self,
        client: usize,
        op_index: usize,
        event_ids: Vec<String>,
        result: Result<OpOutput, Error>,
        attempts: u32,
    ) {
        let spec = self.clients[client].script[op_index].clone();
        self.outcomes.push(Outcome { client, op_index, spec, event_ids, result, attempts });
    }
}

impl<E: Executor> Simulation<E> {
    /// Lets `client` send its next command to the executor and take the reply.
    pub fn step(&mut self, client: usize) -> Result<(), SimError> {
        self.step_with(client, false)
    }

    /// Lets `client` send its next command to the executor, which applies it, but loses
    /// the reply on its way back: the client sees an unknown outcome (and retries an
    /// append as the [options](SimOptions) say).
    pub fn step_losing_reply(&mut self, client: usize) -> Result<(), SimError> {
        self.step_with(client, true)
    }

    /// Runs `path`'s steps, losing the replies it says, then lets every client finish
    /// in client order.
    pub fn run_path(&mut self, path: &Path) -> Result<(), SimError> {
        for (i, &c) in path.schedule.iter().enumerate() {
            self.step_with(c, path.lost.contains(&i))?;
        }
        self.run_to_end();
        Ok(())
    }

    pub(crate) fn step_with(&mut self, client: usize, lose: bool) -> Result<(), SimError> {
        let mut flight = self.take(client)?;
        let Some(command) = flight.pending.take() else { return Err(SimError::ClientFinished(client)) };
        let (command, reply) = if self.tracing {
            let reply = self.executor.execute(&command);
            (Some(command), reply)
        } else {
            // Nobody reads the command again: the executor may consume it.
            (None, self.executor.execute_owned(command))
        };
        self.resume(client, flight, command, reply, lose);
        Ok(())
    }

    /// True when `client`'s next command is a write, whose reply the explorer may lose.
    pub(crate) fn next_is_write(&self, client: usize) -> bool {
        self.pending(client).is_some_and(designs::is_write)
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

/// A schedule with the steps whose replies are lost.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Path {
    /// The clients, in the order they step.
    pub schedule: Schedule,
    /// Indexes into `schedule` of the steps whose replies are lost, ascending.
    #[serde(default)]
    pub lost: Vec<usize>,
}

impl Path {
    /// A path that loses no reply.
    pub fn of(schedule: Schedule) -> Self {
        Self { schedule, lost: Vec::new() }
    }
}
