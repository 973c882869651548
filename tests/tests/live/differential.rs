//! The differential property test: random sequences of operations — appends of every
//! expectation, reads of random ranges, existence checks, folds, and races interleaved
//! command by command — run through core's engine and through the host on the live
//! server, compared after every step: the step's results, then every stored document.
//!
//! `STREAMDOC_DIFFERENTIAL_CASES` (default 300) and `STREAMDOC_DIFFERENTIAL_SEED`
//! (default fixed, so CI replays the same sequences) tune the run; a failure is shrunk
//! to a minimal sequence and printed as a scenario file's steps.

use std::cell::RefCell;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};
use serde_json::{json, Value};
use streamdoc_core::Engine;
use streamdoc_tests::deviations::{judge, Verdict};
use streamdoc_tests::live::{self, Live};
use streamdoc_tests::runner::stored_documents;
use streamdoc_tests::scenario::{Scenario, ScenarioOp, Step};
use streamdoc_tests::{EngineTarget, Replay};

const DEFAULT_CASES: u32 = 300;
const DEFAULT_SEED: u64 = 0x5eed_d0c5;

const STREAMS: &[&str] = &["order:1", "order:2", "cart:x:1"];
const CLIENTS: &[&str] = &["a", "b"];

/// Keys for generated data; `exotic` adds the ones some servers refuse.
fn key(exotic: bool) -> BoxedStrategy<String> {
    if exotic {
        prop_oneof![8 => "[a-z]{1,5}", 1 => "\\$[a-z]{1,4}", 1 => "[a-z]{1,3}\\.[a-z]{1,3}"].boxed()
    } else {
        "[a-z]{1,5}".boxed()
    }
}

/// An Extended JSON value for event data.
fn value(exotic: bool) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        any::<i32>().prop_map(|n| json!(n)),
        any::<i64>().prop_map(|n| json!({ "$numberLong": n.to_string() })),
        (-1.0e6..1.0e6f64)
            .prop_map(|d| json!({ "$numberDouble": if d == 0.0 { "0.0".to_owned() } else { d.to_string() } })),
        "[ -~]{0,12}".prop_map(Value::String),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
        (0i64..4_102_444_800_000).prop_map(|ms| json!({ "$date": { "$numberLong": ms.to_string() } })),
    ];
    leaf.prop_recursive(3, 16, 4, move |inner| {
        let arrays = if exotic {
            // Arrays inside arrays: stored by MongoDB, refused by FerretDB.
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array).boxed()
        } else {
            prop::collection::vec(inner.clone().prop_filter("no nested arrays", |v| !v.is_array()), 0..4)
                .prop_map(Value::Array)
                .boxed()
        };
        prop_oneof![arrays, prop::collection::btree_map(key(exotic), inner, 0..4).prop_map(|m| json!(m))]
    })
    .boxed()
}

fn document(exotic: bool) -> BoxedStrategy<Value> {
    prop::collection::btree_map(key(exotic), value(exotic), 0..4).prop_map(|m| json!(m)).boxed()
}

/// An event; ids come from a small pool (so appends meet their own earlier events, the
/// idempotent-retry path) or are left to the store's seeded generator.
fn event(exotic: bool, fresh_ids: bool) -> BoxedStrategy<Value> {
    let id = if fresh_ids { Just(None).boxed() } else { prop::option::weighted(0.7, "e[1-6]").boxed() };
    let metadata = prop_oneof![
        12 => Just(None),
        4 => document(exotic).prop_map(Some),
        1 => Just(Some(json!({ "streamPosition": 9 }))), // reserved: refused before any command
    ];
    (id, prop::sample::select(vec!["Placed", "Paid", "Shipped"]), document(exotic), metadata)
        .prop_map(move |(id, kind, data, metadata)| {
            let mut e = json!({ "type": kind, "data": data });
            if let Some(id) = id {
                e["id"] = json!(id);
            }
            if let (Some(m), false) = (metadata, fresh_ids) {
                e["metadata"] = m;
            }
            e
        })
        .boxed()
}

fn expected() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("any")),
        Just(json!("noStream")),
        Just(json!("streamExists")),
        (0u64..5).prop_map(|n| json!(n))
    ]
}

fn stream() -> impl Strategy<Value = &'static str> {
    prop::sample::select(STREAMS)
}

fn client() -> impl Strategy<Value = &'static str> {
    prop::sample::select(CLIENTS)
}

