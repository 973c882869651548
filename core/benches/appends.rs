//! One-event appends spread over 10,000 streams: streamdoc's store on the in-memory
//! engine against the same workload on a plain `HashMap<String, Vec<Event>>`; the heap
//! each stored event takes against its BSON bytes; the exhaustive exploration of 3 and 4
//! clients.
//!
//! `cargo xtask bench` (or `cargo bench -p streamdoc-core --bench appends`) measures both
//! stores side by side: a warm-up round, then alternating rounds so that machine noise
//! hits both alike; it prints appends/s (median, min–max) and the ratio (target: the
//! engine within 3× of the map), allocations per append (a counting global allocator),
//! instructions per append (when `valgrind` is on `PATH`: the binary runs itself under
//! callgrind), live heap bytes per stored event against the event's stored BSON bytes
//! (target: within 4×) and exploration times. Criterion then measures each store in
//! detail.
//!
//! Environment:
//! - `STREAMDOC_BENCH_DIR`: also write `engine.md` (the report's section) there and
//!   append one JSON line per target to `targets.jsonl`.
//! - `STREAMDOC_BENCH_SIZE=tiny`: a seconds-long run of everything (no Criterion).
//! - `STREAMDOC_BENCH_MODE=callgrind-engine` or `callgrind-map`: run only the fixed
//!   callgrind workload (`CALLGRIND_APPENDS` appends, inside `callgrind_engine_workload`
//!   or `callgrind_map_workload`) and exit; for
//!   `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*callgrind_*_workload*'`.
//!
//! Under `cargo test` it runs a tiny round of each as a smoke test and writes no file
//! unless `STREAMDOC_BENCH_DIR` is set.

// The benchmark measures wall-clock time, reads its environment, runs valgrind and uses a
// std HashMap as its baseline.
#![allow(clippy::disallowed_methods)]

use std::alloc::System;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::hint::black_box;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bson::{doc, DateTime, Document};
use criterion::{BatchSize, Criterion};
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use streamdoc_core::engine::bson_size;
use streamdoc_core::sim::{ClientScript, ExploreOptions, Explorer, Simulation};
use streamdoc_core::{EventStore, ExpectedVersion, NewEvent, OpSpec, StoreConfig};

/// Counts allocations and live heap bytes.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn allocations() -> u64 {
    let s = GLOBAL.stats();
    (s.allocations + s.reallocations) as u64
}

fn live_bytes() -> isize {
    let s = GLOBAL.stats();
    s.bytes_allocated as isize - s.bytes_deallocated as isize + s.bytes_reallocated
}

const STREAMS: usize = 10_000;
/// Appends per stream per round: the first creates the stream, the rest append to it.
const APPENDS_PER_STREAM: usize = 3;
/// The callgrind workload: appends over `CALLGRIND_STREAMS` streams, run once.
const CALLGRIND_STREAMS: usize = 1_000;
const CALLGRIND_APPENDS: usize = CALLGRIND_STREAMS * APPENDS_PER_STREAM;

fn event(i: usize) -> NewEvent {
    NewEvent::new("Incremented", doc! { "by": 1, "seq": i as i64, "note": "a small payload" })
}

fn stream_names(streams: usize) -> Vec<String> {
    (0..streams).map(|i| format!("counter:{i}")).collect()
}

/// The workload on streamdoc: exact expected versions, as an application holding its
/// aggregates' versions would append. Returns the store and the appends made.
fn streamdoc_load(names: &[String], per_stream: usize) -> (EventStore, usize) {
    let mut store = EventStore::in_memory();
    let mut appends = 0;
    for round in 0..per_stream {
        for name in names {
            let r = store
                .append_to_stream(name, vec![event(appends)], ExpectedVersion::Exact(round as u64))
                .expect("append succeeds");
            black_box(r);
            appends += 1;
        }
    }
    (store, appends)
}

