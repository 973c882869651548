//! Replaying a scenario against a target.

use std::collections::BTreeMap;
use std::sync::Arc;

use bson::Document;
use serde_json::{json, Value};
use streamdoc_core::driver::{self, Executor};
use streamdoc_core::ops::{AnyOp, Operation, QueryAnswer, ReadRange, Step};
use streamdoc_core::projection::ProjectionQuery;
use streamdoc_core::sim::{ClientScript, Simulation};
use streamdoc_core::{
    Clock, Command, Engine, Error, ExecutorError, IdGenerator, NewEvent, OpOutput, OpSpec, Reply, SeededIds,
    SteppingClock, StoreContext,
};

use crate::canonical::{doc_from_scenario_json, doc_to_json, normalise_stored};
use crate::scenario::{Race, Scenario, ScenarioOp, Step as ScenarioStep, StepOp};

/// Where a scenario runs: an executor, and a way to list what it stored.
pub trait Target {
    /// Runs one command.
    fn execute(&mut self, command: &Command) -> Result<Reply, ExecutorError>;
    /// Every stored document in the databases named `database` or `{database}_*`,
    /// per namespace (`database.collection`), in any order.
    fn dump(&mut self, database: &str) -> Result<BTreeMap<String, Vec<Document>>, String>;
}

/// Core's engine as a target.
#[derive(Debug)]
pub struct EngineTarget(pub Engine);

impl Target for EngineTarget {
    fn execute(&mut self, command: &Command) -> Result<Reply, ExecutorError> {
        Ok(self.0.execute(command))
    }

    fn dump(&mut self, database: &str) -> Result<BTreeMap<String, Vec<Document>>, String> {
        let prefix = format!("{database}_");
        Ok(self
            .0
            .namespaces()
            .into_iter()
            .filter(|ns| ns.db == database || ns.db.starts_with(&prefix))
            .map(|ns| (ns.to_string(), self.0.documents(&ns)))
            .collect())
    }
}

/// What a run produced, in canonical Extended JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutput {
    /// One entry per operation, in file order (race members in listed order):
    /// `{"ok": ...}` or `{"error": {...}}`.
    pub results: Vec<Value>,
    /// Stored documents per namespace, sorted by `streamName`, `_id` normalised;
    /// namespaces with no documents are left out.
    pub documents: BTreeMap<String, Vec<Value>>,
    /// Every command sent, in mongosh syntax, with its reply: for diagnosing a mismatch.
    pub log: Vec<String>,
}

/// A scenario that cannot be run as written.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("step {step}: {message}")]
    Malformed { step: usize, message: String },
    #[error("listing the stored documents failed: {0}")]
    Dump(String),
}

/// A fold usable from scenario files.
fn evolve_fn(name: &str) -> Option<fn(Value, &streamdoc_core::RecordedEvent) -> Value> {
    match name {
        "count" => Some(|state, _| json!(state.as_u64().unwrap_or(0) + 1)),
        "types" => Some(|state, e| {
            let mut items = state.as_array().cloned().unwrap_or_default();
            items.push(json!(e.event_type));
            Value::Array(items)
        }),
        _ => None,
    }
}

fn initial_state(name: &str) -> Value {
    match name {
        "count" => json!(0),
        _ => json!([]),
    }
}

/// A prepared operation of the runner.
enum Prepared {
    Any(AnyOp),
    Aggregate(streamdoc_core::ops::Aggregate<Value, fn(Value, &streamdoc_core::RecordedEvent) -> Value>),
    Query(streamdoc_core::ops::QueryModels),
    RebuildAll(streamdoc_core::ops::RebuildAll),
}

impl Operation for Prepared {
    type Output = Value;

