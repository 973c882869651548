//! What the report derives from several sections at once: the growth chart of every
//! server with where the 16 MiB wall falls, and the host against Emmett (the host's
//! figure from the Rust run, Emmett's from the Node run on the same server).

use std::path::Path;

use crate::live::growth::Curve;
use crate::report::{table, Fragments, Target};
use crate::{plot, wall, BenchError};

/// The target: the host's appends/s at least this many times Emmett's.
const OVER_EMMETT: f64 = 1.5;

/// Writes section `growth` (the chart, the walls, the doubling lengths) when any server
/// measured growth; the chart goes to `<svg_dir>/growth.svg`, linked as `link`.
pub fn growth(fragments: &Fragments, svg_dir: &Path, link: &str) -> Result<(), BenchError> {
    let mut curves: Vec<Curve> = Vec::new();
    for (name, text) in read_json(fragments, "growth-")? {
        curves.push(serde_json::from_str(&text).map_err(|e| BenchError::Report(format!("{name}: {e}")))?);
    }
    if curves.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(svg_dir).map_err(|e| BenchError::Report(format!("{}: {e}", svg_dir.display())))?;
    plot::growth(&curves, &svg_dir.join("growth.svg"))?;
    let walls = [200, 2_048].map(wall::measure);
    let mut wall_rows = Vec::new();
    for w in walls {
        let w = w?;
        wall_rows.push(vec![
            format!("{} bytes", w.data_bytes),
            format!("{}", w.events),
            format!("{:.0}", w.bytes_per_event),
        ]);
    }
    let doubling: Vec<Vec<String>> = curves
        .iter()
        .map(|c| {
            vec![
                c.server.clone(),
                c.doubling()
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| format!("beyond {}", c.points.last().map(|p| p.events).unwrap_or(0))),
            ]
        })
        .collect();
    let text = format!(
        "## One document growing\n\n![append latency against stream length]({link})\n\n\
         A stream is one document, so every append rewrites more bytes on a server that stores documents whole. \
         Where an append costs twice the empty stream's:\n\n{}\n\
         Where the 16 MiB wall falls (measured on core's engine, which refuses what MongoDB refuses: the stream \
         filled until one more event does not fit; each event also stores its id, type, position, time and \
         metadata):\n\n{}\n\
         Before a stream nears either figure, close the books (`close_stream`) or store it in segments \
         (`StoreConfig::with_segments`): see the README's \"Past 16 MiB\".\n",
        table(&["server", "events at 2× the empty stream's append"], &doubling),
        table(&["event data", "events in one document", "document bytes per event"], &wall_rows),
    );
    fragments.section("growth", &text)
}

/// The host against Emmett, per server where both ran: targets derived, not recorded.
pub fn versus_emmett(fragments: &Fragments) -> Result<Vec<Target>, BenchError> {
    let mut targets = Vec::new();
    for (name, text) in read_json(fragments, "node-")? {
        let slug = name.trim_start_matches("node-").trim_end_matches(".json");
        let node: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| BenchError::Report(format!("{name}: {e}")))?;
        let host_path = fragments.dir().join(format!("host-{slug}.json"));
        let Ok(host_text) = std::fs::read_to_string(&host_path) else { continue };
        let host: serde_json::Value = serde_json::from_str(&host_text)
            .map_err(|e| BenchError::Report(format!("{}: {e}", host_path.display())))?;
        let (Some(emmett), Some(ours)) = (node["emmett_appends_per_s"].as_f64(), host["host_appends_per_s_1"].as_f64())
        else {
            continue;
        };
        let ratio = ours / emmett;
        targets.push(Target {
            section: "node".into(),
            server: node["server"].as_str().map(str::to_owned).or_else(|| Some(slug.to_owned())),
            target: format!("the host at least {OVER_EMMETT}× Emmett's appends/s at a known position (1 writer)"),
            measured: format!("{ratio:.2}× ({ours:.0} against {emmett:.0} appends/s)"),
            met: ratio >= OVER_EMMETT,
        });
    }
    Ok(targets)
}

/// The `.json` files of the fragments whose names start with `prefix`, by name.
fn read_json(fragments: &Fragments, prefix: &str) -> Result<Vec<(String, String)>, BenchError> {
    let mut found = Vec::new();
    let dir = std::fs::read_dir(fragments.dir())
        .map_err(|e| BenchError::Report(format!("{}: {e}", fragments.dir().display())))?;
    for entry in dir.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with(prefix) && name.ends_with(".json") {
            let text = std::fs::read_to_string(entry.path()).map_err(|e| BenchError::Report(format!("{name}: {e}")))?;
            found.push((name, text));
        }
    }
    found.sort();
    Ok(found)
}
