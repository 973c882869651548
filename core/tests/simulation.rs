//! The simulator's invariants under random and exhaustive interleavings.

use bson::doc;
use proptest::prelude::*;
use streamdoc_core::sim::{explore, invariants, ClientScript, Simulation, StoredDocuments, Violation};
use streamdoc_core::{Command, ExpectedVersion, NewEvent, OpOutput, OpSpec, ReadRange, Reply, StoreConfig};

const STREAMS: [&str; 2] = ["order:1", "order:2"];

fn append(stream: &str, n: usize, expected: ExpectedVersion) -> OpSpec {
    OpSpec::Append {
        stream: stream.to_owned(),
        events: (0..n).map(|i| NewEvent::new(format!("E{i}"), doc! { "i": i as i32 })).collect(),
        expected,
    }
}

fn expected_version() -> impl Strategy<Value = ExpectedVersion> {
    prop_oneof![
        Just(ExpectedVersion::Any),
        Just(ExpectedVersion::NoStream),
        Just(ExpectedVersion::StreamExists),
        (0u64..4).prop_map(ExpectedVersion::Exact),
    ]
}

fn op() -> impl Strategy<Value = OpSpec> {
    let stream = prop::sample::select(STREAMS.to_vec());
    prop_oneof![
        4 => (stream.clone(), 1usize..3, expected_version()).prop_map(|(s, n, e)| append(s, n, e)),
        1 => (stream.clone(), proptest::option::of(0u64..4), proptest::option::of(0u64..5), proptest::option::of(0u64..3))
            .prop_map(|(s, from, to, max_count)| {
                let (from, to) = match (from, to) {
                    (Some(f), Some(t)) if t < f => (Some(t), Some(f)),
                    other => other,
                };
                OpSpec::Read { stream: s.to_owned(), range: ReadRange { from, to, max_count }, expected: ExpectedVersion::Any, from_archive: false }
            }),
        1 => stream.prop_map(|s| OpSpec::Exists { stream: s.to_owned() }),
    ]
}