/// One operation of a sequence, as a scenario step.
fn operation(exotic: bool) -> BoxedStrategy<Value> {
    // Now and then an empty append (refused before any command).
    let events = prop_oneof![1 => Just(Vec::new()), 12 => prop::collection::vec(event(exotic, false), 1..4)];
    let append = (client(), stream(), events, expected()).prop_map(
        |(c, s, events, x)| json!({ "client": c, "op": "append", "stream": s, "events": events, "expected": x }),
    );
    let range = (prop::option::of(0u64..7), prop::option::of(0u64..7), prop::option::of(0u64..4));
    // Now and then a read with an expected version (a conflict when the stream is elsewhere).
    let read_expected = prop_oneof![3 => Just(None), 1 => expected().prop_map(Some)];
    let read = (client(), stream(), range, read_expected).prop_map(|(c, s, (from, to, max), x)| {
        let mut op = json!({ "client": c, "op": "read", "stream": s });
        for (k, v) in [("from", from), ("to", to), ("maxCount", max)] {
            if let Some(v) = v {
                op[k] = json!(v);
            }
        }
        if let Some(x) = x {
            op["expected"] = x;
        }
        op
    });
    let exists = (client(), stream()).prop_map(|(c, s)| json!({ "client": c, "op": "exists", "stream": s }));
    let fold = (client(), stream(), prop::sample::select(vec!["count", "types"]))
        .prop_map(|(c, s, f)| json!({ "client": c, "op": "aggregate", "stream": s, "evolve": f }));
    prop_oneof![6 => append, 2 => read, 1 => exists, 1 => fold]
        .prop_map(|mut op| {
            op["expect"] = json!({ "ok": null }); // not checked here: the engine is the reference
            op
        })
        .boxed()
}

/// Operations racing command by command. Members are valid appends (fresh ids) or
/// reads, so each sends at least one command (an `Any` append too: one update when its
/// store remembers the stream's position), and the schedule names each at most once:
/// valid by construction.
fn race(exotic: bool) -> BoxedStrategy<Value> {
    let member = prop_oneof![
        3 => (stream(), prop::collection::vec(event(exotic, true), 1..3), expected())
            .prop_map(|(s, events, x)| json!({ "op": "append", "stream": s, "events": events, "expected": x })),
        1 => stream().prop_map(|s| json!({ "op": "read", "stream": s })),
    ];
    (prop::collection::vec(member, 2..4), any::<u64>())
        .prop_map(|(members, shuffle)| {
            let mut schedule = Vec::new();
            let members: Vec<Value> = members
                .into_iter()
                .enumerate()
                .map(|(i, mut m)| {
                    schedule.push(i);
                    m["client"] = json!(format!("r{i}"));
                    m["expect"] = json!({ "ok": null });
                    m
                })
                .collect();
            // A deterministic shuffle of the schedule, and a prefix of it.
            let mut s = shuffle;
            for i in (1..schedule.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                schedule.swap(i, (s >> 33) as usize % (i + 1));
            }
            schedule.truncate(1 + (shuffle % schedule.len() as u64) as usize);
            json!({ "race": members, "schedule": schedule })
        })
        .boxed()
}

/// A whole sequence as a scenario (expectations unused).
fn sequence() -> impl Strategy<Value = Scenario> {
    let layout = prop::sample::select(vec!["streamdoc", "emmett"]);
    let storage = prop_oneof![
        Just(json!({ "kind": "perStreamType" })),
        Just(json!({ "kind": "single" })),
        Just(json!({ "kind": "prefixed", "prefix": "es_" })),
        Just(json!({ "kind": "tenantDatabase" })),
    ];
    // One sequence in ten may carry keys and values some servers refuse.
    let exotic = prop::bool::weighted(0.1);
    (layout, storage, any::<u64>(), exotic).prop_flat_map(|(layout, storage, seed, exotic)| {
        let step = prop_oneof![9 => operation(exotic), 1 => race(exotic)];
        prop::collection::vec(step, 1..20).prop_map(move |steps| {
            serde_json::from_value::<Scenario>(json!({
                "description": "differential",
                "config": { "database": "streamdoc_test", "layout": layout, "storage": storage },
                "idSeed": seed,
                "steps": steps,
            }))
            .expect("generated steps form a scenario")
        })
    })
}

#[derive(Debug, Default)]
struct Tally {
    sequences: usize,
    steps: usize,
    commands: usize,
    explained: Vec<String>,
}

