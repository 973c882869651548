//! `cargo xtask bench`: every benchmark on every server the test run knows (FerretDB and
//! mongo-java-server, or the caller's `MONGODB_URI`), the report `docs/benchmarks.md`
//! and its plots, and each target printed met or missed.
//!
//! `cargo xtask bench --tiny` runs each benchmark once, tiny, into `target/bench/` and
//! leaves `docs/` alone: the test command runs it so that no benchmark can rot.

use std::path::PathBuf;
use std::process::Command;

use crate::wasm::target_dir;
use crate::{cargo, ferretdb, mongo_java, root, run};

/// How big a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Size {
    Tiny,
    Full,
}

impl Size {
    fn name(self) -> &'static str {
        match self {
            Size::Tiny => "tiny",
            Size::Full => "full",
        }
    }
}

pub(crate) fn run_command(args: &[String]) -> Result<(), String> {
    match args {
        [] => all(Size::Full),
        [flag] if flag == "--tiny" => all(Size::Tiny),
        other => Err(format!("`cargo xtask bench` takes only --tiny (got {other:?})")),
    }
}

/// What the benchmarks run with: the binaries, the fragments' directory, the size.
struct Bench {
    size: Size,
    dir: PathBuf,
    bench: PathBuf,
    http: PathBuf,
    streamdoc: PathBuf,
    wrk: PathBuf,
}

impl Bench {
    /// A command with the fragments' directory and the size in its environment.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("STREAMDOC_BENCH_DIR", &self.dir).env("STREAMDOC_BENCH_SIZE", self.size.name());
        cmd
    }

    /// Every benchmark that needs a server, on the one at `MONGODB_URI`, named `label`.
    fn on_server(&self, label: &str) -> Result<(), String> {
        run(self.command(&self.bench).args(["live"]).env("STREAMDOC_BENCH_SERVER", label))?;
        run(self.command("node").arg("wasm/test/bench-live.mjs").env("STREAMDOC_BENCH_SERVER", label))?;
        run(self
            .command(&self.http)
            .arg("--streamdoc")
            .arg(&self.streamdoc)
            .arg("--wrk")
            .arg(&self.wrk)
            .env("STREAMDOC_BENCH_SERVER", label))
    }
}

pub(crate) fn all(size: Size) -> Result<(), String> {
    let profile = match size {
        Size::Tiny => "debug",
        Size::Full => "release",
    };
    let mut build = vec!["build", "--locked", "--package", "streamdoc-bench", "--package", "streamdoc-host", "--bins"];
    if size == Size::Full {
        build.push("--release");
    }
    cargo(&build)?;
    let bin = |name: &str| target_dir().join(profile).join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let dir = target_dir().join("bench");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| format!("cannot clear {}: {e}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let bench = Bench {
        size,
        dir: dir.clone(),
        bench: bin("streamdoc-bench"),
        http: bin("streamdoc-bench-http"),
        streamdoc: bin("streamdoc"),
        wrk: crate::wrk::ensure()?,
    };
    // The npm package, for the Node benchmarks.
    let gzipped = crate::wasm::build()?;
    crate::wasm::npm_dependencies()?;
    crate::wasm::install_package()?;

    // On the servers.
    if std::env::var(ferretdb::URI_VAR).ok().is_some_and(|u| !u.is_empty()) {
        bench.on_server("the server at MONGODB_URI")?;
    } else {
        ferretdb::with_server(|| bench.on_server(&format!("FerretDB {}", ferretdb::VERSION)))?;
        mongo_java::with_server(|| bench.on_server(&format!("mongo-java-server {}", mongo_java::VERSION)))?;
    }
    // In memory: the HTTP API on the engine, the engine against a map, the package.
    run(bench.command(&bench.http).arg("--streamdoc").arg(&bench.streamdoc).arg("--wrk").arg(&bench.wrk))?;
    let mut engine = bench.command(crate::cargo_bin());
    match size {
        Size::Full => engine.args(["bench", "--locked", "--package", "streamdoc-core", "--bench", "appends"]),
        Size::Tiny => engine.args(["test", "--locked", "--package", "streamdoc-core", "--bench", "appends"]),
    };
    run(&mut engine)?;
    run(bench.command("node").arg("wasm/test/bench.mjs").env("STREAMDOC_WASM_GZIP_BYTES", gzipped.to_string()))?;

    // The report.
    let preamble = dir.join("preamble.md");
    std::fs::write(&preamble, preamble_text(size)).map_err(|e| format!("cannot write {}: {e}", preamble.display()))?;
    let out = match size {
        Size::Full => root().join("docs/benchmarks.md"),
        Size::Tiny => dir.join("docs/benchmarks.md"),
    };
    if let Some(parent) = out.parent() {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    run(bench.command(&bench.bench).arg("report").arg("--out").arg(&out).arg("--preamble").arg(&preamble))?;
    eprintln!("\nxtask: the benchmarks' report is {}", out.display());
    Ok(())
}

/// The report's opening: what ran where, and how.
fn preamble_text(size: Size) -> String {
    let first_line = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".into())
    };
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines().find(|l| l.starts_with("model name")).map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| t.lines().next().and_then(|l| l.split_whitespace().nth(1)).and_then(|kb| kb.parse::<f64>().ok()))
        .map(|kb| format!("{:.0} GiB", kb / 1_048_576.0))
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| t.lines().find(|l| l.starts_with("PRETTY_NAME=")).map(|l| l[12..].trim_matches('"').to_owned()))
        .unwrap_or_else(|| std::env::consts::OS.into());
    let tiny =
        if size == Size::Tiny { "\n\n**A tiny run: these figures only show that every benchmark runs.**" } else { "" };
    format!(
        "# Benchmarks\n\n\
         Produced by `cargo xtask bench`, which provisions the servers and packages the way `cargo xtask test` does, \
         runs every benchmark below and writes this page and its plot.{tiny}\n\n\
         - Machine: {cpu}, {cores} cores, {memory}, {os}; every contender and the server share these cores.\n\
         - Servers: FerretDB {ferret} (SQLite backend) and mongo-java-server {mjs} (in memory), both on loopback; \
           `MONGODB_URI` replaces both when set.\n\
         - Toolchains: {rustc}; Node {node}.\n\
         - Method: contenders side by side in one run, alternating round by round after a warm-up round, ≥ 5 \
           measured rounds; medians with their range (min–max). Absolute times on these test servers mean little; \
           the ratios against the bare driver on the same server are the result.\n",
        ferret = ferretdb::VERSION,
        mjs = mongo_java::VERSION,
        rustc = first_line("rustc", &["--version"]),
        node = first_line("node", &["--version"]),
    )
}