fn clients() -> impl Strategy<Value = Vec<ClientScript>> {
    prop::collection::vec(prop::collection::vec(op(), 1..4), 2..5).prop_map(|scripts| {
        scripts
            .into_iter()
            .enumerate()
            .map(|(i, ops)| ClientScript { name: ((b'a' + i as u8) as char).to_string(), ops })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Random clients under a random schedule: every invariant holds at the end.
    #[test]
    fn invariants_hold_under_random_schedules(scripts in clients(), picks in prop::collection::vec(0usize..8, 0..40)) {
        let mut sim = Simulation::new(StoreConfig::new("app"), scripts).expect("a valid configuration");
        for p in picks {
            let runnable = sim.runnable();
            if runnable.is_empty() {
                break;
            }
            sim.step(runnable[p % runnable.len()]).expect("a runnable client steps");
        }
        sim.run_to_end();
        prop_assert!(sim.is_finished());
        let violations = invariants::check(&sim);
        prop_assert!(violations.is_empty(), "violations: {violations:?}\ntrace: {:#?}", sim.trace());
    }
}

fn script(name: &str, ops: Vec<OpSpec>) -> ClientScript {
    ClientScript { name: name.to_owned(), ops }
}

#[test]
fn racing_creations_one_wins_in_every_interleaving() {
    let sim = Simulation::new(
        StoreConfig::new("app"),
        (0..3).map(|i| script(&format!("c{i}"), vec![append("order:1", 1, ExpectedVersion::NoStream)])).collect(),
    )
    .expect("a valid configuration");
    let report = explore(&sim, 1_000_000);
    assert!(!report.truncated);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    // 3 clients x 3 commands (createIndex, updateOne, verify or none) -> many schedules
    assert!(report.schedules > 100, "only {} schedules", report.schedules);
    for summary in report.outcomes.keys() {
        assert_eq!(summary.matches("ok(1)").count(), 1, "exactly one creation wins: {summary}");
        assert_eq!(summary.matches("ConcurrencyConflict(actual 1)").count(), 2, "{summary}");
    }
}

#[test]
fn any_appends_all_succeed_with_distinct_positions() {
    let sim = Simulation::new(
        StoreConfig::new("app"),
        (0..3).map(|i| script(&format!("c{i}"), vec![append("order:1", 1, ExpectedVersion::Any)])).collect(),
    )
    .expect("a valid configuration");
    let report = explore(&sim, 1_000_000);
    assert!(!report.truncated && report.violations.is_empty(), "{:?}", report.violations);
    for summary in report.outcomes.keys() {
        for position in 1..=3 {
            assert_eq!(summary.matches(&format!("ok({position})")).count(), 1, "{summary}");
        }
    }
}

/// The simulator's headline workload: 4 clients x 2 commands each = 2,520 schedules.
#[test]
fn four_clients_two_steps_each_explore_exhaustively() {
    let sim = Simulation::new(
        StoreConfig::new("app"),
        (0..4)
            .map(|i| {
                let expected = if i % 2 == 0 { ExpectedVersion::Exact(0) } else { ExpectedVersion::NoStream };
                script(&format!("c{i}"), vec![append(STREAMS[i % 2], 1, expected)])
            })
            .collect(),
    )
    .expect("a valid configuration");
    let report = explore(&sim, 1_000_000);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert!(!report.truncated);
    assert!(report.schedules >= 2_520, "{} schedules", report.schedules);
}

#[test]
fn a_failed_append_is_never_visible_and_conflicts_are_typed() {
    let sim = Simulation::new(
        StoreConfig::new("app"),
        vec![
            script(
                "a",
                vec![append("order:1", 2, ExpectedVersion::NoStream), append("order:1", 1, ExpectedVersion::Exact(2))],
            ),
            script(
                "b",
                vec![
                    append("order:1", 1, ExpectedVersion::Exact(2)),
                    OpSpec::Read {
                        stream: "order:1".into(),
                        range: ReadRange::all(),
                        expected: ExpectedVersion::Any,
                        from_archive: false,
                    },
                ],
            ),
        ],
    )
    .expect("a valid configuration");
    let report = explore(&sim, 1_000_000);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    // Some interleaving lets b win position 3, some lets a: both outcomes are reachable.
    let a_wins = report.outcomes.keys().any(|s| s.contains("a1:ok(3)") && s.contains("b0:ConcurrencyConflict"));
    let b_wins = report.outcomes.keys().any(|s| s.contains("b0:ok(3)") && s.contains("a1:ConcurrencyConflict"));
    assert!(a_wins && b_wins, "{:#?}", report.outcomes);
}

#[test]
fn the_checker_catches_a_lost_update() {
    // Two appends succeed; then the stored document is rolled back behind the
    // simulator's back to hold only the first, as a non-atomic server would leave it.
    // The checker must report the acknowledged event that vanished.
    let mut sim = Simulation::new(
        StoreConfig::new("app"),
        vec![
            script("a", vec![append("order:1", 1, ExpectedVersion::NoStream)]),
            script("b", vec![append("order:1", 1, ExpectedVersion::Exact(1))]),
        ],
    )
    .expect("a valid configuration");
    sim.run(&[]).expect("runs");
    assert!(invariants::check(&sim).is_empty());
    assert!(sim.outcomes().iter().all(|o| matches!(o.result, Ok(OpOutput::Append(_)))));
    let ns = sim.executor().namespaces()[0].clone();
    let mut engine = sim.executor().clone();
    let first = engine.documents(&ns)[0].get_array("events").expect("events")[0].clone();
    let update = doc! { "$set": { "events": [first], "metadata.streamPosition": 1_i64 } };
    let reply =
        engine.execute(&Command::UpdateOne { ns, filter: doc! { "streamName": "order:1" }, update, upsert: false });
    assert!(matches!(reply, Reply::Updated { matched: 1, modified: 1, .. }), "{reply:?}");
    let violations = invariants::check_state(sim.config(), engine.stored_documents(), sim.outcomes());
    assert!(violations.iter().any(|v| matches!(v, Violation::LostEvent { position: 2, .. })), "{violations:?}");
}
