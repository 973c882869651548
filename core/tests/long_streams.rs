//! Past the 16 MiB wall: archiving, closing the books and segmented streams, under
//! races, lost replies and crashes at every step.

use std::sync::Arc;

use bson::{doc, Document};
use proptest::prelude::*;
use streamdoc_core::layout::{ArchiveStorage, DEFAULT_SEGMENT_BYTES};
use streamdoc_core::ops::{Operation, Step, StreamState, Summary};
use streamdoc_core::sim::{explore, invariants, ClientScript, Simulation};
use streamdoc_core::sim::{ExploreOptions, Explorer};
use streamdoc_core::{
    ConfigError, Engine, Error, EventStore, ExpectedVersion, Namespace, NewEvent, OpSpec, ReadRange, SeededIds,
    SteppingClock, StoreConfig, StoreContext,
};

fn store(config: StoreConfig) -> EventStore<Engine> {
    let ctx = StoreContext::new(config, SteppingClock::new(0, 1), SeededIds::new(1)).expect("a valid configuration");
    EventStore::new(ctx, Engine::new(1))
}

fn event(id: &str) -> NewEvent {
    NewEvent::new("Noted", doc! { "n": id }).with_id(id)
}

fn sized(id: &str, bytes: usize) -> NewEvent {
    NewEvent::new("Noted", doc! { "text": "x".repeat(bytes) }).with_id(id)
}

fn every_document(engine: &Engine) -> Vec<Document> {
    engine.namespaces().iter().flat_map(|ns| engine.documents(ns)).collect()
}

fn assert_invariants(config: &StoreConfig, engine: &Engine) {
    let violations = invariants::check_state(config, every_document(engine), &[]);
    assert!(violations.is_empty(), "{violations:?}");
}

#[test]
fn an_archived_stream_takes_no_append_of_any_kind() {
    let mut s = store(StoreConfig::new("app"));
    s.append_to_stream("order:1", vec![event("a"), event("b")], ExpectedVersion::NoStream).unwrap();
    assert_eq!(s.archive_stream("order:1", ExpectedVersion::Exact(2)).unwrap().stream_position, 2);
    for expected in
        [ExpectedVersion::Any, ExpectedVersion::StreamExists, ExpectedVersion::NoStream, ExpectedVersion::Exact(2)]
    {
        let late = s.append_to_stream("order:1", vec![event("late")], expected);
        assert!(
            matches!(&late, Err(Error::StreamArchived { position: 2, successor: None, .. })),
            "{expected:?}: {late:?}"
        );
    }
    let live = s.read_stream("order:1", ReadRange::all());
    assert!(matches!(live, Err(Error::StreamArchived { position: 2, .. })), "{live:?}");
    let archived = s.read_archived_stream("order:1", ReadRange { from: Some(2), to: None, max_count: None }).unwrap();
    assert_eq!(archived.events.iter().map(|e| e.metadata.event_id.as_str()).collect::<Vec<_>>(), ["b"]);
    assert_eq!(archived.current_stream_version, 2);
    assert!(!s.stream_exists("order:1").unwrap());
    assert_eq!(s.stream_status("order:1").unwrap().state, StreamState::Archived);
    assert_eq!(s.stream_status("order:9").unwrap().state, StreamState::Missing);
    let tombstone = &s.executor().documents(&Namespace::new("app", "order"))[0];
    assert!(tombstone.get_array("events").unwrap().is_empty(), "the tombstone keeps no events: {tombstone}");
    assert_invariants(s.context().config(), s.executor());
}

#[test]
fn archiving_is_idempotent_and_checks_the_position() {
    let mut s = store(StoreConfig::new("app").with_archive(ArchiveStorage::Database("cold".into())));
    s.append_to_stream("order:1", vec![event("a")], ExpectedVersion::NoStream).unwrap();
    let stale = s.archive_stream("order:1", ExpectedVersion::Exact(5));
    assert!(matches!(stale, Err(Error::ConcurrencyConflict { actual: Some(1), .. })), "{stale:?}");
    assert_eq!(s.stream_status("order:1").unwrap().state, StreamState::Live, "a refused archive changes nothing");
    let missing = s.archive_stream("order:2", ExpectedVersion::Any);
    assert!(matches!(missing, Err(Error::ConcurrencyConflict { actual: None, .. })), "{missing:?}");
    let first = s.archive_stream("order:1", ExpectedVersion::Any).unwrap();
    assert_eq!(s.archive_stream("order:1", ExpectedVersion::Any).unwrap(), first);
    assert_eq!(s.archive_stream("order:1", ExpectedVersion::Exact(1)).unwrap(), first);
    assert_eq!(s.executor().documents(&Namespace::new("cold", "order")).len(), 1);
    assert_invariants(s.context().config(), s.executor());
}