/// Runs `scenario` on both, comparing after every step.
fn compare(live: &Live, scenario: &Scenario, tally: &RefCell<Tally>) -> Result<(), TestCaseError> {
    let scratch = live.scratch(&scenario.config.database);
    let mut renamed = scenario.clone();
    renamed.config.database = scratch.name().to_owned();
    let mut server_log = Vec::new();
    let outcome = compare_steps(live, &renamed, &mut server_log);
    let mut t = tally.borrow_mut();
    t.sequences += 1;
    t.commands += server_log.len();
    match outcome {
        Ok((steps, explained)) => {
            t.steps += steps;
            t.explained.extend(explained);
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The steps compared, and the deviation that ended the comparison, if one did.
fn compare_steps(
    live: &Live,
    scenario: &Scenario,
    server_log: &mut Vec<String>,
) -> Result<(usize, Option<String>), TestCaseError> {
    let database = &scenario.config.database;
    let mut engine = EngineTarget(Engine::new(0));
    let mut server = live.target();
    let (mut on_engine, mut on_server) = (Replay::new(scenario), Replay::new(scenario));
    let mut engine_log = Vec::new();
    for (index, step) in scenario.steps.iter().enumerate() {
        let fail = |e: &dyn std::fmt::Display| TestCaseError::fail(format!("step {index}: {e}"));
        let expected = on_engine.step(step, &mut engine, &mut engine_log).map_err(|e| fail(&e))?;
        let actual = on_server.step(step, &mut server, server_log).map_err(|e| fail(&e))?;
        let engine_docs = stored_documents(&mut engine, database).map_err(|e| fail(&e))?;
        let server_docs = stored_documents(&mut server, database).map_err(|e| fail(&e))?;
        let mut document_problems = Vec::new();
        if engine_docs != server_docs {
            document_problems.push(format!(
                "stored documents differ\n  engine {}\n  server {}",
                serde_json::to_string(&engine_docs).unwrap_or_default(),
                serde_json::to_string(&server_docs).unwrap_or_default()
            ));
        }
        let ops: Vec<&ScenarioOp> = match step {
            Step::Op(op) => vec![&op.op],
            Step::Race(r) => r.race.iter().map(|m| &m.op).collect(),
        };
        match judge(live.server(), &ops, &expected, &actual, document_problems) {
            Verdict::Identical => {}
            // The stores now differ as documented: stop comparing.
            Verdict::Explained { deviation, .. } => return Ok((index + 1, Some(deviation.id.to_owned()))),
            Verdict::Unexplained { problems, .. } => {
                return Err(TestCaseError::fail(format!(
                    "step {index} differs:\n  {}\n  commands on the server:\n    {}",
                    problems.join("\n  "),
                    server_log.join("\n    ")
                )));
            }
        }
    }
    Ok((scenario.steps.len(), None))
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

#[test]
fn random_sequences_agree_step_by_step_with_the_engine() {
    let Some(live) = live::connect("differential") else { return };
    let cases =
        u32::try_from(env_number("STREAMDOC_DIFFERENTIAL_CASES", DEFAULT_CASES.into())).unwrap_or(DEFAULT_CASES);
    let seed = env_number("STREAMDOC_DIFFERENTIAL_SEED", DEFAULT_SEED);
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        max_shrink_iters: 400,
        ..Config::default()
    };
    let tally = RefCell::new(Tally::default());
    let mut runner = TestRunner::new(config);
    let result = runner.run(&sequence(), |scenario| compare(&live, &scenario, &tally));
    let t = tally.into_inner();
    let mut ended_by: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for id in &t.explained {
        *ended_by.entry(id).or_default() += 1;
    }
    streamdoc_tests::report!(
        "differential on {} (seed {seed:#x}): {} sequences, {} steps, {} commands compared; \
         sequences ended early at a documented deviation: {ended_by:?}",
        live.server(),
        t.sequences,
        t.steps,
        t.commands,
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, scenario)) => panic!(
            "the engine and {} disagree (seed {seed:#x}); minimal sequence:\n{}\n{reason}",
            live.server(),
            serde_json::to_string_pretty(
                &json!({ "config": scenario.config, "idSeed": scenario.id_seed, "steps": scenario.steps })
            )
            .unwrap_or_default()
        ),
        Err(TestError::Abort(reason)) => panic!("the differential test aborted: {reason}"),
    }
    assert!(t.sequences >= cases as usize, "only {} of {cases} sequences ran", t.sequences);
}