    fn next(&mut self) -> Step<Result<Value, Error>> {
        match self {
            Prepared::Any(op) => match op.next() {
                Step::Send(c) => Step::Send(c),
                Step::Done(r) => Step::Done(r.map(|o| output_json(&o))),
            },
            Prepared::Aggregate(op) => match op.next() {
                Step::Send(c) => Step::Send(c),
                Step::Done(r) => Step::Done(r.map(|a| {
                    json!({ "state": a.state, "currentStreamVersion": a.current_stream_version, "streamExists": a.stream_exists })
                })),
            },
            Prepared::Query(op) => match op.next() {
                Step::Send(c) => Step::Send(c),
                Step::Done(r) => Step::Done(r.map(|answer| match answer {
                    QueryAnswer::Count(n) => json!(n),
                    QueryAnswer::Models(models) => Value::Array(
                        models
                            .iter()
                            .map(|m| json!({ "streamName": m.stream_name, "readModel": doc_to_json(&m.document) }))
                            .collect(),
                    ),
                })),
            },
            Prepared::RebuildAll(op) => match op.next() {
                Step::Send(c) => Step::Send(c),
                Step::Done(r) => Step::Done(r.map(|done| json!({ "streams": done.streams }))),
            },
        }
    }

    fn feed(&mut self, reply: Reply) {
        match self {
            Prepared::Any(op) => op.feed(reply),
            Prepared::Aggregate(op) => op.feed(reply),
            Prepared::Query(op) => op.feed(reply),
            Prepared::RebuildAll(op) => op.feed(reply),
        }
    }

    fn describe_step(&self) -> &'static str {
        match self {
            Prepared::Any(op) => op.describe_step(),
            Prepared::Aggregate(op) => op.describe_step(),
            Prepared::Query(op) => op.describe_step(),
            Prepared::RebuildAll(op) => op.describe_step(),
        }
    }
}

/// A result as canonical JSON.
pub fn output_json(output: &OpOutput) -> Value {
    match output {
        OpOutput::Append(a) => json!({
            "nextExpectedStreamVersion": a.next_expected_stream_version,
            "createdNewStream": a.created_new_stream,
        }),
        // Events in core's recorded-event shape (its serde form), canonical Extended JSON.
        OpOutput::Read(r) => json!({
            "currentStreamVersion": r.current_stream_version,
            "streamExists": r.stream_exists,
            "events": r.events.iter().map(|e| doc_to_json(&e.to_document())).collect::<Vec<_>>(),
        }),
        OpOutput::Exists { exists } => json!(exists),
        OpOutput::Rebuild(r) => json!({ "streamExists": r.stream_exists, "streamPosition": r.stream_position }),
        OpOutput::ReadModel { document } => document.as_ref().map_or(Value::Null, doc_to_json),
        OpOutput::Status(s) => serde_json::to_value(s).unwrap_or(Value::Null),
        OpOutput::Archive(a) => serde_json::to_value(a).unwrap_or(Value::Null),
        OpOutput::CloseStream(c) => serde_json::to_value(c).unwrap_or(Value::Null),
    }
}

/// An error as canonical JSON: its serde form (`kind` plus fields).
pub fn error_json(error: &Error) -> Value {
    serde_json::to_value(error).unwrap_or_else(|e| json!({ "kind": error.kind(), "unserialisable": e.to_string() }))
}

fn parse_events(events: &[Value]) -> Result<Vec<NewEvent>, String> {
    events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let obj = e.as_object().ok_or(format!("event {i} is not an object"))?;
            let event_type = obj.get("type").and_then(Value::as_str).ok_or(format!("event {i} has no string type"))?;
            let data = match obj.get("data") {
                Some(d) => doc_from_scenario_json(d)?,
                None => Document::new(),
            };
            let metadata = match obj.get("metadata") {
                Some(m) => doc_from_scenario_json(m)?,
                None => Document::new(),
            };
            let mut event = NewEvent::new(event_type, data).with_metadata(metadata);
            if let Some(id) = obj.get("id") {
                event.id = Some(id.as_str().ok_or(format!("event {i} id is not a string"))?.to_owned());
            }
            Ok(event)
        })
        .collect()
}

struct Clients {
    config: streamdoc_core::StoreConfig,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    contexts: BTreeMap<String, StoreContext>,
}

impl Clients {
    fn get(&mut self, client: &str) -> Result<StoreContext, Error> {
        if let Some(ctx) = self.contexts.get(client) {
            return Ok(ctx.clone());
        }
        let ctx = StoreContext::with_shared(self.config.clone(), self.clock.clone(), self.ids.clone())?;
        self.contexts.insert(client.to_owned(), ctx.clone());
        Ok(ctx)
    }