fn sum_summary() -> Summary {
    Summary::Computed(Arc::new(|read| {
        let events = read.events.len() as i32;
        Ok(NewEvent::new("Opened", doc! { "carried": events }))
    }))
}

#[test]
fn closing_the_books_links_both_ways_and_is_idempotent() {
    let mut s = store(StoreConfig::new("app"));
    s.append_to_stream("shift:1", vec![event("a"), event("b")], ExpectedVersion::NoStream).unwrap();
    let closed = s.close_stream("shift:1", ExpectedVersion::Any, "shift:2", sum_summary()).unwrap();
    assert_eq!((closed.closed_at, closed.next_expected_stream_version), (2, 1));
    assert_eq!(s.close_stream("shift:1", ExpectedVersion::Any, "shift:2", sum_summary()).unwrap(), closed);
    let next = s.read_stream("shift:2", ReadRange::all()).unwrap();
    assert_eq!(next.events.len(), 1);
    assert_eq!(next.events[0].data, doc! { "carried": 2 });
    assert_eq!(next.events[0].metadata.event_id, "closed:shift:1@2");
    let old = s.stream_status("shift:1").unwrap();
    assert_eq!((old.state, old.successor.as_deref()), (StreamState::Archived, Some("shift:2")));
    let new = s.stream_status("shift:2").unwrap();
    let link = new.predecessor.expect("the successor names its predecessor");
    assert_eq!((link.stream_name.as_str(), link.stream_position), ("shift:1", 2));
    let late = s.append_to_stream("shift:1", vec![event("c")], ExpectedVersion::Any);
    assert!(matches!(&late, Err(Error::StreamArchived { successor: Some(n), .. }) if n == "shift:2"), "{late:?}");
    // Closing into another successor is refused: it was closed into shift:2.
    let other = s.close_stream("shift:1", ExpectedVersion::Any, "shift:3", sum_summary());
    assert!(matches!(other, Err(Error::StreamArchived { .. })), "{other:?}");
    assert_invariants(s.context().config(), s.executor());
}

#[test]
fn a_refused_close_changes_nothing() {
    let mut s = store(StoreConfig::new("app"));
    s.append_to_stream("shift:1", vec![event("a")], ExpectedVersion::NoStream).unwrap();
    s.append_to_stream("shift:2", vec![event("z")], ExpectedVersion::NoStream).unwrap();
    let before = every_document(s.executor());
    let exists = s.close_stream("shift:1", ExpectedVersion::Any, "shift:2", sum_summary());
    assert!(matches!(&exists, Err(Error::ConcurrencyConflict { stream, .. }) if stream == "shift:2"), "{exists:?}");
    let failing = Summary::Computed(Arc::new(|_| Err(Error::Misuse { message: "no summary".into() })));
    assert!(matches!(s.close_stream("shift:1", ExpectedVersion::Any, "shift:3", failing), Err(Error::Misuse { .. })));
    let invalid = Summary::Event(NewEvent::new("", doc! {}));
    assert!(matches!(
        s.close_stream("shift:1", ExpectedVersion::Any, "shift:3", invalid),
        Err(Error::InvalidEvent { .. })
    ));
    let stale = s.close_stream("shift:1", ExpectedVersion::Exact(7), "shift:3", sum_summary());
    assert!(matches!(stale, Err(Error::ConcurrencyConflict { actual: Some(1), .. })), "{stale:?}");
    let itself = s.close_stream("shift:1", ExpectedVersion::Any, "shift:1", sum_summary());
    assert!(matches!(itself, Err(Error::Misuse { .. })), "{itself:?}");
    let after: Vec<Document> = every_document(s.executor());
    assert_eq!(after, before, "nothing was written");
}

