//! `cargo xtask web`: the playground page (`web/`), a TypeScript + Preact app bundled by
//! Vite into `web/dist`, which `streamdoc serve --web-dir web/dist` serves.
//!
//! - `cargo xtask web [build]`: the wasm package (`wasm/pkg`, built by `cargo xtask wasm`
//!   when it is missing or older than its sources: the page depends on it as
//!   `"streamdoc": "file:../wasm/pkg"`), `npm ci` in `web/` when `node_modules` is missing
//!   or older than `package-lock.json`, then `tsc --noEmit`, `biome check` and
//!   `vite build`.
//! - `cargo xtask web test`: the build, then the page's browser tests (`web/test/*.test.mjs`,
//!   headless Chromium against `streamdoc serve`); what `cargo xtask test` runs for the page.
//! - `cargo xtask web screenshots`: the build, then `web/test/screenshots.mjs`, which saves
//!   the main views as `docs/playground*.png` (not part of the test command).

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Instant, SystemTime};

use crate::{cargo, root, run};

/// What the wasm package is built from.
const WASM_SOURCES: &[&str] =
    &["core/src", "core/Cargo.toml", "wasm/src", "wasm/js", "wasm/npm", "wasm/Cargo.toml", "Cargo.lock"];
/// The file of the built package whose age says when it was built.
const WASM_STAMP: &str = "wasm/pkg/web/streamdoc_bg.wasm";

pub(crate) fn run_command(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        None | Some("build") => build(),
        Some("test") => test(),
        Some("screenshots") => screenshots(),
        Some(other) => Err(format!("unknown `cargo xtask web` command {other:?}: use build, test or screenshots")),
    }
}

/// Builds the wasm package when it is missing or older than any of its sources.
pub(crate) fn ensure_package() -> Result<(), String> {
    let root = root();
    let stamp = modified(&root.join(WASM_STAMP));
    let newest_source = WASM_SOURCES.iter().filter_map(|p| newest(&root.join(p))).max();
    match (stamp, newest_source) {
        (Some(built), Some(source)) if built >= source => {
            eprintln!("xtask: the wasm package is up to date");
            Ok(())
        }
        (None, _) => {
            eprintln!("xtask: building the wasm package (missing)");
            crate::wasm::build().map(|_| ())
        }
        _ => {
            eprintln!("xtask: rebuilding the wasm package (its sources changed)");
            crate::wasm::build().map(|_| ())
        }
    }
}

/// The checks and the bundle: `web/dist`.
pub(crate) fn build() -> Result<(), String> {
    let started = Instant::now();
    ensure_package()?;
    npm_dependencies()?;
    npm_run("typecheck")?;
    npm_run("lint")?;
    npm_run("build")?;
    eprintln!("xtask: web/dist built and checked in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The build, then the browser tests (the server binary and Chromium first).
pub(crate) fn test() -> Result<(), String> {
    build()?;
    let started = Instant::now();
    let (server, chromium) = browser_test_tools()?;
    run(Command::new("node")
        .args(["--test", "--test-reporter=spec", "--test-concurrency=1"])
        .args(test_files()?)
        .env("STREAMDOC_BIN", &server)
        .env(crate::chromium::PATH_VAR, &chromium))?;
    eprintln!("xtask: the playground's browser tests passed in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The browser test that talks to the live server (`MONGODB_URI`): the side by side on
/// the host's store. After [`test()`], which built the page.
pub(crate) fn live_tests() -> Result<(), String> {
    let (server, chromium) = browser_test_tools()?;
    run(Command::new("node")
        .args(["--test", "--test-reporter=spec", "web/test/host.test.mjs"])
        .env("STREAMDOC_BIN", &server)
        .env(crate::chromium::PATH_VAR, &chromium))
}

/// The build, then the screenshots of the main views (docs/playground*.png).
fn screenshots() -> Result<(), String> {
    build()?;
    let (server, chromium) = browser_test_tools()?;
    run(Command::new("node")
        .arg("web/test/screenshots.mjs")
        .env("STREAMDOC_BIN", &server)
        .env(crate::chromium::PATH_VAR, &chromium))
}

/// `streamdoc serve` (the debug build) and the headless Chromium, as the tests run them.
fn browser_test_tools() -> Result<(std::path::PathBuf, std::path::PathBuf), String> {
    cargo(&["build", "--locked", "--package", "streamdoc-host", "--bin", "streamdoc"])?;
    let target = std::env::var_os("CARGO_TARGET_DIR").map(Into::into).unwrap_or_else(|| root().join("target"));
    let server = target.join(format!("debug/streamdoc{}", std::env::consts::EXE_SUFFIX));
    Ok((server, crate::chromium::ensure()?))
}

/// The browser tests, `web/test/*.test.mjs`, sorted.
fn test_files() -> Result<Vec<String>, String> {
    let dir = root().join("web/test");
    let mut files: Vec<String> = fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".test.mjs"))
        .map(|name| format!("web/test/{name}"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err("no web/test/*.test.mjs: the playground's tests are missing".into());
    }
    Ok(files)
}

/// `npm ci` in `web/` when `node_modules` is missing or older than the lockfile.
fn npm_dependencies() -> Result<(), String> {
    let dir = root().join("web");
    let stamp = modified(&dir.join("node_modules/.package-lock.json"));
    let lock = modified(&dir.join("package-lock.json"));
    if matches!((stamp, lock), (Some(s), Some(l)) if s >= l) {
        return Ok(());
    }
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--prefix", "web"]))
}

/// One of the scripts of `web/package.json`.
fn npm_run(script: &str) -> Result<(), String> {
    run(Command::new("npm").args(["run", "--silent", "--prefix", "web", script]))
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// The newest modification time of a file or of any file under a directory.
fn newest(path: &Path) -> Option<SystemTime> {
    let meta = fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    fs::read_dir(path).ok()?.filter_map(Result::ok).filter_map(|e| newest(&e.path())).max()
}