fn streamdoc_round(names: &[String]) -> usize {
    let (store, appends) = streamdoc_load(names, APPENDS_PER_STREAM);
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

#[inline(never)]
fn callgrind_engine_workload(names: &[String]) -> usize {
    streamdoc_round(names)
}

#[inline(never)]
fn callgrind_map_workload(names: &[String]) -> usize {
    hashmap_round(names)
}

/// Median, min and max.
#[derive(Debug, Clone, Copy)]
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

fn spread(mut v: Vec<f64>) -> Spread {
    v.sort_by(f64::total_cmp);
    Spread { median: v[v.len() / 2], min: v[0], max: v[v.len() - 1] }
}

/// One round of `f`: appends/s and allocations per append.
fn measure(f: fn(&[String]) -> usize, names: &[String]) -> (f64, f64) {
    let before = allocations();
    let started = Instant::now();
    let n = f(names);
    let rate = n as f64 / started.elapsed().as_secs_f64();
    (rate, (allocations() - before) as f64 / n as f64)
}

struct SideBySide {
    streams: usize,
    rounds: usize,
    engine: Spread,
    map: Spread,
    /// The map's appends/s over the engine's, per round.
    ratio: Spread,
    engine_allocations: f64,
    map_allocations: f64,
}

fn side_by_side(streams: usize, rounds: usize) -> SideBySide {
    let names = stream_names(streams);
    // The warm-up round, unmeasured.
    measure(streamdoc_round, &names);
    measure(hashmap_round, &names);
    let (mut engine, mut map, mut ratio) = (Vec::new(), Vec::new(), Vec::new());
    let (mut engine_allocations, mut map_allocations) = (0.0, 0.0);
    for _ in 0..rounds {
        let (e, ea) = measure(streamdoc_round, &names);
        let (m, ma) = measure(hashmap_round, &names);
        engine.push(e);
        map.push(m);
        ratio.push(m / e);
        (engine_allocations, map_allocations) = (ea, ma);
    }
    SideBySide {
        streams,
        rounds,
        engine: spread(engine),
        map: spread(map),
        ratio: spread(ratio),
        engine_allocations,
        map_allocations,
    }
}

/// Live heap bytes per stored event, against the stored documents' BSON bytes per event.
struct Memory {
    events: usize,
    streams: usize,
    heap_per_event: f64,
    bson_per_event: f64,
}

fn memory(streams: usize, per_stream: usize) -> Memory {
    let names = stream_names(streams);
    let before = live_bytes();
    let (store, events) = streamdoc_load(&names, per_stream);
    let heap = (live_bytes() - before).max(0);
    let engine = store.executor();
    let bson: usize = engine.namespaces().iter().flat_map(|ns| engine.documents(ns)).map(|d| bson_size(&d)).sum();
    drop(store);
    Memory { events, streams, heap_per_event: heap as f64 / events as f64, bson_per_event: bson as f64 / events as f64 }
}

/// Seconds to explore every schedule of `clients` clients, each creating its own stream
/// (index, then write), and of `clients` writers racing to create one stream; with the
/// schedules and the distinct states run.
struct Exploring {
    what: String,
    schedules: u64,
    states: u64,
    seconds: Spread,
}

fn exploration(clients: usize, race: bool, runs: usize) -> Exploring {
    let names = ["a", "b", "c", "d", "e", "f"];
    let scripts: Vec<ClientScript> = names[..clients]
        .iter()
        .map(|name| ClientScript {
            name: (*name).to_owned(),
            ops: vec![OpSpec::Append {
                stream: if race { "order:1".to_owned() } else { format!("order:{name}") },
                events: vec![NewEvent::new("Placed", doc! {})],
                expected: ExpectedVersion::NoStream,
            }],
        })
        .collect();
    let sim = Simulation::new(StoreConfig::new("app"), scripts).expect("a valid configuration");
    let (mut seconds, mut schedules, mut states) = (Vec::new(), 0, 0);
    for _ in 0..runs {
        let started = Instant::now();
        let mut explorer = Explorer::new(&sim, ExploreOptions { limit: u64::MAX, ..ExploreOptions::default() });
        assert!(explorer.run(u64::MAX), "the exploration finishes");
        seconds.push(started.elapsed().as_secs_f64());
        states = explorer.states();
        let report = explorer.into_report();
        assert!(report.violations.is_empty(), "{:?}", report.violations);
        schedules = report.schedules;
    }
    let what = if race {
        format!("{clients} writers racing to create one stream")
    } else {
        format!("{clients} clients, each creating its own stream")
    };
    Exploring { what, schedules, states, seconds: spread(seconds) }
}

/// Instructions per append of each store, when valgrind is on `PATH`: this binary run
/// under callgrind in each `STREAMDOC_BENCH_MODE`, counting inside the workload only.
fn instructions() -> Result<(f64, f64), String> {
    let exe = std::env::current_exe().map_err(|e| format!("no path to this binary: {e}"))?;
    let run = |mode: &str| -> Result<f64, String> {
        let out = std::env::temp_dir().join(format!("streamdoc-callgrind-{}-{mode}.out", std::process::id()));
        let status = Command::new("valgrind")
            .args(["--tool=callgrind", "--collect-atstart=no", "--toggle-collect=*callgrind_*_workload*"])
            .arg(format!("--callgrind-out-file={}", out.display()))
            .arg(&exe)
            .env("STREAMDOC_BENCH_MODE", format!("callgrind-{mode}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("valgrind is not on PATH ({e}): no instruction counts"))?;
        if !status.success() {
            return Err(format!("valgrind failed ({status}): no instruction counts"));
        }
        let ir = total_ir(&out);
        let _ = std::fs::remove_file(&out);
        Ok(ir? as f64 / CALLGRIND_APPENDS as f64)
    };
    Ok((run("engine")?, run("map")?))
}

/// The total `Ir` of a callgrind output file (its `summary:` or `totals:` line).
fn total_ir(path: &Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("no callgrind output {}: {e}", path.display()))?;
    text.lines()
        .find_map(|l| l.strip_prefix("summary:").or_else(|| l.strip_prefix("totals:")))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no total in {}", path.display()))
}

fn thousands(n: f64) -> String {
    let s = format!("{:.0}", n);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

const SPEED_TARGET: f64 = 3.0;
const MEMORY_TARGET: f64 = 4.0;

fn report(s: &SideBySide, ir: &Result<(f64, f64), String>, m: &Memory, x: &[Exploring], tiny: bool) -> String {
    let mut md = String::new();
    let n = s.streams * APPENDS_PER_STREAM;
    let _ = writeln!(md, "## The engine against a HashMap\n");
    if tiny {
        let _ = writeln!(md, "(a tiny run, `STREAMDOC_BENCH_SIZE=tiny`: the figures are not meaningful)\n");
    }
    let _ = writeln!(
        md,
        "{} one-event appends over {} streams with an exact expected version: `EventStore::in_memory()` \
         against a `HashMap<String, Vec<Event>>` doing the same check, stamping and push. \
         A warm-up round, then {} alternating rounds; median (min–max).\n",
        thousands(n as f64),
        thousands(s.streams as f64),
        s.rounds
    );
    let _ =
        writeln!(md, "| per append | streamdoc on the engine | HashMap | ratio (target: at most {SPEED_TARGET}×) |");
    let _ = writeln!(md, "|---|---|---|---|");
    let _ = writeln!(
        md,
        "| appends/s | {} ({}–{}) | {} ({}–{}) | the map is {:.2}× faster ({:.2}–{:.2}) |",
        thousands(s.engine.median),
        thousands(s.engine.min),
        thousands(s.engine.max),
        thousands(s.map.median),
        thousands(s.map.min),
        thousands(s.map.max),
        s.ratio.median,
        s.ratio.min,
        s.ratio.max
    );
    match ir {
        Ok((e, m)) => {
            let _ = writeln!(
                md,
                "| instructions (callgrind, {} appends over {} streams) | {} | {} | {:.2}× |",
                thousands(CALLGRIND_APPENDS as f64),
                thousands(CALLGRIND_STREAMS as f64),
                thousands(*e),
                thousands(*m),
                e / m
            );
        }
        Err(why) => {
            let _ = writeln!(md, "| instructions | {why} | | |");
        }
    }
    let _ = writeln!(
        md,
        "| allocations | {:.1} | {:.1} | {:.2}× |\n",
        s.engine_allocations,
        s.map_allocations,
        s.engine_allocations / s.map_allocations
    );
    let ratio = m.heap_per_event / m.bson_per_event;
    let _ = writeln!(
        md,
        "| memory, {} one-event appends over {} streams | per event |",
        thousands(m.events as f64),
        thousands(m.streams as f64)
    );
    let _ = writeln!(md, "|---|---|");
    let _ = writeln!(md, "| the engine's live heap | {} bytes |", thousands(m.heap_per_event));
    let _ = writeln!(md, "| the stored documents' BSON | {} bytes |", thousands(m.bson_per_event));
    let _ = writeln!(md, "| ratio (target: at most {MEMORY_TARGET}×) | {ratio:.2}× |\n");
    let _ =
        writeln!(md, "| exhaustive exploration (native) | schedules | distinct states run | time, median (min–max) |");
    let _ = writeln!(md, "|---|---|---|---|");
    for e in x {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.1} ms ({:.1}–{:.1}) |",
            e.what,
            thousands(e.schedules as f64),
            thousands(e.states as f64),
            e.seconds.median * 1e3,
            e.seconds.min * 1e3,
            e.seconds.max * 1e3
        );
    }
    let _ = writeln!(
        md,
        "\nAn append on the engine costs {:.1}× a push into a map and allocates {:.0} times; \
         each stored event holds {:.1}× its BSON bytes in memory ({} bytes for {} of BSON), so a \
         million such events take about {:.0} MB. The explorer checks every interleaving of four \
         clients in {:.0} ms, fast enough to run on every test.\n",
        s.ratio.median,
        s.engine_allocations,
        ratio,
        thousands(m.heap_per_event),
        thousands(m.bson_per_event),
        m.heap_per_event,
        x.iter().map(|e| e.seconds.median * 1e3).fold(0.0, f64::max)
    );
    md
}

fn write_files(dir: &Path, md: &str, s: &SideBySide, m: &Memory) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("engine.md"), md)?;
    let ratio = m.heap_per_event / m.bson_per_event;
    let mut targets = std::fs::OpenOptions::new().create(true).append(true).open(dir.join("targets.jsonl"))?;
    for (target, measured, met) in [
        (format!("the engine within {SPEED_TARGET}× of the map"), s.ratio.median, s.ratio.median <= SPEED_TARGET),
        (
            format!("the engine's memory per event within {MEMORY_TARGET}× of its BSON bytes"),
            ratio,
            ratio <= MEMORY_TARGET,
        ),
    ] {
        let line = serde_json::json!({
            "section": "engine",
            "target": target,
            "measured": format!("{measured:.2}×"),
            "met": met,
        });
        writeln!(targets, "{line}")?;
    }
    Ok(())
}

