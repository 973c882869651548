//! Exhaustive enumeration of schedules, optionally with lost replies.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::driver::Executor;
use crate::sim::invariants::{self, Violation};
use crate::sim::{Path, Simulation, StoredDocuments};

/// How far to explore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExploreOptions {
    /// Stop after this many complete schedules.
    pub limit: u64,
    /// At most this many replies lost per schedule (only the replies to writes are
    /// lost: losing a read's reply only fails the read).
    pub faults: u32,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        Self { limit: 1_000_000, faults: 0 }
    }
}

/// A violation, with the shortest path found that produces it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counterexample {
    /// The steps.
    pub path: Path,
    /// What broke.
    pub violation: Violation,
}

/// One invariant over every schedule explored.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvariantReport {
    /// In how many schedules it broke (0: it held in all of them).
    pub violated_in: u64,
    /// The shortest schedule that breaks it (the first found among the shortest).
    pub shortest: Option<Counterexample>,
}

/// A combination of results some schedules end with.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FinalState {
    /// How many schedules end this way.
    pub count: u64,
    /// The shortest of them.
    pub shortest: Path,
}

/// In how many schedules each thing happened at least once: evidence that the race
/// the explorer claims to have checked really happened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Coverage {
    /// An operation ended with a concurrency conflict.
    pub conflicts: u64,
    /// A write got E11000 from the unique index.
    pub duplicate_keys: u64,
    /// An update matched nothing.
    pub zero_matches: u64,
    /// An append lost the race for a position and wrote again.
    pub rewrites: u64,
    /// A reply was lost.
    pub lost_replies: u64,
    /// An append was retried after a lost reply.
    pub retries: u64,
}

/// What exploring every interleaving found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exploration {
    /// Complete schedules run.
    pub schedules: u64,
    /// True when the limit stopped the search before every schedule was run.
    pub truncated: bool,
    /// The first violations found, with their schedules (at most 32 are kept; the
    /// counts in `invariants` are exact).
    pub violations: Vec<Counterexample>,
    /// Every invariant ([`Violation::KINDS`]), keyed by kind.
    pub invariants: BTreeMap<String, InvariantReport>,
    /// How many schedules ended with each combination of results, keyed by a
    /// summary such as `a0:ok(1) b0:ConcurrencyConflict(actual 1)`.
    pub outcomes: BTreeMap<String, u64>,
    /// The same combinations, each with the shortest schedule that ends with it.
    pub final_states: BTreeMap<String, FinalState>,
    /// What happened, counted in schedules.
    pub coverage: Coverage,
}

/// At most this many violations are kept (the count of schedules is exact regardless).
const MAX_VIOLATIONS_KEPT: usize = 32;

type Check<E> = Box<dyn Fn(&Simulation<E>) -> Vec<Violation>>;

/// Steps from some state to the end of a schedule: (client, reply lost).
type Suffix = Vec<(usize, bool)>;

fn prefixed(step: (usize, bool), suffix: &Suffix) -> Suffix {
    let mut s = Vec::with_capacity(suffix.len() + 1);
    s.push(step);
    s.extend_from_slice(suffix);
    s
}

fn to_path(suffix: &Suffix) -> Path {
    Path {
        schedule: suffix.iter().map(|(c, _)| *c).collect(),
        lost: suffix.iter().enumerate().filter(|(_, (_, lost))| *lost).map(|(i, _)| i).collect(),
    }
}

impl Coverage {
    fn add(&mut self, other: &Coverage) {
        self.conflicts += other.conflicts;
        self.duplicate_keys += other.duplicate_keys;
        self.zero_matches += other.zero_matches;
        self.rewrites += other.rewrites;
        self.lost_replies += other.lost_replies;
        self.retries += other.retries;
    }
}

/// Schedules that break one invariant, and the shortest of them.
type InvariantTally = (u64, Option<(Suffix, Violation)>);

/// What every schedule from one state leads to; the shortest suffixes are the first
/// found among the shortest, so in lexicographic order of schedules.
#[derive(Debug, Clone, Default)]
struct Subtree {
    schedules: u64,
    finals: BTreeMap<String, (u64, Suffix)>,
    invariants: BTreeMap<&'static str, InvariantTally>,
    coverage: Coverage,
    kept: Vec<(Suffix, Violation)>,
}

