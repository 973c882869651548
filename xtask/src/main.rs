//! `cargo xtask <command>`: the build and test steps that need more than one cargo call.
//!
//! - `cargo xtask test`: every check and suite (what CI runs).
//! - `cargo xtask play`: build what the playground needs and serve it.
//! - `cargo xtask bench`: every benchmark on every server, and docs/benchmarks.md (`--tiny`: each once).
//! - `cargo xtask wasm`: the npm package (`wasm test`, `wasm bench`: its suites and figures).
//! - `cargo xtask web`: the playground page into `web/dist` (`web test`: its browser tests;
//!   `web screenshots`: docs/playground*.png).
//! - `cargo xtask chromium`: the headless browser of the package's browser test (installed
//!   when missing), printing its path.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Instant;

mod apt;
mod bench;
mod chromium;
mod ferretdb;
mod log_tail;
mod mongo_java;
mod play;
mod test;
mod wasm;
mod web;
mod wrk;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test::run(&args[1..]),
        Some("play") => play::run(&args[1..]),
        Some("bench") => bench::run_command(&args[1..]),
        Some("wasm") => wasm::run_command(&args[1..]),
        Some("web") => web::run_command(&args[1..]),
        Some("chromium") => chromium::run_command(&args[1..]),
        Some("live") => live(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <test | play | bench | wasm | web | chromium> [args]");
            eprintln!("  test   run every check and suite (what CI runs)");
            eprintln!("  play   build what is missing and serve the playground and API");
            eprintln!("  bench  every benchmark on every server; docs/benchmarks.md (`bench --tiny`: each once, tiny)");
            eprintln!(
                "  wasm   build the npm package into wasm/pkg (`wasm test`: its suites; `wasm bench`: its figures)"
            );
            eprintln!(
                "  web    build the playground into web/dist (`web test`: its browser tests; `web screenshots`: docs/)"
            );
            eprintln!("  chromium  install the browser test's headless Chromium if missing; print its path");
            eprintln!("  live   `live <ferretdb | mongo-java> <command...>`: run a command with MONGODB_URI naming a fresh server");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask live <ferretdb | mongo-java> <command...>`: starts the server (built or
/// resolved first if missing), runs the command with `MONGODB_URI` naming it, stops it.
fn live(args: &[String]) -> Result<(), String> {
    let (server, command) = match args {
        [server, program, rest @ ..] => (server.as_str(), (program, rest)),
        _ => return Err("usage: cargo xtask live <ferretdb | mongo-java> <command...>".into()),
    };
    if std::env::var_os(ferretdb::URI_VAR).is_some_and(|v| !v.is_empty()) {
        return Err(format!("{} is set already: run the command directly", ferretdb::URI_VAR));
    }
    let run = || {
        let status = std::process::Command::new(command.0)
            .args(command.1)
            .status()
            .map_err(|e| format!("cannot run {}: {e}", command.0))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("{} failed: {status}", command.0))
        }
    };
    match server {
        "ferretdb" => ferretdb::with_server(run),
        "mongo-java" => mongo_java::with_server(run),
        other => Err(format!("unknown server {other:?}: ferretdb or mongo-java")),
    }
}

/// The workspace root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("."))
}

/// The cargo that runs us (honours `$CARGO`).
pub(crate) fn cargo_bin() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

/// Runs cargo with `args` in the workspace root, echoing the command and its duration.
pub(crate) fn cargo(args: &[&str]) -> Result<(), String> {
    run(Command::new(cargo_bin()).args(args))
}

/// Runs a command in the workspace root, failing on a non-zero exit.
pub(crate) fn run(cmd: &mut Command) -> Result<(), String> {
    cmd.current_dir(root());
    let shown = format!(
        "{} {}",
        cmd.get_program().to_string_lossy(),
        cmd.get_args().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
    );
    eprintln!("\n==> {shown}");
    let started = Instant::now();
    let status = cmd.status().map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    eprintln!("<== {shown} ({:.1}s)", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed with {status}"))
    }
}