/// Runs `op` to its end on `engine`, losing the reply to its `crash_at`th command:
/// applied (`applied`) or never delivered. Returns whether the crash happened.
fn run_crashing(op: &mut impl Operation, engine: &mut Engine, crash_at: usize, applied: bool) -> bool {
    for i in 0.. {
        match op.next() {
            Step::Send(cmd) if i == crash_at => {
                if applied {
                    engine.execute(&cmd);
                }
                return true;
            }
            Step::Send(cmd) => op.feed(engine.execute(&cmd)),
            Step::Done(_) => return false,
        }
    }
    false
}

fn run(op: &mut impl Operation<Output = impl std::fmt::Debug>, engine: &mut Engine) -> String {
    loop {
        match op.next() {
            Step::Send(cmd) => op.feed(engine.execute(&cmd)),
            Step::Done(result) => return format!("{result:?}"),
        }
    }
}

#[test]
fn a_crash_at_every_step_of_an_archive_or_a_close_then_a_retry_leaves_one_complete_copy() {
    let config = StoreConfig::new("app");
    for close in [false, true] {
        let mut crashes = 0;
        for crash_at in 0..12 {
            for applied in [false, true] {
                let ctx = StoreContext::new(config.clone(), SteppingClock::new(0, 1), SeededIds::new(1)).unwrap();
                let mut s = EventStore::new(ctx.clone(), Engine::new(1));
                s.append_to_stream("shift:1", vec![event("a"), event("b")], ExpectedVersion::NoStream).unwrap();
                let mut engine = s.executor().clone();
                // A fresh context: a restarted process remembers nothing.
                let fresh = || StoreContext::new(config.clone(), SteppingClock::new(9, 1), SeededIds::new(2)).unwrap();
                let (crashed, result) = if close {
                    let summary = Summary::Event(NewEvent::new("Opened", doc! {}));
                    let mut op =
                        fresh().close_stream("shift:1", ExpectedVersion::Exact(2), "shift:2", summary.clone()).unwrap();
                    let crashed = run_crashing(&mut op, &mut engine, crash_at, applied);
                    let mut retry =
                        fresh().close_stream("shift:1", ExpectedVersion::Exact(2), "shift:2", summary).unwrap();
                    (crashed, run(&mut retry, &mut engine))
                } else {
                    let mut op = fresh().archive("shift:1", ExpectedVersion::Exact(2)).unwrap();
                    let crashed = run_crashing(&mut op, &mut engine, crash_at, applied);
                    let mut retry = fresh().archive("shift:1", ExpectedVersion::Exact(2)).unwrap();
                    (crashed, run(&mut retry, &mut engine))
                };
                if !crashed {
                    continue;
                }
                crashes += 1;
                assert!(result.starts_with("Ok("), "close {close}, crash at {crash_at} ({applied}): {result}");
                assert_invariants(&config, &engine);
                let archive = engine.documents(&Namespace::new("app", "shift_archive"));
                assert_eq!(archive.len(), 1, "one copy");
                assert_eq!(archive[0].get_array("events").unwrap().len(), 2, "a complete copy");
                if close {
                    let next = engine.documents(&Namespace::new("app", "shift"));
                    let successor =
                        next.iter().find(|d| d.get_str("streamName").ok() == Some("shift:2")).expect("a successor");
                    assert_eq!(successor.get_array("events").unwrap().len(), 1, "one summary: {successor}");
                }
            }
        }
        // Archive: index, seal, read, copy, strip; close: read, check, those, index, write.
        assert!(crashes >= if close { 16 } else { 10 }, "close {close}: only {crashes} crash points");
    }
}

fn script(name: &str, ops: Vec<OpSpec>) -> ClientScript {
    ClientScript { name: name.to_owned(), ops }
}

fn append_spec(stream: &str, id: &str, expected: ExpectedVersion) -> OpSpec {
    OpSpec::Append { stream: stream.to_owned(), events: vec![event(id)], expected }
}

