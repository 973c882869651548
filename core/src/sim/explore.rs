//! Exhaustive enumeration of schedules.

use std::collections::BTreeMap;

use crate::driver::Executor;
use crate::sim::invariants::{self, Violation};
use crate::sim::{Schedule, Simulation, StoredDocuments};

/// What exploring every interleaving found.
#[derive(Debug, Clone, Default)]
pub struct Exploration {
    /// Complete schedules run.
    pub schedules: u64,
    /// True when the limit stopped the search before every schedule was run.
    pub truncated: bool,
    /// Each violation found, with the schedule that produced it (the first few).
    pub violations: Vec<(Schedule, Violation)>,
    /// How many schedules ended with each combination of results, keyed by a
    /// summary such as `a0:ok(1) b0:ConcurrencyConflict(actual 1)`.
    pub outcomes: BTreeMap<String, u64>,
}

/// At most this many violations are kept (the count of schedules is exact regardless).
const MAX_VIOLATIONS_KEPT: usize = 32;

/// Runs every schedule of `sim` (up to `limit` complete schedules), checking the
/// [invariants](invariants::check) at the end of each.
pub fn explore<E: Executor + Clone + StoredDocuments>(sim: &Simulation<E>, limit: u64) -> Exploration {
    explore_with(sim, limit, invariants::check)
}

/// As [`explore`], with a custom check. Exploration records no trace: the simulations
/// `check` receives hold only the trace `sim` already had.
pub fn explore_with<E: Executor + Clone>(
    sim: &Simulation<E>,
    limit: u64,
    check: impl Fn(&Simulation<E>) -> Vec<Violation>,
) -> Exploration {
    let mut report = Exploration::default();
    let mut root = sim.clone();
    root.set_tracing(false);
    // Depth-first, on an explicit stack: a branch is a clone of the state before the step
    // (the lowest client's branch takes the state itself).
    let mut stack: Vec<(Simulation<E>, Schedule)> = vec![(root, Vec::new())];
    while let Some((state, schedule)) = stack.pop() {
        let runnable = state.runnable();
        if runnable.is_empty() {
            report.schedules += 1;
            *report.outcomes.entry(summary(&state)).or_default() += 1;
            for v in check(&state) {
                if report.violations.len() < MAX_VIOLATIONS_KEPT {
                    report.violations.push((schedule.clone(), v));
                }
            }
            if report.schedules >= limit {
                report.truncated = !stack.is_empty();
                break;
            }
            continue;
        }
        // Push in reverse so that the lowest client runs first (lexicographic order).
        let Some((&lowest, others)) = runnable.split_first() else { continue };
        for &c in others.iter().rev() {
            let mut next = state.clone();
            if next.step(c).is_ok() {
                let mut s = schedule.clone();
                s.push(c);
                stack.push((next, s));
            }
        }
        let (mut next, mut s) = (state, schedule);
        if next.step(lowest).is_ok() {
            s.push(lowest);
            stack.push((next, s));
        }
    }
    report
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
