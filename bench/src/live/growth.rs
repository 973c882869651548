//! One stream growing from 1 to 50,000 events: the latency of a one-event append at
//! each length, and the document's bytes per event. The report plots every server's
//! curve ([`crate::plot`]) and names the length where an append costs twice the
//! empty stream's.

use std::time::Instant;

use streamdoc_core::ExpectedVersion;

use super::{event, Server};
use crate::report::{slug, table, Fragments};
use crate::stats::{percentile, Spread};
use crate::BenchError;

/// Events per append while the stream grows between two measured lengths.
const BATCH: usize = 1_000;

/// One measured length.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Point {
    /// Events in the stream when the appends were timed.
    pub events: u64,
    /// The one-event appends' latency, µs: median and range.
    pub append_us: Spread,
    /// The stream document's size in bytes.
    pub document_bytes: u64,
}

/// A server's curve, as the report reads it back.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Curve {
    /// The server.
    pub server: String,
    /// The measured lengths, in order.
    pub points: Vec<Point>,
}

impl Curve {
    /// The first length whose append costs at least twice the first point's, linearly
    /// interpolated between the two measured lengths around it; `None` when none does.
    pub fn doubling(&self) -> Option<u64> {
        let base = self.points.first()?.append_us.median;
        let w = self.points.windows(2).find(|w| w[1].append_us.median >= 2.0 * base)?;
        let (a, b) = (&w[0], &w[1]);
        let t = (2.0 * base - a.append_us.median) / (b.append_us.median - a.append_us.median).max(1e-9);
        Some(a.events + ((b.events - a.events) as f64 * t.clamp(0.0, 1.0)) as u64)
    }
}

/// Measures and writes the section `growth-<server>` and its curve `growth-<server>.json`.
pub async fn run(server: &Server, fragments: &Fragments) -> Result<(), BenchError> {
    let db = "bench_growth";
    let store = server.store(db).await?;
    let name = "counter:growing";
    let lengths: Vec<u64> = server
        .size
        .pick(vec![1, 50, 200], vec![1, 100, 1_000, 2_500, 5_000, 10_000, 15_000, 20_000, 30_000, 40_000, 50_000]);
    let samples = server.size.pick(3, 25);
    let mut position = 0u64;
    let mut points = Vec::new();
    for &length in &lengths {
        while position + 1 < length {
            let n = (BATCH as u64).min(length - 1 - position) as usize;
            let expected = if position == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(position) };
            let r = store.append_to_stream(name, (0..n).map(event).collect(), expected).await?;
            position = r.next_expected_stream_version;
        }
        let mut latencies = Vec::new();
        for i in 0..samples {
            let expected = if position == 0 { ExpectedVersion::NoStream } else { ExpectedVersion::Exact(position) };
            let t = Instant::now();
            let r = store.append_to_stream(name, vec![event(i)], expected).await?;
            latencies.push(t.elapsed());
            position = r.next_expected_stream_version;
        }
        let us: Vec<f64> = latencies.iter().map(|d| d.as_secs_f64() * 1e6).collect();
        let document =
            store.stream_document(name).await?.ok_or_else(|| BenchError::Report(format!("{name} has no document")))?;
        let document_bytes = document.to_vec().map_err(|e| BenchError::Report(e.to_string()))?.len() as u64;
        let point = Point { events: length, append_us: Spread::of(&us), document_bytes };
        println!(
            "growth on {}: {} events, append p50 {:.0} µs (p99 {:.0} µs), {} bytes",
            server.label,
            length,
            point.append_us.median,
            percentile(&latencies, 99.0).as_secs_f64() * 1e6,
            document_bytes
        );
        points.push(point);
    }
    server.drop(&[db]).await?;
    let curve = Curve { server: server.label.clone(), points };
    let rows: Vec<Vec<String>> = curve
        .points
        .iter()
        .map(|p| {
            vec![
                p.events.to_string(),
                p.append_us.show(0),
                format!("{:.2}", p.append_us.median / curve.points[0].append_us.median),
                format!("{:.1}", p.document_bytes as f64 / 1_048_576.0),
                format!("{:.0}", p.document_bytes as f64 / p.events.max(1) as f64),
            ]
        })
        .collect();
    let doubling = match curve.doubling() {
        Some(n) => format!("an append costs twice the empty stream's at about **{n} events**"),
        None => format!(
            "no length up to {} events made an append cost twice the empty stream's",
            lengths[lengths.len() - 1]
        ),
    };
    let text = format!(
        "### {label}\n\n{samples} one-event appends timed at each length (median and range, µs); the stream grows \
         between lengths in appends of {BATCH} events. On this server {doubling}.\n\n{}\n",
        table(&["events", "append µs", "× the first", "document MiB", "bytes per event"], &rows),
        label = server.label,
    );
    let key = format!("growth-{}", slug(&server.label));
    let path = fragments.dir().join(format!("{key}.json"));
    let json = serde_json::to_string_pretty(&curve).map_err(|e| BenchError::Report(e.to_string()))?;
    std::fs::write(&path, json).map_err(|e| BenchError::Report(format!("{}: {e}", path.display())))?;
    fragments.section(&key, &text)
}