    fn prepare(&mut self, step: &StepOp) -> Result<Result<Prepared, Error>, String> {
        let ctx = match self.get(&step.client) {
            Ok(ctx) => ctx,
            Err(e) => return Ok(Err(e)),
        };
        Ok(match &step.op {
            ScenarioOp::Aggregate { stream, evolve } => {
                let f = evolve_fn(evolve).ok_or(format!("unknown evolve {evolve:?}"))?;
                ctx.aggregate(stream, initial_state(evolve), f).map(Prepared::Aggregate)
            }
            ScenarioOp::RebuildAll { stream_type, projection } => {
                Ok(Prepared::RebuildAll(ctx.rebuild_all(stream_type, projection.as_deref())))
            }
            ScenarioOp::QueryReadModels { stream_type, projection, streams, filter, sort, skip, limit, count } => {
                let mut query = ProjectionQuery::new(stream_type.clone(), projection.clone()).skip(*skip).limit(*limit);
                if let Some(filter) = filter {
                    query = query.filter(doc_from_scenario_json(filter)?);
                }
                if let Some(sort) = sort {
                    query = query.sort(doc_from_scenario_json(sort)?);
                }
                if let Some(streams) = streams {
                    query = query.streams(streams.clone());
                }
                Ok(Prepared::Query(ctx.query_models(query, *count)))
            }
            other => ctx.prepare(&op_spec(other)?).map(Prepared::Any),
        })
    }
}

/// An operation of a scenario as core's operation data (aggregates have none: their
/// fold is a function).
fn op_spec(op: &ScenarioOp) -> Result<OpSpec, String> {
    Ok(match op {
        ScenarioOp::Append { stream, events, expected } => {
            OpSpec::Append { stream: stream.clone(), events: parse_events(events)?, expected: *expected }
        }
        ScenarioOp::Read { stream, from, to, max_count, expected, from_archive } => OpSpec::Read {
            stream: stream.clone(),
            range: ReadRange { from: *from, to: *to, max_count: *max_count },
            expected: *expected,
            from_archive: *from_archive,
        },
        ScenarioOp::Exists { stream } => OpSpec::Exists { stream: stream.clone() },
        ScenarioOp::Status { stream } => OpSpec::Status { stream: stream.clone() },
        ScenarioOp::Archive { stream, expected } => OpSpec::Archive { stream: stream.clone(), expected: *expected },
        ScenarioOp::CloseStream { stream, successor, summary, expected } => OpSpec::CloseStream {
            stream: stream.clone(),
            successor: successor.clone(),
            summary: parse_events(std::slice::from_ref(summary))?.remove(0),
            expected: *expected,
        },
        ScenarioOp::Rebuild { stream, projection } => {
            OpSpec::Rebuild { stream: stream.clone(), projection: projection.clone() }
        }
        ScenarioOp::ReadModel { stream, projection } => {
            OpSpec::ReadModel { stream: stream.clone(), projection: projection.clone() }
        }
        ScenarioOp::RebuildAll { .. } | ScenarioOp::QueryReadModels { .. } => {
            return Err("only appends, reads, existence and status checks, archives, closes, rebuilds of one \
                        stream and read model reads can race"
                .into())
        }
        ScenarioOp::Aggregate { .. } => {
            return Err("an aggregate cannot race: a race runs as a Simulation, whose clients append, read and \
                        check existence (an aggregate is a read and a local fold)"
                .into())
        }
    })
}

/// A scenario target as core's executor.
struct TargetExecutor<'t>(&'t mut dyn Target);

impl Executor for TargetExecutor<'_> {
    fn execute(&mut self, command: &Command) -> Result<Reply, ExecutorError> {
        self.0.execute(command)
    }
}

fn log_line(at: String, command: &Command, reply: &Result<Reply, ExecutorError>) -> String {
    let reply = match reply {
        Ok(r) => r.to_mongosh(),
        Err(e) => format!("no reply: {e}"),
    };
    format!("[{at}] {} -> {reply}", command.to_mongosh())
}

fn result_json(result: Result<Value, Error>) -> Value {
    match result {
        Ok(v) => json!({ "ok": v }),
        Err(e) => json!({ "error": error_json(&e) }),
    }
}

/// A scenario being replayed step by step, for suites that compare targets after
/// every step ([`run`] replays a whole scenario).
pub struct Replay {
    clients: Clients,
    steps_done: usize,
}

impl std::fmt::Debug for Replay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replay").field("steps_done", &self.steps_done).finish_non_exhaustive()
    }
}

