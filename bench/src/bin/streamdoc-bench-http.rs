//! `streamdoc-bench-http`: `POST /streams/{name}` and `GET /streams/{name}` under load
//! from a second process (wrk), on `streamdoc serve` — on the engine, or on the server
//! at MONGODB_URI — against the floor: the same routes on a bare axum handler that does
//! nothing (`streamdoc-bench-http floor`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use streamdoc_bench::report::{slug, table, Fragments, Target};
use streamdoc_bench::stats::{Size, Spread};
use streamdoc_bench::BenchError;

#[derive(Debug, Parser)]
#[command(name = "streamdoc-bench-http", about = "the HTTP API under load from wrk, against a bare axum floor")]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// The `streamdoc` binary (a release build).
    #[arg(long)]
    streamdoc: Option<PathBuf>,
    /// The `wrk` binary.
    #[arg(long, default_value = "wrk")]
    wrk: PathBuf,
    /// Where the section and the targets go.
    #[arg(long, env = "STREAMDOC_BENCH_DIR", default_value = "target/bench")]
    dir: PathBuf,
    /// The live server (without one, `serve` runs on the engine).
    #[arg(long, env = "MONGODB_URI")]
    uri: Option<String>,
    /// The live server's name in the report.
    #[arg(long, env = "STREAMDOC_BENCH_SERVER")]
    server: Option<String>,
    /// `tiny` (proves it runs) or `full` (the figures).
    #[arg(long, env = "STREAMDOC_BENCH_SIZE", value_enum, default_value = "full")]
    size: Size,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// The floor: the benchmark's routes answered at once, with nothing behind them.
    Floor {
        /// The address to listen on (port 0: any free port; printed).
        #[arg(long, default_value = "127.0.0.1:0")]
        bind: SocketAddr,
    },
}

/// wrk's threads and connections (a tiny run: 1 × 4, so that a debug build on a slow
/// server still answers within wrk's timeout).
fn load_shape(size: Size) -> (u32, u32) {
    size.pick((1, 4), (2, 100))
}
/// The events of the stream every GET reads.
const READ_EVENTS: usize = 10;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Some(Cmd::Floor { bind }) => floor(*bind),
        None => measure(&cli),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("streamdoc-bench-http: {e}");
            ExitCode::FAILURE
        }
    }
}

fn floor(bind: SocketAddr) -> Result<(), BenchError> {
    use axum::routing::{get, post};
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| fail(&e))?;
    runtime.block_on(async move {
        let app = axum::Router::new()
            .route("/streams/{name}", post(|| async { (axum::http::StatusCode::CREATED, "{}") }))
            .route("/streams/{name}", get(|| async { "{\"events\":[]}" }))
            .route("/health", get(|| async { "{}" }));
        let listener = tokio::net::TcpListener::bind(bind).await.map_err(|e| fail(&e))?;
        let address = listener.local_addr().map_err(|e| fail(&e))?;
        println!("streamdoc-bench-http: the floor on http://{address}/");
        axum::serve(listener, app).await.map_err(|e| fail(&e))
    })
}

fn fail(e: &dyn std::fmt::Display) -> BenchError {
    BenchError::Report(e.to_string())
}

/// A process serving HTTP, and its address.
struct Served {
    name: String,
    child: Child,
    address: SocketAddr,
}

impl Served {
    /// Starts `cmd` and reads its address from the first line it prints (`… http://ADDR/ …`).
    fn start(name: &str, mut cmd: Command) -> Result<Served, BenchError> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| BenchError::Report(format!("cannot start {name}: {e}")))?;
        let stdout = child.stdout.take().ok_or_else(|| BenchError::Report(format!("{name}: no stdout")))?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).map_err(|e| fail(&e))?;
        let address = line
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| BenchError::Report(format!("{name} printed no address: {line:?}")))?;
        Ok(Served { name: name.to_owned(), child, address })
    }

    /// The peak resident memory so far, MiB (Linux).
    fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let kb: f64 = status.lines().find(|l| l.starts_with("VmHWM:"))?.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb / 1024.0)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request on a fresh connection: the status code.