/// Every interleaving of `clients` (each its own store, retrying twice after a lost
/// reply) with at most one lost reply, after `setup` ran alone.
fn explore_after(config: StoreConfig, setup: OpSpec, clients: Vec<ClientScript>) -> streamdoc_core::sim::Exploration {
    let mut sim = Simulation::new(config.clone(), vec![script("setup", vec![setup])]).unwrap();
    sim.run_to_end();
    let clients = clients
        .into_iter()
        .zip(1..)
        .map(|(c, seed)| {
            (StoreContext::new(config.clone(), SteppingClock::new(0, 1), SeededIds::new(seed)).unwrap(), c)
        })
        .collect();
    let options = streamdoc_core::sim::SimOptions { retries: 2, ..Default::default() };
    let sim = Simulation::from_contexts_with(sim.executor().clone(), clients, options);
    let mut explorer = Explorer::new(&sim, ExploreOptions { limit: 3_000_000, faults: 1 });
    explorer.run(u64::MAX);
    explorer.into_report()
}

#[test]
fn archive_against_appends_in_every_interleaving_with_lost_replies() {
    let clients = vec![
        script("archiver", vec![OpSpec::Archive { stream: "order:1".into(), expected: ExpectedVersion::Any }]),
        script("writer", vec![append_spec("order:1", "b", ExpectedVersion::Exact(1))]),
        script("other", vec![append_spec("order:1", "c", ExpectedVersion::Exact(2))]),
    ];
    let report =
        explore_after(StoreConfig::new("app"), append_spec("order:1", "a", ExpectedVersion::NoStream), clients);
    assert!(!report.truncated);
    assert!(report.violations.is_empty(), "{:?}", report.violations.first());
    assert!(report.schedules > 1_000, "{} schedules", report.schedules);
    for summary in report.outcomes.keys() {
        assert!(summary.contains("archiver0:archived(@"), "the archive always finishes: {summary}");
        for writer in ["writer0", "other0"] {
            assert!(
                summary.contains(&format!("{writer}:ok("))
                    || summary.contains(&format!("{writer}:StreamArchived"))
                    || summary.contains(&format!("{writer}:ConcurrencyConflict")),
                "{writer}: lands before the seal, or is told the stream is archived: {summary}"
            );
        }
    }
    assert!(report.outcomes.keys().any(|s| s.contains("writer0:StreamArchived")));
    assert!(report.outcomes.keys().any(|s| s.contains("archiver0:archived(@3)")));
    assert!(report.coverage.lost_replies > 0, "replies were lost");
}

fn segmented(bytes: u64) -> StoreConfig {
    StoreConfig::new("app").with_segments(bytes)
}

#[test]
fn roll_over_against_appends_in_every_interleaving_with_lost_replies() {
    // Each event is ~90 bytes: a segment of 150 bytes holds one, so every append
    // rolls over while the other races it.
    let clients = vec![
        script("x", vec![append_spec("log:1", "b", ExpectedVersion::Exact(1))]),
        // Exact positions: an `any` append is not idempotent after a lost reply (the
        // designs suite shows it), a known position is.
        script("y", vec![append_spec("log:1", "c", ExpectedVersion::Exact(1))]),
    ];
    let report = explore_after(segmented(150), append_spec("log:1", "a", ExpectedVersion::NoStream), clients);
    assert!(!report.truncated);
    assert!(report.violations.is_empty(), "{:?}", report.violations.first());
    assert!(report.schedules > 1_000, "{} schedules", report.schedules);
    for summary in report.outcomes.keys() {
        assert_eq!(summary.matches(":ok(2)").count(), 1, "one writer wins position 2: {summary}");
    }
}