fn main() {
    let names = |n| stream_names(n);
    match std::env::var("STREAMDOC_BENCH_MODE").as_deref() {
        Ok("callgrind-engine") => {
            black_box(callgrind_engine_workload(&names(CALLGRIND_STREAMS)));
            return;
        }
        Ok("callgrind-map") => {
            black_box(callgrind_map_workload(&names(CALLGRIND_STREAMS)));
            return;
        }
        Ok(other) => panic!("unknown STREAMDOC_BENCH_MODE {other:?}: callgrind-engine or callgrind-map"),
        Err(_) => {}
    }
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let tiny = !benchmarking || std::env::var("STREAMDOC_BENCH_SIZE").as_deref() == Ok("tiny");
    let dir = std::env::var_os("STREAMDOC_BENCH_DIR").map(PathBuf::from);

    let s = if tiny { side_by_side(200, 5) } else { side_by_side(STREAMS, 7) };
    let m = if tiny { memory(100, 10) } else { memory(1_000, 100) };
    let x: Vec<Exploring> = if tiny {
        vec![exploration(2, false, 5), exploration(3, false, 5)]
    } else {
        vec![exploration(3, false, 5), exploration(4, false, 5), exploration(3, true, 5), exploration(4, true, 5)]
    };
    // Valgrind is slow: skipped in the smoke run unless a report is being written.
    let ir = if tiny && dir.is_none() { Err("not measured in the smoke run".to_owned()) } else { instructions() };
    let md = report(&s, &ir, &m, &x, tiny);
    println!("{md}");
    if let Some(dir) = &dir {
        if let Err(e) = write_files(dir, &md, &s, &m) {
            panic!("cannot write the report into {}: {e}", dir.display());
        }
    }
    if tiny {
        println!("(a tiny run; `cargo xtask bench` measures)");
        return;
    }
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