fn request(address: SocketAddr, method: &str, path: &str, body: &str) -> Result<u16, BenchError> {
    let mut s = TcpStream::connect(address).map_err(|e| fail(&e))?;
    s.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| fail(&e))?;
    let text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(text.as_bytes()).map_err(|e| fail(&e))?;
    let mut answer = String::new();
    s.read_to_string(&mut answer).map_err(|e| fail(&e))?;
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| BenchError::Report(format!("{method} {path}: no status in {answer:?}")))
}

/// What one wrk run measured.
#[derive(Debug, Clone, Default)]
struct Load {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// Non-2xx answers and socket errors.
    errors: u64,
}

/// `2.30ms` → 2.3, `850.00us` → 0.85, `1.20s` → 1200.
fn millis(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (text, 1.0)
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

fn parse_wrk(output: &str) -> Result<Load, BenchError> {
    let mut load = Load::default();
    for line in output.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", n] => load.per_second = n.parse().unwrap_or(0.0),
            ["50%", t] => load.p50_ms = millis(t).unwrap_or(f64::NAN),
            ["99%", t] => load.p99_ms = millis(t).unwrap_or(f64::NAN),
            ["Non-2xx", "or", "3xx", "responses:", n] => load.errors += n.parse::<u64>().unwrap_or(1),
            ["Socket", "errors:", rest @ ..] => {
                load.errors += rest.iter().filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok()).sum::<u64>()
            }
            _ => {}
        }
    }
    if load.per_second <= 0.0 {
        return Err(BenchError::Report(format!("wrk measured nothing:\n{output}")));
    }
    Ok(load)
}