#[test]
fn segments_tile_and_reads_match_one_document() {
    let mut one = store(StoreConfig::new("app"));
    let mut seg = store(segmented(2_000));
    for i in 0..60 {
        let events: Vec<NewEvent> = (0..(i % 3 + 1)).map(|j| sized(&format!("e{i}-{j}"), 100 + 37 * j)).collect();
        let expected = if i == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Any };
        let a = one.append_to_stream("log:1", events.clone(), expected).unwrap();
        let b = seg.append_to_stream("log:1", events, expected).unwrap();
        assert_eq!(a, b);
    }
    let segments = seg.executor().documents(&Namespace::new("app", "log"));
    assert!(segments.len() > 10, "{} segments", segments.len());
    assert_invariants(seg.context().config(), seg.executor());
    let n = one.read_stream("log:1", ReadRange::all()).unwrap().current_stream_version;
    let mut ranges = vec![ReadRange::all(), ReadRange { from: Some(n - 9), to: None, max_count: None }];
    for (from, to, max) in [(1, 5, None), (7, 40, Some(3)), (30, 30, None), (n, n + 5, None), (n + 1, n + 9, None)] {
        ranges.push(ReadRange { from: Some(from), to: Some(to), max_count: max });
    }
    ranges.push(ReadRange { from: None, to: None, max_count: Some(0) });
    for range in ranges {
        assert_eq!(seg.read_stream("log:1", range).unwrap(), one.read_stream("log:1", range).unwrap(), "{range:?}");
    }
    assert_eq!(seg.stream_status("log:1").unwrap().stream_position, n);
    assert!(seg.stream_exists("log:1").unwrap());
    let count = seg.aggregate_stream("log:1", 0u64, |n, _| n + 1).unwrap();
    assert_eq!(count.state, n);
    // Exact conflicts and idempotent retries behave as in one document.
    let stale = seg.append_to_stream("log:1", vec![event("late")], ExpectedVersion::Exact(3));
    assert!(matches!(stale, Err(Error::ConcurrencyConflict { actual: Some(p), .. }) if p == n), "{stale:?}");
    let last = one.read_stream("log:1", ReadRange { from: Some(n), to: None, max_count: None }).unwrap();
    let id = last.events[0].metadata.event_id.clone();
    let retry = seg.append_to_stream("log:1", vec![sized(&id, 100)], ExpectedVersion::Exact(n - 1)).unwrap();
    assert_eq!(retry.next_expected_stream_version, n, "a retry of the last append is reported as success");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random appends and segment sizes: every range read across segments equals the
    /// same read of one document.
    #[test]
    fn ranged_reads_across_segments_equal_one_document(
        sizes in prop::collection::vec(1usize..400, 1..40),
        limit in 100u64..2_000,
        from in 0u64..45,
        len in 0u64..45,
        max_count in proptest::option::of(0u64..10),
    ) {
        let mut one = store(StoreConfig::new("app"));
        let mut seg = store(segmented(limit));
        for (i, size) in sizes.iter().enumerate() {
            let e = sized(&format!("e{i}"), *size);
            one.append_to_stream("log:1", vec![e.clone()], ExpectedVersion::Any).unwrap();
            seg.append_to_stream("log:1", vec![e], ExpectedVersion::Any).unwrap();
        }
        let range = ReadRange { from: Some(from), to: Some(from + len), max_count };
        prop_assert_eq!(seg.read_stream("log:1", range).unwrap(), one.read_stream("log:1", range).unwrap());
        let violations = invariants::check_state(seg.context().config(), every_document(seg.executor()), &[]);
        prop_assert!(violations.is_empty(), "{:?}", violations);
    }
}

#[test]
fn a_crash_at_every_step_of_a_roll_over_then_a_retry_appends_once() {
    let config = segmented(300);
    let mut crashes = 0;
    for crash_at in 0..8 {
        for applied in [false, true] {
            let mut s = store(config.clone());
            s.append_to_stream("log:1", vec![sized("a", 200)], ExpectedVersion::NoStream).unwrap();
            let mut engine = s.executor().clone();
            let fresh = || StoreContext::new(config.clone(), SteppingClock::new(5, 1), SeededIds::new(2)).unwrap();
            let mut op = fresh().append("log:1", vec![sized("b", 200)], ExpectedVersion::Exact(1)).unwrap();
            if !run_crashing(&mut op, &mut engine, crash_at, applied) {
                continue;
            }
            crashes += 1;
            let mut retry = fresh().append("log:1", vec![sized("b", 200)], ExpectedVersion::Exact(1)).unwrap();
            let result = run(&mut retry, &mut engine);
            assert!(result.contains("next_expected_stream_version: 2"), "crash at {crash_at} ({applied}): {result}");
            assert_invariants(&config, &engine);
            let mut check = EventStore::new(fresh(), engine.clone());
            let read = check.read_stream("log:1", ReadRange::all()).unwrap();
            let ids: Vec<&str> = read.events.iter().map(|e| e.metadata.event_id.as_str()).collect();
            assert_eq!(ids, ["a", "b"]);
        }
    }
    // index, write, head, seal, open, write
    assert!(crashes >= 10, "only {crashes} crash points");
}