impl Subtree {
    fn leaf(summary: String, tally: crate::sim::Tally, violations: Vec<Violation>) -> Self {
        let mut leaf = Subtree { schedules: 1, ..Subtree::default() };
        leaf.finals.insert(summary, (1, Vec::new()));
        let indicator = |n: u32| u64::from(n > 0);
        leaf.coverage = Coverage {
            conflicts: indicator(tally.conflicts),
            duplicate_keys: indicator(tally.duplicate_keys),
            zero_matches: indicator(tally.zero_matches),
            rewrites: indicator(tally.rewrites),
            lost_replies: indicator(tally.lost_replies),
            retries: indicator(tally.retries),
        };
        for v in violations {
            let entry = leaf.invariants.entry(v.kind()).or_insert((1, None));
            if entry.1.is_none() {
                entry.1 = Some((Vec::new(), v.clone()));
            }
            if leaf.kept.len() < MAX_VIOLATIONS_KEPT {
                leaf.kept.push((Vec::new(), v));
            }
        }
        leaf
    }

    /// Adds the schedules of `child`, reached from here by `step`.
    fn absorb(&mut self, step: (usize, bool), child: &Subtree) {
        self.schedules += child.schedules;
        for (summary, (count, suffix)) in &child.finals {
            match self.finals.get_mut(summary) {
                Some(entry) => {
                    entry.0 += count;
                    if suffix.len() + 1 < entry.1.len() {
                        entry.1 = prefixed(step, suffix);
                    }
                }
                None => {
                    self.finals.insert(summary.clone(), (*count, prefixed(step, suffix)));
                }
            }
        }
        for (kind, (count, shortest)) in &child.invariants {
            let entry = self.invariants.entry(kind).or_insert((0, None));
            entry.0 += count;
            if let Some((suffix, v)) = shortest {
                if entry.1.as_ref().is_none_or(|(s, _)| suffix.len() + 1 < s.len()) {
                    entry.1 = Some((prefixed(step, suffix), v.clone()));
                }
            }
        }
        self.coverage.add(&child.coverage);
        for (suffix, v) in &child.kept {
            if self.kept.len() >= MAX_VIOLATIONS_KEPT {
                break;
            }
            self.kept.push((prefixed(step, suffix), v.clone()));
        }
    }

    fn into_report(self, truncated: bool) -> Exploration {
        let mut report =
            Exploration { schedules: self.schedules, truncated, coverage: self.coverage, ..Exploration::default() };
        for kind in Violation::KINDS {
            report.invariants.insert(kind.to_owned(), InvariantReport::default());
        }
        for (kind, (violated_in, shortest)) in self.invariants {
            let shortest = shortest.map(|(suffix, violation)| Counterexample { path: to_path(&suffix), violation });
            report.invariants.insert(kind.to_owned(), InvariantReport { violated_in, shortest });
        }
        for (summary, (count, suffix)) in self.finals {
            report.outcomes.insert(summary.clone(), count);
            report.final_states.insert(summary, FinalState { count, shortest: to_path(&suffix) });
        }
        report.violations = self
            .kept
            .into_iter()
            .map(|(suffix, violation)| Counterexample { path: to_path(&suffix), violation })
            .collect();
        report
    }
}

/// A state being explored: its children (client, reply lost), how many have been
/// explored, and what they led to so far.
struct Frame<E> {
    state: Option<Simulation<E>>,
    key: Option<(u128, u32)>,
    children: Vec<(usize, bool)>,
    next: usize,
    acc: Subtree,
    faults: u32,
}

/// A depth-first exploration that can be run a slice at a time (to report progress, or
/// to stop between slices).
///
/// States reached by different schedules are explored once: a state's fingerprint
/// (the engine's documents and indexes, every client's operation and store, the
/// outcomes, the counts of what happened) keys a cache of what its schedules lead to.
/// The counts stay those of every schedule, as if each had been run.
///
/// ```
/// use bson::doc;
/// use streamdoc_core::sim::{ClientScript, ExploreOptions, Explorer, Simulation};
/// use streamdoc_core::{ExpectedVersion, NewEvent, OpSpec, StoreConfig};
///
/// let writer = |name: &str, stream: &str| ClientScript {
///     name: name.into(),
///     ops: vec![OpSpec::Append {
///         stream: stream.into(),
///         events: vec![NewEvent::new("Placed", doc! {})],
///         expected: ExpectedVersion::NoStream,
///     }],
/// };
/// // three writers on three streams: index, then write, 6! / (2! 2! 2!) orders
/// let clients = vec![writer("a", "order:1"), writer("b", "order:2"), writer("c", "order:3")];
/// let sim = Simulation::new(StoreConfig::new("app"), clients)?;
/// let mut explorer = Explorer::new(&sim, ExploreOptions::default());
/// while !explorer.run(10) {
///     // report explorer.report().schedules as progress
/// }
/// assert_eq!(explorer.report().schedules, 90);
/// assert!(explorer.report().invariants.values().all(|i| i.violated_in == 0));
/// # Ok::<(), streamdoc_core::Error>(())
/// ```
pub struct Explorer<E> {
    stack: Vec<Frame<E>>,
    memo: crate::det::DetHashMap<(u128, u32), Subtree>,
    options: ExploreOptions,
    check: Check<E>,
    report: Exploration,
    done: bool,
    /// States explored (cache hits excluded).
    states: u64,
}

