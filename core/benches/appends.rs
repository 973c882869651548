//! One-event appends spread over 10,000 streams: streamdoc's store on the in-memory
//! engine against the same workload on a plain `HashMap<String, Vec<Event>>`.
//!
//! `cargo xtask bench` (or `cargo bench -p streamdoc-core --bench appends`) measures both
//! side by side, alternating rounds so that machine noise hits both alike, and prints
//! appends/s and the ratio (target: the engine within 5x of the map). Criterion then
//! measures each in detail. Under `cargo test` it runs one small round as a smoke test.

// The benchmark measures wall-clock time and uses a std HashMap as its baseline.
#![allow(clippy::disallowed_methods)]

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use bson::{doc, DateTime, Document};
use criterion::{BatchSize, Criterion};
use streamdoc_core::{EventStore, ExpectedVersion, NewEvent};

const STREAMS: usize = 10_000;
/// Appends per stream per round: the first creates the stream, the rest append to it.
const APPENDS_PER_STREAM: usize = 3;

fn event(i: usize) -> NewEvent {
    NewEvent::new("Incremented", doc! { "by": 1, "seq": i as i64, "note": "a small payload" })
}

fn stream_names(streams: usize) -> Vec<String> {
    (0..streams).map(|i| format!("counter:{i}")).collect()
}

/// The workload on streamdoc: exact expected versions, as an application holding its
/// aggregates' versions would append.
fn streamdoc_round(names: &[String]) -> usize {
    let mut store = EventStore::in_memory();
    let mut appends = 0;
    for round in 0..APPENDS_PER_STREAM {
        for name in names {
            let r = store
                .append_to_stream(name, vec![event(appends)], ExpectedVersion::Exact(round as u64))
                .expect("append succeeds");
            black_box(r);
            appends += 1;
        }
    }
    black_box(store.executor());
    appends
}

/// A plain in-memory event store: what "an event store in a HashMap" does for the same
/// appends — check the expected version, stamp the event, push it.
#[derive(Debug, Clone)]
#[allow(dead_code)] // fields are written to be kept, as a store keeps them
struct Event {
    id: String,
    event_type: String,
    data: Document,
    metadata: Document,
    stream_name: String,
    stream_position: u64,
    recorded_at: DateTime,
}

fn hashmap_round(names: &[String]) -> usize {
    let mut store: HashMap<String, Vec<Event>> = HashMap::new();
    let mut appends = 0;
    let mut now = 0;
    for round in 0..APPENDS_PER_STREAM {
        for name in names {
            let e = event(appends);
            let events = store.entry(name.clone()).or_default();
            assert_eq!(events.len() as u64, round as u64, "expected version");
            now += 1;
            events.push(Event {
                id: format!("{appends:032x}"),
                event_type: e.event_type,
                data: e.data,
                metadata: e.metadata,
                stream_name: name.clone(),
                stream_position: events.len() as u64 + 1,
                recorded_at: DateTime::from_millis(now),
            });
            appends += 1;
        }
    }
    black_box(&store);
    appends
}

fn appends_per_second(f: fn(&[String]) -> usize, names: &[String]) -> f64 {
    let started = Instant::now();
    let n = f(names);
    n as f64 / started.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn side_by_side(streams: usize, rounds: usize) {
    let names = stream_names(streams);
    let (mut engine, mut map) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        engine.push(appends_per_second(streamdoc_round, &names));
        map.push(appends_per_second(hashmap_round, &names));
    }
    let (engine, map) = (median(engine), median(map));
    println!(
        "appends over {streams} streams, median of {rounds} alternating rounds:\n  \
         streamdoc on the engine: {engine:>12.0} appends/s\n  \
         HashMap<String, Vec<Event>>: {map:>8.0} appends/s\n  \
         ratio: the map is {:.2}x faster (target: at most 5x)",
        map / engine
    );
}

fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    if !benchmarking {
        side_by_side(200, 1);
        println!("(smoke run under `cargo test`; `cargo xtask bench` measures)");
        return;
    }
    side_by_side(STREAMS, 7);
    let names = stream_names(STREAMS);
    let mut c = Criterion::default().sample_size(10).measurement_time(Duration::from_secs(8)).configure_from_args();
    let mut group =
        c.benchmark_group(format!("{} one-event appends over {STREAMS} streams", STREAMS * APPENDS_PER_STREAM));
    group.bench_function("streamdoc on the engine", |b| {
        b.iter_batched(|| (), |_| streamdoc_round(&names), BatchSize::PerIteration)
    });
    group.bench_function("HashMap<String, Vec<Event>>", |b| {
        b.iter_batched(|| (), |_| hashmap_round(&names), BatchSize::PerIteration)
    });
    group.finish();
    c.final_summary();
}
