//! Writers at once: 1, 4 and 16 writers appending one event at a time, each to its own
//! stream (no conflicts) or all to one hot stream (each conflict answered by retrying
//! at the position the conflict reports).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use streamdoc_core::{Error, ExpectedVersion};

use super::{event, writers, Server};
use crate::report::{slug, table, Fragments};
use crate::stats::{Spread, Summary};
use crate::BenchError;

/// Measures and writes the section `concurrency-<server>`.
pub async fn run(server: &Server, fragments: &Fragments) -> Result<(), BenchError> {
    let db = "bench_concurrency";
    let appends = server.size.pick(32, 800);
    let mut rows = Vec::new();
    for writer_count in [1usize, 4, 16] {
        for hot in [false, true] {
            let store = Arc::new(server.store(db).await?);
            // Each writer's view of its stream's position.
            let mut known = vec![0u64; writer_count];
            let (mut rounds, mut rates) = (Vec::new(), Vec::new());
            for round in 0..=server.size.rounds() {
                let (attempts, conflicts) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
                let plan: Vec<Vec<(usize, u64)>> =
                    (0..writer_count).map(|w| (0..appends / writer_count).map(|_| (w, known[w])).collect()).collect();
                let positions: Arc<Vec<AtomicU64>> = Arc::new(known.iter().map(|&k| AtomicU64::new(k)).collect());
                let r = {
                    let (store, attempts, conflicts, positions) =
                        (store.clone(), attempts.clone(), conflicts.clone(), positions.clone());
                    writers::run(plan, move |(w, _): (usize, u64)| {
                        let (store, attempts, conflicts, positions) =
                            (store.clone(), attempts.clone(), conflicts.clone(), positions.clone());
                        async move {
                            let name = if hot { "counter:hot".to_owned() } else { format!("counter:{w}") };
                            loop {
                                let at = positions[w].load(Ordering::Relaxed);
                                let expected =
                                    if at == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(at) };
                                attempts.fetch_add(1, Ordering::Relaxed);
                                match store.append_to_stream(&name, vec![event(w)], expected).await {
                                    Ok(r) => {
                                        positions[w].store(r.next_expected_stream_version, Ordering::Relaxed);
                                        return Ok(());
                                    }
                                    Err(Error::ConcurrencyConflict { actual, .. }) => {
                                        conflicts.fetch_add(1, Ordering::Relaxed);
                                        positions[w].store(actual.unwrap_or(0), Ordering::Relaxed);
                                    }
                                    Err(e) => return Err(e.into()),
                                }
                            }
                        }
                    })
                    .await?
                };
                for (k, p) in known.iter_mut().zip(positions.iter()) {
                    *k = p.load(Ordering::Relaxed);
                }
                if round > 0 {
                    let (a, c) = (attempts.load(Ordering::Relaxed), conflicts.load(Ordering::Relaxed));
                    rates.push(100.0 * c as f64 / a.max(1) as f64);
                    rounds.push(r);
                }
            }
            let s = Summary::of(&rounds);
            rows.push(vec![
                writer_count.to_string(),
                if hot { "one hot stream".into() } else { "a stream each".into() },
                s.per_second.show(0),
                format!("{:.0}", s.p50_us.median),
                format!("{:.0}", s.p99_us.median),
                Spread::of(&rates).show(1),
            ]);
        }
    }
    server.drop(&[db]).await?;
    let text = format!(
        "## Writers at once on {label}\n\n\
         {appends} successful one-event appends per round through the host, shared among the writers; on the hot \
         stream a writer that loses the race retries at the position its conflict reports (latency includes the \
         retries). Median (min–max) of {rounds} rounds after a warm-up round.\n\n{}\n",
        table(&["writers", "streams", "appends/s", "p50 µs", "p99 µs", "conflicts % of attempts"], &rows),
        label = server.label,
        rounds = server.size.rounds(),
    );
    fragments.section(&format!("concurrency-{}", slug(&server.label)), &text)
}