/// wrk against `address` for `seconds`: GETs of the read stream, or POSTs of one-event
/// appends to fresh streams named after `prefix`, the thread and a counter.
fn wrk(
    wrk: &Path,
    address: SocketAddr,
    post: bool,
    prefix: &str,
    (seconds, threads, connections): (u64, u32, u32),
    dir: &Path,
) -> Result<Load, BenchError> {
    let script = dir.join(format!("wrk-{prefix}.lua"));
    let lua = if post {
        format!(
            "local threads = 0\n\
             function setup(thread) thread:set(\"tid\", threads); threads = threads + 1 end\n\
             local n = 0\n\
             function request()\n  n = n + 1\n  \
             return wrk.format(\"POST\", \"/streams/load:{prefix}-\" .. tid .. \"-\" .. n, \
             {{[\"Content-Type\"] = \"application/json\"}}, '{{\"events\":[{{\"type\":\"Loaded\",\"data\":{{\"n\":1}}}}]}}')\nend\n"
        )
    } else {
        "function request() return wrk.format(\"GET\", \"/streams/load:read\") end\n".to_owned()
    };
    std::fs::write(&script, lua).map_err(|e| fail(&e))?;
    let out = Command::new(wrk)
        .args([
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(&script)
        .arg(format!("http://{address}/"))
        .output()
        .map_err(|e| BenchError::Report(format!("cannot run {}: {e}", wrk.display())))?;
    parse_wrk(&String::from_utf8_lossy(&out.stdout))
}

fn measure(cli: &Cli) -> Result<(), BenchError> {
    let fragments = Fragments::new(&cli.dir)?;
    let streamdoc = cli.streamdoc.clone().ok_or_else(|| BenchError::Report("--streamdoc <binary> is needed".into()))?;
    let me = std::env::current_exe().map_err(|e| fail(&e))?;
    let mut floor_cmd = Command::new(&me);
    floor_cmd.arg("floor");
    let mut serve = Command::new(&streamdoc);
    serve.args(["serve", "--bind", "127.0.0.1:0", "--database", "bench_http"]).env("RUST_LOG", "warn");
    let (what, label) = match &cli.uri {
        Some(uri) => {
            serve.env("MONGODB_URI", uri);
            ("live", cli.server.clone().unwrap_or_else(|| "the live server".into()))
        }
        None => {
            serve.env_remove("MONGODB_URI");
            ("engine", "the engine".to_owned())
        }
    };
    let contenders =
        [Served::start("the floor", floor_cmd)?, Served::start(&format!("streamdoc serve on {label}"), serve)?];
    let deadline = Instant::now() + Duration::from_secs(30);
    for c in &contenders {
        while request(c.address, "GET", "/health", "").ok() != Some(200) {
            if Instant::now() > deadline {
                return Err(BenchError::Report(format!("{} does not answer /health", c.name)));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let events: Vec<String> =
        (0..READ_EVENTS).map(|i| format!("{{\"type\":\"Loaded\",\"data\":{{\"n\":{i}}}}}")).collect();
    let body = format!("{{\"events\":[{}]}}", events.join(","));
    let created = request(contenders[1].address, "POST", "/streams/load:read", &body)?;
    if created / 100 != 2 {
        return Err(BenchError::Report(format!("seeding the read stream answered {created}")));
    }
    let seconds = cli.size.pick(2, 5);
    let (threads, connections) = load_shape(cli.size);
    // results[contender][route] = the rounds' loads
    let mut results = vec![vec![Vec::<Load>::new(); 2]; 2];
    for round in 0..=cli.size.rounds() {
        let order: [usize; 2] = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for &c in &order {
            for (route, post) in [(0, false), (1, true)] {
                let prefix = format!("{what}-r{round}-c{c}");
                let load = wrk(
                    &cli.wrk,
                    contenders[c].address,
                    post,
                    &prefix,
                    (seconds, threads, connections),
                    fragments.dir(),
                )?;
                if round > 0 {
                    results[c][route].push(load);
                }
            }
        }
    }
    let rss = contenders[1].peak_rss_mib();
    let mut rows = Vec::new();
    let mut errors = 0;
    for (c, name) in [(0, "bare axum handler (the floor)".to_owned()), (1, format!("`streamdoc serve` on {label}"))] {
        for (route, path) in [(0, "GET /streams/{name} (10 events)"), (1, "POST /streams/{name} (one event)")] {
            let loads = &results[c][route];
            let spread = |f: &dyn Fn(&Load) -> f64| Spread::of(&loads.iter().map(f).collect::<Vec<_>>());
            let e: u64 = loads.iter().map(|l| l.errors).sum();
            if c == 1 {
                errors += e;
            }
            rows.push(vec![
                path.to_owned(),
                name.clone(),
                spread(&|l| l.per_second).show(0),
                format!("{:.2}", spread(&|l| l.p50_ms).median),
                format!("{:.2}", spread(&|l| l.p99_ms).median),
                e.to_string(),
                if c == 1 { rss.map(|m| format!("{m:.0}")).unwrap_or_else(|| "—".into()) } else { String::new() },
            ]);
        }
    }
    let key = if cli.uri.is_some() { format!("http-{}", slug(&label)) } else { "http-engine".to_owned() };
    fragments.target(Target {
        section: "http".into(),
        server: Some(label.clone()),
        target: format!("no error under load ({connections} connections): every answer 2xx, no socket error"),
        measured: format!("{errors} errors"),
        met: errors == 0,
    })?;
    let text = format!(
        "## HTTP on {label}: requests from a second process\n\n\
         wrk ({threads} threads × {connections} connections, {seconds} s per run) on the same cores as the server; \
         the reads fetch one stream of {READ_EVENTS} events, the appends add one event to a new stream each. Median \
         (min–max) of {rounds} rounds after a warm-up round, the floor and `serve` alternating; `serve` logs at \
         `warn`.\n\n{}\n",
        table(&["route", "server", "requests/s", "p50 ms", "p99 ms", "errors", "peak RSS MiB"], &rows),
        rounds = cli.size.rounds(),
    );
    fragments.section(&key, &text)
}
