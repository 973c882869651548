//! The host against the bare driver: one-event appends at known positions through
//! [`EventStore`], and the identical `updateOne`s (captured from the same store logic)
//! sent by the bare `mongodb` driver; 1 and 16 writers.

use std::sync::Arc;

use streamdoc_core::{Command, ExpectedVersion, StoreConfig, StoreContext};
use streamdoc_host::{EventStore, RandomIds, SystemClock};

use super::{event, send_bare, writers, Capture, Server};
use crate::report::{slug, table, Fragments, Target};
use crate::stats::{Round, Spread, Summary};
use crate::BenchError;

/// The section's name in the report.
const SECTION: &str = "host";
/// The target: the host's time per append within this factor of the bare driver's.
const TARGET: f64 = 1.10;

/// Measures and writes the section `host-<server>`.
pub async fn run(server: &Server, fragments: &Fragments) -> Result<(), BenchError> {
    let appends = server.size.pick(64, 2_000);
    let streams = server.size.pick(16, 200);
    let (host_db, bare_db) = ("bench_host", "bench_bare");
    let mut rows = Vec::new();
    let mut json = serde_json::Map::new();
    for writer_count in [1usize, 16] {
        let host = Arc::new(server.store(host_db).await?);
        let bare_setup = server.store(bare_db).await?;
        let capture = Capture::default();
        let ctx = StoreContext::new(StoreConfig::new(bare_db), SystemClock, RandomIds)?;
        let capturing = EventStore::new(ctx, capture.clone());
        let names: Vec<String> = (0..streams).map(|i| format!("counter:{i}")).collect();
        for name in &names {
            host.append_to_stream(name, vec![event(0)], ExpectedVersion::NoStream).await?;
            bare_setup.append_to_stream(name, vec![event(0)], ExpectedVersion::NoStream).await?;
        }
        let (mut host_next, mut bare_next) = (vec![1u64; streams], vec![1u64; streams]);
        // Writer w appends to the streams s with s % writers == w, in turn.
        let plan = |next: &mut Vec<u64>| -> Vec<Vec<(String, u64)>> {
            let mut per_writer = vec![Vec::new(); writer_count];
            for i in 0..appends {
                let s = i % streams;
                per_writer[s % writer_count].push((names[s].clone(), next[s]));
                next[s] += 1;
            }
            per_writer
        };
        let (mut host_rounds, mut bare_rounds, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let mut core_rounds = Vec::new();
        for round in 0..=server.size.rounds() {
            let host_jobs = plan(&mut host_next);
            let mut bare_jobs: Vec<Vec<Command>> = Vec::new();
            let captured = std::time::Instant::now();
            for jobs in plan(&mut bare_next) {
                let mut commands = Vec::new();
                for (name, at) in jobs {
                    capturing.append_to_stream(&name, vec![event(round)], ExpectedVersion::Exact(at)).await?;
                    commands.extend(capture.take());
                }
                bare_jobs.push(commands);
            }
            let core_us = captured.elapsed().as_secs_f64() * 1e6 / appends as f64;
            let run_host = || {
                let host = host.clone();
                writers::run(host_jobs.clone(), move |(name, at): (String, u64)| {
                    let host = host.clone();
                    async move {
                        host.append_to_stream(&name, vec![event(round)], ExpectedVersion::Exact(at)).await?;
                        Ok(())
                    }
                })
            };
            let client = server.client.clone();
            let run_bare = || {
                let client = client.clone();
                writers::run(bare_jobs.clone(), move |command: Command| {
                    let client = client.clone();
                    async move { send_bare(&client, &command).await }
                })
            };
            // Alternate who goes first, so that a drift of the machine hits both alike.
            let (h, b): (Round, Round) = if round % 2 == 0 {
                let h = run_host().await?;
                (h, run_bare().await?)
            } else {
                let b = run_bare().await?;
                (run_host().await?, b)
            };
            if round == 0 {
                continue; // the warm-up round
            }
            core_rounds.push(core_us);
            ratios.push(b.per_second() / h.per_second());
            host_rounds.push(h);
            bare_rounds.push(b);
        }
        let (h, b, ratio) = (Summary::of(&host_rounds), Summary::of(&bare_rounds), Spread::of(&ratios));
        for (who, s) in [("streamdoc host (`EventStore`)", &h), ("bare `mongodb` driver, the same `updateOne`", &b)] {
            rows.push(vec![
                writer_count.to_string(),
                who.to_owned(),
                s.per_second.show(0),
                format!("{:.0}", s.p50_us.median),
                format!("{:.0}", s.p99_us.median),
            ]);
        }
        rows.push(vec![
            writer_count.to_string(),
            "**host time ÷ bare time**".into(),
            ratio.show(3),
            String::new(),
            String::new(),
        ]);
        rows.push(vec![
            writer_count.to_string(),
            "streamdoc's own work per append, no server (µs)".into(),
            Spread::of(&core_rounds).show(1),
            String::new(),
            String::new(),
        ]);
        fragments.target(Target {
            section: SECTION.into(),
            server: Some(server.label.clone()),
            target: format!(
                "the host within {TARGET:.2}× of the bare driver's time per append, {writer_count} writer(s)"
            ),
            measured: format!("{:.3}×", ratio.median),
            met: ratio.median <= TARGET,
        })?;
        json.insert(format!("host_appends_per_s_{writer_count}"), h.per_second.median.into());
        json.insert(format!("bare_appends_per_s_{writer_count}"), b.per_second.median.into());
    }
    server.drop(&[host_db, bare_db]).await?;
    let text = format!(
        "## The host against the bare driver on {label}\n\n\
         {appends} one-event appends at known positions over {streams} streams per round, after a warm-up round; \
         median (min–max) of {rounds} rounds, the contenders alternating. The bare driver sends the very `updateOne`s \
         the host sends (captured from the same store logic beforehand), so the difference is what streamdoc adds: \
         deciding the command, converting it, reading the reply. \
         The last row of each group times the same appends on an executor that answers at once (the capture): \
         what core and the async loop cost without any I/O.\n\n{}\n",
        table(&["writers", "contender", "appends/s", "p50 µs", "p99 µs"], &rows),
        label = server.label,
        rounds = server.size.rounds(),
    );
    fragments.section(&format!("{SECTION}-{}", slug(&server.label)), &text)?;
    let path = fragments.dir().join(format!("{SECTION}-{}.json", slug(&server.label)));
    std::fs::write(&path, serde_json::Value::Object(json).to_string())
        .map_err(|e| BenchError::Report(format!("{}: {e}", path.display())))?;
    Ok(())
}