impl Replay {
    /// Fresh clients for `scenario`'s configuration, clock and id seed (its steps are
    /// not read: pass them, or others, to [`Replay::step`]).
    pub fn new(scenario: &Scenario) -> Self {
        Self {
            clients: Clients {
                config: scenario.config.to_config(),
                clock: Arc::new(SteppingClock::new(scenario.clock.start_ms, scenario.clock.step_ms)),
                ids: Arc::new(SeededIds::new(scenario.id_seed)),
                contexts: BTreeMap::new(),
            },
            steps_done: 0,
        }
    }

    /// Runs one step on `target`: its results (`{"ok": ...}` or `{"error": {...}}`, race
    /// members in listed order), and every command with its reply appended to `log`.
    /// A single operation runs with core's driver; a race runs as a [`Simulation`] of the
    /// members' clients under the race's schedule.
    pub fn step(
        &mut self,
        step: &ScenarioStep,
        target: &mut dyn Target,
        log: &mut Vec<String>,
    ) -> Result<Vec<Value>, RunError> {
        let index = self.steps_done;
        self.steps_done += 1;
        let malformed = |message: String| RunError::Malformed { step: index, message };
        match step {
            ScenarioStep::Op(op) => {
                let result = match self.clients.prepare(op).map_err(malformed)? {
                    Ok(mut prepared) => driver::run_logged(&mut prepared, &mut TargetExecutor(target), |x| {
                        log.push(log_line(format!("{index}.0"), x.command, x.reply))
                    }),
                    Err(e) => Err(e),
                };
                Ok(vec![result_json(result)])
            }
            ScenarioStep::Race(race) => self.race(index, race, target, log),
        }
    }

    fn race(
        &mut self,
        index: usize,
        race: &Race,
        target: &mut dyn Target,
        log: &mut Vec<String>,
    ) -> Result<Vec<Value>, RunError> {
        let malformed = |message: String| RunError::Malformed { step: index, message };
        let mut clients = Vec::new();
        for (i, member) in race.race.iter().enumerate() {
            if race.race[..i].iter().any(|m| m.client == member.client) {
                return Err(malformed(format!("client {:?} runs two operations of the race", member.client)));
            }
            let ctx = self.clients.get(&member.client).map_err(|e| malformed(e.to_string()))?;
            let script =
                ClientScript { name: member.client.clone(), ops: vec![op_spec(&member.op).map_err(malformed)?] };
            clients.push((ctx, script));
        }
        let mut sim = Simulation::from_contexts(TargetExecutor(target), clients);
        for (n, &i) in race.schedule.iter().enumerate() {
            sim.step(i).map_err(|e| malformed(format!("schedule entry {n}: {e}")))?;
        }
        sim.run_to_end();
        log.extend(sim.trace().iter().map(|t| log_line(format!("{index}.{}", t.client), &t.command, &t.reply)));
        let mut outcomes = sim.outcomes().to_vec();
        outcomes.sort_by_key(|o| o.client);
        Ok(outcomes.into_iter().map(|o| result_json(o.result.map(|out| output_json(&out)))).collect())
    }
}

/// The documents `target` stores in `database` and its `{database}_*` siblings, as
/// [`RunOutput::documents`] holds them.
pub fn stored_documents(target: &mut dyn Target, database: &str) -> Result<BTreeMap<String, Vec<Value>>, RunError> {
    let dumped = target.dump(database).map_err(RunError::Dump)?;
    Ok(dumped
        .into_iter()
        .filter(|(_, docs)| !docs.is_empty())
        .map(|(ns, docs)| {
            let mut docs: Vec<Value> = docs.iter().map(|d| normalise_stored(doc_to_json(d))).collect();
            docs.sort_by_key(|d| d.get("streamName").map(Value::to_string).unwrap_or_default());
            (ns, docs)
        })
        .collect())
}

/// Replays `scenario` on `target`.
pub fn run(scenario: &Scenario, target: &mut dyn Target) -> Result<RunOutput, RunError> {
    let mut replay = Replay::new(scenario);
    let mut results = Vec::new();
    let mut log = Vec::new();
    for step in &scenario.steps {
        results.extend(replay.step(step, target, &mut log)?);
    }
    let documents = stored_documents(target, &scenario.config.database)?;
    Ok(RunOutput { results, documents, log })
}
