//! `streamdoc-bench`: the benchmarks of `cargo xtask bench` (see the crate docs).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use streamdoc_bench::live::{self, LiveArgs};
use streamdoc_bench::report::{self, Fragments};
use streamdoc_bench::{derived, BenchError};

#[derive(Debug, Parser)]
#[command(name = "streamdoc-bench", about = "streamdoc's benchmarks: each writes a section of docs/benchmarks.md")]
struct Cli {
    /// Where the sections and targets go.
    #[arg(long, env = "STREAMDOC_BENCH_DIR", default_value = "target/bench")]
    dir: PathBuf,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// On the server at MONGODB_URI: the host against the bare driver, reads, growth, concurrency.
    Live(LiveArgs),
    /// Assembles the report from the sections, and prints every target met or missed.
    Report {
        /// The report to write.
        #[arg(long, default_value = "docs/benchmarks.md")]
        out: PathBuf,
        /// The preamble: machine, servers, method (a markdown file).
        #[arg(long)]
        preamble: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = Fragments::new(&cli.dir).and_then(|fragments| match cli.command {
        Cmd::Live(args) => live::run(&args, &fragments),
        Cmd::Report { out, preamble } => assemble(&fragments, &out, preamble.as_deref()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("streamdoc-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// The order of the sections in the report; any other section follows, by name.
const ORDER: &[&str] = &["host", "node", "reads", "growth", "concurrency", "engine", "wasm", "http"];

fn assemble(
    fragments: &Fragments,
    out: &std::path::Path,
    preamble: Option<&std::path::Path>,
) -> Result<(), BenchError> {
    let svg_dir = out.parent().map(|p| p.join("bench")).unwrap_or_else(|| PathBuf::from("bench"));
    derived::growth(fragments, &svg_dir, "bench/growth.svg")?;
    let read = |p: &std::path::Path| {
        std::fs::read_to_string(p).map_err(|e| BenchError::Report(format!("{}: {e}", p.display())))
    };
    let mut sections: Vec<(usize, String, String)> = Vec::new();
    let entries = std::fs::read_dir(fragments.dir())
        .map_err(|e| BenchError::Report(format!("{}: {e}", fragments.dir().display())))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(name) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else { continue };
        if path.extension().is_some_and(|e| e == "md") {
            let rank =
                ORDER.iter().position(|o| name == *o || name.starts_with(&format!("{o}-"))).unwrap_or(ORDER.len());
            sections.push((rank, name, read(&path)?));
        }
    }
    sections.sort();
    let mut targets = fragments.targets()?;
    targets.extend(derived::versus_emmett(fragments)?);
    let mut doc = String::new();
    if let Some(p) = preamble {
        doc.push_str(&read(p)?);
        doc.push('\n');
    }
    doc.push_str("## Targets\n\n");
    let rows: Vec<Vec<String>> = targets
        .iter()
        .map(|t| {
            vec![
                t.target.clone(),
                t.server.clone().unwrap_or_else(|| "—".into()),
                t.measured.clone(),
                if t.met { "met".into() } else { "**missed**".into() },
            ]
        })
        .collect();
    doc.push_str(&report::table(&["target", "server", "measured", ""], &rows));
    for (_, _, text) in &sections {
        doc.push('\n');
        doc.push_str(text.trim_end());
        doc.push('\n');
    }
    std::fs::write(out, doc).map_err(|e| BenchError::Report(format!("{}: {e}", out.display())))?;
    println!("\nthe report: {}", out.display());
    for t in &targets {
        println!("{}", report::show(t));
    }
    Ok(())
}