impl<E> std::fmt::Debug for Explorer<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Explorer")
            .field("pending", &self.stack.len())
            .field("states", &self.states)
            .field("options", &self.options)
            .field("report", &self.report)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}

impl<E: Executor + Clone + StoredDocuments + std::fmt::Debug + 'static> Explorer<E> {
    /// Explores `sim`'s schedules from its current state, checking every invariant.
    pub fn new(sim: &Simulation<E>, options: ExploreOptions) -> Self {
        Self::with_check(sim, options, invariants::check)
    }
}

impl<E: Executor + Clone + std::fmt::Debug> Explorer<E> {
    /// As [`Explorer::new`], with a custom check run at the end of each schedule.
    /// Exploration records no trace: the simulations `check` receives hold only the
    /// trace `sim` already had.
    pub fn with_check(
        sim: &Simulation<E>,
        options: ExploreOptions,
        check: impl Fn(&Simulation<E>) -> Vec<Violation> + 'static,
    ) -> Self {
        let mut root = sim.clone();
        root.set_tracing(false);
        let mut explorer = Self {
            stack: Vec::new(),
            memo: crate::det::DetHashMap::default(),
            options,
            check: Box::new(check),
            report: Subtree::default().into_report(false),
            done: false,
            states: 0,
        };
        if root.runnable().is_empty() {
            let leaf = explorer.leaf(&root);
            explorer.report = leaf.into_report(false);
            explorer.done = true;
        } else {
            let frame = explorer.frame(root, 0);
            explorer.stack.push(frame);
        }
        explorer
    }

    /// Explores at most `budget` more states (a schedule run to its end, or a state
    /// whose schedules were already explored from another path, counts as one); true
    /// when the exploration is over (every schedule run, or `limit` reached).
    pub fn run(&mut self, budget: u64) -> bool {
        let mut work = 0;
        while work < budget && !self.done {
            let Some(top) = self.stack.last_mut() else { break };
            if top.next == top.children.len() {
                let Some(frame) = self.stack.pop() else { break };
                self.close(frame);
                continue;
            }
            let step = top.children[top.next];
            top.next += 1;
            let last = top.next == top.children.len();
            let faults = top.faults + u32::from(step.1);
            let Some(mut child) = (if last { top.state.take() } else { top.state.clone() }) else { continue };
            if child.step_with(step.0, step.1).is_err() {
                continue;
            }
            work += 1;
            let key = child.state_key().map(|k| (k, faults));
            if let Some(known) = key.and_then(|k| self.memo.get(&k)) {
                self.report.schedules += known.schedules;
                if let Some(top) = self.stack.last_mut() {
                    top.acc.absorb(step, known);
                }
            } else if child.runnable().is_empty() {
                let leaf = self.leaf(&child);
                self.report.schedules += 1;
                if let Some(k) = key {
                    self.memo.insert(k, leaf.clone());
                }
                if let Some(top) = self.stack.last_mut() {
                    top.acc.absorb(step, &leaf);
                }
            } else {
                let mut frame = self.frame(child, faults);
                frame.key = key;
                self.stack.push(frame);
            }
            if self.report.schedules >= self.options.limit {
                self.stop();
            }
        }
        self.done
    }

    /// True when the exploration is over.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// What was found: complete once [`Explorer::run`] has returned true; until then
    /// only `schedules` (the count so far) moves.
    pub fn report(&self) -> &Exploration {
        &self.report
    }

    /// What was found.
    pub fn into_report(self) -> Exploration {
        self.report
    }

