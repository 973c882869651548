//! Reads: streams of 10, 1,000 and 10,000 events, read whole and ranged (the last 10),
//! through the host and by the bare driver replaying the very commands the host sends.

use std::sync::Arc;

use streamdoc_core::{Command, ExpectedVersion, ReadRange, StoreConfig, StoreContext};
use streamdoc_host::{EventStore, MongoExecutor, RandomIds, SystemClock};

use super::{event, send_bare_expecting, writers, Recording, Server};
use crate::report::{slug, table, Fragments};
use crate::stats::{Spread, Summary};
use crate::BenchError;

/// Events per append while a stream is filled.
const BATCH: usize = 1_000;

/// Measures and writes the section `reads-<server>`.
pub async fn run(server: &Server, fragments: &Fragments) -> Result<(), BenchError> {
    let db = "bench_reads";
    let store = Arc::new(server.store(db).await?);
    let ctx = StoreContext::new(StoreConfig::new(db), SystemClock, RandomIds)?;
    let recording = EventStore::new(ctx, Recording::new(MongoExecutor::with_client(server.client.clone()).await?));
    let lengths: Vec<usize> = server.size.pick(vec![10, 100], vec![10, 1_000, 10_000]);
    let mut rows = Vec::new();
    for &length in &lengths {
        let name = format!("counter:{length}");
        let mut at = ExpectedVersion::NoStream;
        let mut written = 0;
        while written < length {
            let n = BATCH.min(length - written);
            let r = store.append_to_stream(&name, (written..written + n).map(event).collect(), at).await?;
            at = ExpectedVersion::Exact(r.next_expected_stream_version);
            written += n;
        }
        let reads = server.size.pick(5, (20_000 / length).clamp(10, 500));
        let last = length as u64;
        for (what, range) in [
            ("whole", ReadRange::all()),
            ("last 10", ReadRange { from: Some(last.saturating_sub(9).max(1)), to: None, max_count: None }),
        ] {
            recording.read_stream(&name, range).await?;
            let commands: Vec<(Command, bool)> = recording.executor().take();
            let (mut host_rounds, mut bare_rounds, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
            for round in 0..=server.size.rounds() {
                let host = || {
                    let (store, name) = (store.clone(), name.clone());
                    writers::run(vec![vec![(); reads]], move |()| {
                        let (store, name) = (store.clone(), name.clone());
                        async move {
                            let r = store.read_stream(&name, range).await?;
                            if r.events.is_empty() {
                                return Err(BenchError::Report(format!("{name} read no events")));
                            }
                            Ok(())
                        }
                    })
                };
                let bare = || {
                    let (client, commands) = (server.client.clone(), commands.clone());
                    writers::run(vec![vec![(); reads]], move |()| {
                        let (client, commands) = (client.clone(), commands.clone());
                        async move {
                            for (c, refused) in &commands {
                                send_bare_expecting(&client, c, *refused).await?;
                            }
                            Ok(())
                        }
                    })
                };
                let (h, b) = if round % 2 == 0 {
                    let h = host().await?;
                    (h, bare().await?)
                } else {
                    let b = bare().await?;
                    (host().await?, b)
                };
                if round > 0 {
                    ratios.push(b.per_second() / h.per_second());
                    host_rounds.push(h);
                    bare_rounds.push(b);
                }
            }
            let (h, b, ratio) = (Summary::of(&host_rounds), Summary::of(&bare_rounds), Spread::of(&ratios));
            let kinds: Vec<&str> = commands.iter().map(|(c, _)| c.kind()).collect();
            rows.push(vec![
                length.to_string(),
                what.to_owned(),
                kinds.join(" + "),
                h.per_second.show(0),
                format!("{:.0}", h.p50_us.median),
                b.per_second.show(0),
                format!("{:.0}", b.p50_us.median),
                ratio.show(2),
            ]);
        }
    }
    server.drop(&[db]).await?;
    let text = format!(
        "## Reads on {label}\n\n\
         One stream per length, filled in appends of {BATCH} events; each round reads it repeatedly (one reader), \
         the host through `read_stream`, the bare driver sending the commands the host sends for the same read \
         (recorded on the server beforehand). Median (min–max) of {rounds} rounds after a warm-up round, alternating.\n\n{}\n",
        table(
            &["events", "read", "commands", "host reads/s", "host p50 µs", "bare reads/s", "bare p50 µs", "host time ÷ bare"],
            &rows
        ),
        label = server.label,
        rounds = server.size.rounds(),
    );
    fragments.section(&format!("reads-{}", slug(&server.label)), &text)
}