#[test]
fn fifty_mib_in_segments_reads_back_whole_and_in_order() {
    let mut s = store(segmented(DEFAULT_SEGMENT_BYTES));
    let payload = 64 * 1024;
    let count = 50 * 1024 * 1024 / payload + 1;
    let mut next = ExpectedVersion::NoStream;
    for i in 0..count {
        let r = s.append_to_stream("blob:1", vec![sized(&format!("e{i}"), payload)], next).unwrap();
        next = ExpectedVersion::Exact(r.next_expected_stream_version);
    }
    let read = s.read_stream("blob:1", ReadRange::all()).unwrap();
    assert_eq!(read.events.len(), count);
    assert!(read
        .events
        .iter()
        .zip(1..)
        .all(|(e, p)| e.metadata.stream_position == p && e.metadata.event_id == format!("e{}", p - 1)));
    let segments = s.executor().documents(&Namespace::new("app", "blob"));
    assert!(segments.len() >= 13, "{} segments of at most 4 MiB", segments.len());
    assert_invariants(s.context().config(), s.executor());
}

#[test]
fn what_segments_do_not_support_is_refused() {
    use streamdoc_core::projection::InlineProjection;
    let refused = |config: StoreConfig| {
        let e = StoreContext::new(config, SteppingClock::new(0, 1), SeededIds::new(1)).unwrap_err();
        assert!(matches!(e, Error::InvalidConfig(ConfigError::Unsupported { .. })), "{e:?}");
    };
    refused(segmented(0));
    refused(segmented(13 * 1024 * 1024));
    refused(segmented(1_000).with_layout(streamdoc_core::Layout::Emmett));
    refused(segmented(1_000).with_projection(InlineProjection::new("p", ["Noted"], |_, _| Ok(None))));
    refused(StoreConfig::new("app").with_archive(ArchiveStorage::Suffix(String::new())));
    let mut s = store(segmented(1_000));
    s.append_to_stream("log:1", vec![event("a")], ExpectedVersion::NoStream).unwrap();
    let archive = s.archive_stream("log:1", ExpectedVersion::Any);
    assert!(matches!(archive, Err(Error::InvalidConfig(ConfigError::Unsupported { .. }))), "{archive:?}");
    let close = s.close_stream("log:1", ExpectedVersion::Any, "log:2", sum_summary());
    assert!(matches!(close, Err(Error::InvalidConfig(ConfigError::Unsupported { .. }))), "{close:?}");
    let config = streamdoc_core::subscription::SubscriptionConfig::new("c").stream_type("log");
    let sub = streamdoc_core::subscription::Subscription::new(s.context(), config);
    assert!(matches!(sub, Err(Error::Subscription(_))), "{sub:?}");
}

#[test]
fn an_explorer_sees_no_violation_when_archives_and_closes_race() {
    let sim = Simulation::new(
        StoreConfig::new("app"),
        vec![
            script(
                "w",
                vec![
                    append_spec("shift:1", "a", ExpectedVersion::Any),
                    append_spec("shift:1", "b", ExpectedVersion::Any),
                ],
            ),
            script(
                "c",
                vec![OpSpec::CloseStream {
                    stream: "shift:1".into(),
                    successor: "shift:2".into(),
                    summary: NewEvent::new("Opened", doc! {}),
                    expected: ExpectedVersion::Any,
                }],
            ),
            script("r", vec![OpSpec::Status { stream: "shift:1".into() }]),
        ],
    )
    .unwrap();
    let report = explore(&sim, 2_000_000);
    assert!(!report.truncated);
    assert!(report.violations.is_empty(), "{:?}", report.violations.first());
    assert!(report.outcomes.keys().any(|s| s.contains("c0:closed(@2)")), "{:?}", report.outcomes.keys().next());
    assert!(report.outcomes.keys().any(|s| s.contains("w1:StreamArchived")));
}