    /// How many distinct states were explored (the cache's hits are not).
    pub fn states(&self) -> u64 {
        self.states
    }

    fn frame(&mut self, state: Simulation<E>, faults: u32) -> Frame<E> {
        self.states += 1;
        let mut children = Vec::new();
        for c in state.runnable() {
            children.push((c, false));
            if faults < self.options.faults && state.next_is_write(c) {
                children.push((c, true));
            }
        }
        Frame { state: Some(state), key: None, children, next: 0, acc: Subtree::default(), faults }
    }

    fn leaf(&mut self, state: &Simulation<E>) -> Subtree {
        self.states += 1;
        Subtree::leaf(summary(state), state.tally(), (self.check)(state))
    }

    /// A state whose children are all explored: its result goes to its parent (and
    /// the cache), or is the report.
    fn close(&mut self, frame: Frame<E>) {
        if let Some(k) = frame.key {
            self.memo.insert(k, frame.acc.clone());
        }
        match self.stack.last_mut() {
            Some(parent) => {
                let step = parent.children[parent.next - 1];
                parent.acc.absorb(step, &frame.acc);
            }
            None => {
                self.report = frame.acc.into_report(false);
                self.done = true;
            }
        }
    }

    /// The limit is reached: what the unexplored rest would add is left out.
    fn stop(&mut self) {
        let truncated = true;
        while let Some(frame) = self.stack.pop() {
            match self.stack.last_mut() {
                Some(parent) => {
                    let step = parent.children[parent.next - 1];
                    parent.acc.absorb(step, &frame.acc);
                }
                None => self.report = frame.acc.into_report(truncated),
            }
        }
        self.done = true;
    }
}

/// Runs every schedule of `sim` (up to `limit` complete schedules), checking the
/// [invariants](invariants::check) at the end of each.
pub fn explore<E: Executor + Clone + StoredDocuments + std::fmt::Debug + 'static>(
    sim: &Simulation<E>,
    limit: u64,
) -> Exploration {
    let mut explorer = Explorer::new(sim, ExploreOptions { limit, ..ExploreOptions::default() });
    explorer.run(u64::MAX);
    explorer.into_report()
}

/// As [`explore`], with a custom check.
pub fn explore_with<E: Executor + Clone + std::fmt::Debug>(
    sim: &Simulation<E>,
    limit: u64,
    check: impl Fn(&Simulation<E>) -> Vec<Violation> + 'static,
) -> Exploration {
    let mut explorer = Explorer::with_check(sim, ExploreOptions { limit, ..ExploreOptions::default() }, check);
    explorer.run(u64::MAX);
    explorer.into_report()
}

/// A one-line summary of every operation's result, in client and script order.
pub(crate) fn summary<E>(sim: &Simulation<E>) -> String {
    let names = sim.client_names();
    let mut outcomes: Vec<_> = sim.outcomes().iter().collect();
    outcomes.sort_by_key(|o| (o.client, o.op_index));
    outcomes
        .iter()
        .map(|o| {
            let result = match &o.result {
                Ok(crate::ops::OpOutput::Append(a)) => format!("ok({})", a.next_expected_stream_version),
                Ok(crate::ops::OpOutput::Read(r)) => format!("read({}@{})", r.events.len(), r.current_stream_version),
                Ok(crate::ops::OpOutput::Exists { exists }) => format!("exists({exists})"),
                Ok(crate::ops::OpOutput::Rebuild(r)) => format!("rebuilt(@{})", r.stream_position),
                Ok(crate::ops::OpOutput::ReadModel { document }) => format!("model({})", document.is_some()),
                Ok(crate::ops::OpOutput::Status(s)) => format!("status({:?}@{})", s.state, s.stream_position),
                Ok(crate::ops::OpOutput::Archive(a)) => format!("archived(@{})", a.stream_position),
                Ok(crate::ops::OpOutput::CloseStream(c)) => format!("closed(@{})", c.closed_at),
                Err(crate::Error::ConcurrencyConflict { actual, .. }) => match actual {
                    Some(n) => format!("ConcurrencyConflict(actual {n})"),
                    None => "ConcurrencyConflict(no stream)".to_owned(),
                },
                Err(e) => e.kind().to_owned(),
            };
            format!("{}{}:{}", names.get(o.client).map(String::as_str).unwrap_or("?"), o.op_index, result)
        })
        .collect::<Vec<_>>()
        .join(" ")
}
