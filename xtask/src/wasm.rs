//! `cargo xtask wasm`: the npm package `streamdoc`, and its tests and benchmarks.
//!
//! - `cargo xtask wasm [build]`: `cargo build --target wasm32-unknown-unknown` in the
//!   profile `wasm-release` (release with fat LTO), then the bindings through
//!   `wasm-bindgen-cli-support` (pinned to `wasm-bindgen`): one package in `wasm/pkg/` with
//!   a web build and a Node build behind conditional `exports`, and the gzipped size of
//!   the `.wasm`.
//! - `cargo xtask wasm test`: what `cargo xtask test` runs for the package: the
//!   `wasm-bindgen-test` suites under Node (installing `wasm-bindgen-cli` at the pinned
//!   version if its runner is missing), the Node suites against the built package
//!   (API, errors, panics, executors, simulator, inline projections, the whole corpus, the
//!   MongoDB adapter and the interoperability with emmett-mongodb on `MONGODB_URI`), the
//!   browser build in headless Chromium, and the packaging test
//!   (`npm pack` into fresh projects).
//! - `cargo xtask wasm bench`: the corpus replayed natively and through the package,
//!   and the package against Emmett's in-memory store, side by side.
//!
//! - `cargo xtask wasm tags [--check]`: writes (or checks) the tables of `js/append.js`
//!   generated from `wasm/src/encoded_append.rs`; `cargo xtask test` checks them too.
//!
//! `STREAMDOC_WASM_NAMES=1 cargo xtask wasm` keeps the function names in the `.wasm`
//! (the name section), so that `node --cpu-prof` profiles name Rust functions.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{cargo, root, run};

/// The `wasm-bindgen` version every wasm-bindgen crate is pinned to (Cargo.toml).
const WASM_BINDGEN_VERSION: &str = "0.2.130";
/// The package's name for the generated files (`streamdoc.js`, `streamdoc_bg.wasm`).
const OUT_NAME: &str = "streamdoc";
/// The cargo profile of the package build (workspace Cargo.toml: release with fat LTO).
const PROFILE: &str = "wasm-release";
/// The build targets: directory in the package, and the bindgen mode.
const TARGETS: [(&str, Mode); 2] = [("web", Mode::Web), ("node", Mode::Node)];

#[derive(Clone, Copy)]
enum Mode {
    Web,
    Node,
}

pub(crate) fn run_command(args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        None | Some("build") => build().map(|_| ()),
        Some("test") => test(),
        Some("bench") => bench(),
        Some("tags") => tags(args.get(1).map(String::as_str)),
        Some(other) => Err(format!("unknown `cargo xtask wasm` command {other:?}: use build, test, bench or tags")),
    }
}

/// Whether to keep the name section (`STREAMDOC_WASM_NAMES`), for profiling.
fn keep_names() -> bool {
    std::env::var_os("STREAMDOC_WASM_NAMES").is_some_and(|v| !v.is_empty() && v != "0")
}

pub(crate) fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

fn pkg_dir() -> PathBuf {
    root().join("wasm/pkg")
}

fn test_dir() -> PathBuf {
    root().join("wasm/test")
}

/// Builds the package into `wasm/pkg/`; returns the gzipped size of the `.wasm`.
/// Adds the wasm32 target when the toolchain lacks it. rustup installs the targets
/// `rust-toolchain.toml` lists with a toolchain it installs, but not into a toolchain
/// that was already there.
pub(crate) fn ensure_target() -> Result<(), String> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(crate::root())
        .output()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    if String::from_utf8_lossy(&installed.stdout).lines().any(|l| l.trim() == "wasm32-unknown-unknown") {
        return Ok(());
    }
    crate::run(Command::new("rustup").args(["target", "add", "wasm32-unknown-unknown"]))
}

pub(crate) fn build() -> Result<u64, String> {
    ensure_target()?;
    cargo(&[
        "build",
        "--package",
        "streamdoc-wasm",
        "--target",
        "wasm32-unknown-unknown",
        "--profile",
        PROFILE,
        "--locked",
    ])?;
    let started = Instant::now();
    let wasm = target_dir().join(format!("wasm32-unknown-unknown/{PROFILE}/streamdoc_wasm.wasm"));
    let pkg = pkg_dir();
    if pkg.exists() {
        fs::remove_dir_all(&pkg).map_err(|e| format!("cannot clear {}: {e}", pkg.display()))?;
    }
    let npm = root().join("wasm/npm");
    let runtime_types = fs::read_to_string(root().join("wasm/js/runtime.d.ts")).map_err(|e| e.to_string())?;
    let mut runtime_paths = Vec::new();
    for (dir, mode) in TARGETS {
        let out = pkg.join(dir);
        let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
        bindgen
            .input_path(&wasm)
            .out_name(OUT_NAME)
            .typescript(true)
            .remove_name_section(!keep_names())
            .remove_producers_section(true);
        match mode {
            Mode::Web => bindgen.web(true),
            Mode::Node => bindgen.nodejs_module(true),
        }
        .map_err(|e| e.to_string())?;
        bindgen.generate(&out).map_err(|e| format!("wasm-bindgen ({dir}): {e:#}"))?;
        // The runtime snippet's folder is named after a hash: find it, give it its types.
        let runtime = find_runtime(&out)?;
        fs::write(runtime.with_extension("d.ts"), &runtime_types).map_err(|e| e.to_string())?;
        let relative = runtime.strip_prefix(&out).map_err(|e| e.to_string())?.to_string_lossy().replace('\\', "/");
        // The entry point exports exactly what the declarations declare: the bindings'
        // classes (guarded) and functions, and the runtime's constants and error classes.
        let bindings = fs::read_to_string(out.join(format!("{OUT_NAME}.d.ts"))).map_err(|e| e.to_string())?;
        // (`initSync` is the web build's loader, which its entry point calls itself.)
        let classes = declared(&bindings, "class");
        let functions: Vec<String> = declared(&bindings, "function").into_iter().filter(|f| f != "initSync").collect();
        let runtime_names = [declared(&runtime_types, "const"), declared(&runtime_types, "class")].concat();
        let api = [classes.clone(), functions.clone()].concat().join(", ");
        let guarded = format!(
            "import * as raw from \"./{OUT_NAME}.js\";\n\
             import {{ guard }} from \"./{relative}\";\n\
             // Every call of the API turns a trap of the module into an InternalError.\n\
             export const {{ {api} }} = guard({{ {} }}, {{ {} }});\n\
             export {{ {} }} from \"./{relative}\";\n",
            classes.iter().map(|c| format!("{c}: raw.{c}")).collect::<Vec<_>>().join(", "),
            functions.iter().map(|f| format!("{f}: raw.{f}")).collect::<Vec<_>>().join(", "),
            runtime_names.join(", "),
        );
        let entry = match mode {
            Mode::Web => format!(
                "// The browser build: instantiates the module (top-level await), then exports the API.\n\
                 import init from \"./{OUT_NAME}.js\";\n\
                 await init({{ module_or_path: new URL(\"./{OUT_NAME}_bg.wasm\", import.meta.url) }});\n{guarded}"
            ),
            Mode::Node => format!(
                "// The Node build (synchronous instantiation, no top-level await, so `require` works too).\n{guarded}"
            ),
        };
        fs::write(out.join("index.js"), entry).map_err(|e| e.to_string())?;
        // The public types are `index.d.ts` (over the Node build's declarations); the raw
        // declarations of the wasm exports (and the web build's init types) are not published.
        let mut raw = vec![out.join(format!("{OUT_NAME}_bg.wasm.d.ts"))];
        if let Mode::Web = mode {
            raw.push(out.join(format!("{OUT_NAME}.d.ts")));
        }
        for file in raw {
            fs::remove_file(&file).map_err(|e| format!("cannot remove {}: {e}", file.display()))?;
        }
        runtime_paths.push((dir, relative));
    }
    let node_runtime = runtime_paths.iter().find(|(d, _)| *d == "node").map(|(_, r)| r.clone()).unwrap_or_default();
    fs::write(
        pkg.join("index.d.ts"),
        format!("export * from \"./node/{OUT_NAME}.js\";\nexport * from \"./node/{node_runtime}\";\n"),
    )
    .map_err(|e| e.to_string())?;
    let version = workspace_version()?;
    let manifest = fs::read_to_string(npm.join("package.json")).map_err(|e| e.to_string())?;
    fs::write(
        pkg.join("package.json"),
        manifest.replace("\"version\": \"0.0.0-workspace\"", &format!("\"version\": \"{version}\"")),
    )
    .map_err(|e| e.to_string())?;
    for file in ["README.md", "mongodb.js", "mongodb.d.ts"] {
        fs::copy(npm.join(file), pkg.join(file)).map_err(|e| format!("cannot copy wasm/npm/{file}: {e}"))?;
    }
    let wasm_out = pkg.join(format!("web/{OUT_NAME}_bg.wasm"));
    let raw = fs::metadata(&wasm_out).map_err(|e| e.to_string())?.len();
    let gzipped = gzipped_size(&wasm_out)?;
    eprintln!(
        "xtask: wasm/pkg built in {:.1}s; {OUT_NAME}_bg.wasm is {} KiB, {} KiB gzipped (target: at most 300 KB)",
        started.elapsed().as_secs_f64(),
        raw / 1024,
        gzipped / 1024
    );
    Ok(gzipped)
}

/// The names declared as `export class NAME`, `export function NAME`, ... (also with
/// `declare`) in TypeScript declarations, in order.
fn declared(declarations: &str, kind: &str) -> Vec<String> {
    declarations
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("export ")?;
            let rest = rest.strip_prefix("declare ").unwrap_or(rest);
            let name = rest.strip_prefix(kind)?.strip_prefix(' ')?;
            let end = name.find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$')).unwrap_or(name.len());
            Some(name[..end].to_owned())
        })
        .collect()
}

fn find_runtime(out: &Path) -> Result<PathBuf, String> {
    let snippets = out.join("snippets");
    let mut found = Vec::new();
    for entry in fs::read_dir(&snippets).map_err(|e| format!("{}: {e}", snippets.display()))? {
        let candidate = entry.map_err(|e| e.to_string())?.path().join("js/runtime.js");
        if candidate.exists() {
            found.push(candidate);
        }
    }
    match found.as_slice() {
        [one] => Ok(one.clone()),
        _ => Err(format!("expected one snippets/*/js/runtime.js in {}, found {found:?}", out.display())),
    }
}

fn workspace_version() -> Result<String, String> {
    let manifest = fs::read_to_string(root().join("Cargo.toml")).map_err(|e| e.to_string())?;
    let section = manifest.split("[workspace.package]").nth(1).ok_or("no [workspace.package] in Cargo.toml")?;
    section
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("version")
                .map(|v| v.trim_start_matches([' ', '=']).trim().trim_matches('"').to_owned())
        })
        .ok_or_else(|| "no version in [workspace.package]".to_owned())
}

fn gzipped_size(path: &Path) -> Result<u64, String> {
    let output =
        Command::new("gzip").arg("-9").arg("-c").arg(path).output().map_err(|e| format!("cannot run gzip: {e}"))?;
    if !output.status.success() {
        return Err(format!("gzip failed on {}", path.display()));
    }
    Ok(output.stdout.len() as u64)
}

/// The `wasm-bindgen-test-runner` at the pinned version, installed when missing.
fn test_runner() -> Result<String, String> {
    let candidates = [
        "wasm-bindgen-test-runner".to_owned(),
        cargo_home().join("bin/wasm-bindgen-test-runner").to_string_lossy().into_owned(),
    ];
    let matching = |runner: &str| {
        Command::new(runner)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(WASM_BINDGEN_VERSION))
            .is_some()
    };
    if let Some(found) = candidates.iter().find(|c| matching(c)) {
        return Ok(found.clone());
    }
    eprintln!("xtask: wasm-bindgen-test-runner {WASM_BINDGEN_VERSION} is missing; installing wasm-bindgen-cli (a few minutes, once)");
    // Without --locked: the CLI's lockfile names a dependency version the registry may not serve.
    cargo(&["install", "wasm-bindgen-cli", "--version", &format!("={WASM_BINDGEN_VERSION}")])?;
    candidates
        .iter()
        .find(|c| matching(c))
        .cloned()
        .ok_or_else(|| "wasm-bindgen-test-runner still missing after `cargo install wasm-bindgen-cli`".to_owned())
}

fn cargo_home() -> PathBuf {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .unwrap_or_else(|| PathBuf::from(".cargo"))
}

/// `npm ci` in `wasm/test` when its `node_modules` is missing or older than the lockfile.
pub(crate) fn npm_dependencies() -> Result<(), String> {
    let dir = test_dir();
    let stamp = dir.join("node_modules/.package-lock.json");
    let lock = dir.join("package-lock.json");
    let modified = |p: &Path| fs::metadata(p).and_then(|m| m.modified()).ok();
    if matches!((modified(&stamp), modified(&lock)), (Some(s), Some(l)) if s >= l) {
        return Ok(());
    }
    run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--prefix", "wasm/test"]))
}

/// Puts the built package in `wasm/test/node_modules/streamdoc` (a copy, not a link, so
/// that its `mongodb` import resolves from there): the suites import it by name, through
/// its `exports`.
pub(crate) fn install_package() -> Result<(), String> {
    let dest = test_dir().join("node_modules/streamdoc");
    if dest.exists() {
        fs::remove_dir_all(&dest).map_err(|e| format!("cannot clear {}: {e}", dest.display()))?;
    }
    copy_dir(&pkg_dir(), &dest)
}

/// Copies a directory tree.
pub(crate) fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    for entry in fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        let target = to.join(path.file_name().unwrap_or_default());
        if path.is_dir() {
            copy_dir(&path, &target)?;
        } else {
            fs::copy(&path, &target).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// `node` on scripts of `wasm/test` (commands run in the workspace root).
fn node(options: &[&str], scripts: &[&str]) -> Result<(), String> {
    run(Command::new("node").args(options).args(scripts.iter().map(|s| format!("wasm/test/{s}"))))
}

/// The wasm parts of `cargo xtask test`.
pub(crate) fn test() -> Result<(), String> {
    let started = Instant::now();
    // The wasm-bindgen-test suites are compiled for wasm32 only: lint them there.
    cargo(&[
        "clippy",
        "--package",
        "streamdoc-wasm",
        "--target",
        "wasm32-unknown-unknown",
        "--tests",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    let runner = test_runner()?;
    run(Command::new(crate::cargo_bin())
        // --release: optimized as the package is, without its fat LTO (profile `wasm-release`),
        // which would make every test binary link slowly.
        .args(["test", "--package", "streamdoc-wasm", "--target", "wasm32-unknown-unknown", "--release", "--locked"])
        .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER", &runner))?;
    build()?;
    npm_dependencies()?;
    install_package()?;
    let server = http_api_binary()?;
    run(Command::new("node")
        .args(["--test", "--test-reporter=spec"])
        .args(
            [
                "api.test.mjs",
                "archive.test.mjs",
                "boundary.test.mjs",
                "corpus.test.mjs",
                "sim.test.mjs",
                "designs.test.mjs",
                "emmett.test.mjs",
                "projections.test.mjs",
                "subscriptions.test.mjs",
                "mongodb.test.mjs",
                "emmett-mongodb.test.mjs",
                "http-parity.test.mjs",
                "panic-sync.test.mjs",
                "panic-async.test.mjs",
                "trap.test.mjs",
                "bench.test.mjs",
            ]
            .map(|s| format!("wasm/test/{s}")),
        )
        .env("STREAMDOC_BIN", &server))?;
    // The browser build in headless Chromium (Debian's package, installed when missing).
    let chromium = crate::chromium::ensure()?;
    run(Command::new("node")
        .args(["--test", "--test-reporter=spec", "wasm/test/browser.test.mjs"])
        .env(crate::chromium::PATH_VAR, &chromium))?;
    node(&[], &["packaging.mjs"])?;
    eprintln!("xtask: the wasm package's suites passed in {:.0}s", started.elapsed().as_secs_f64());
    Ok(())
}

/// The HTTP API's binary, for the suite comparing the package with it.
fn http_api_binary() -> Result<PathBuf, String> {
    cargo(&["build", "--locked", "--package", "streamdoc-host", "--bin", "streamdoc"])?;
    Ok(target_dir().join(format!("debug/streamdoc{}", std::env::consts::EXE_SUFFIX)))
}

/// The package's suites that talk to the live server (`MONGODB_URI`): its MongoDB
/// adapter, its interoperability with emmett-mongodb, its parity with the HTTP API
/// on that server, and subscriptions polling through the adapter. After [`test()`], which built
/// and installed what they use.
pub(crate) fn live_tests() -> Result<(), String> {
    let server = http_api_binary()?;
    run(Command::new("node")
        .args(["--test", "--test-reporter=spec"])
        .args(
            ["mongodb.test.mjs", "emmett-mongodb.test.mjs", "http-parity.test.mjs", "subscriptions.test.mjs"]
                .map(|s| format!("wasm/test/{s}")),
        )
        .env("STREAMDOC_BIN", &server))
}

/// Regenerates (or, with `--check`, checks) the tables of `js/append.js`: the test that
/// compares them with `wasm/src/encoded_append.rs` writes them when asked to.
fn tags(flag: Option<&str>) -> Result<(), String> {
    let mut cmd = Command::new(crate::cargo_bin());
    cmd.args(["test", "--locked", "--package", "streamdoc-wasm", "--lib", "the_javascript_tables_are_generated"]);
    match flag {
        None => {
            cmd.env("STREAMDOC_UPDATE_GENERATED", "1");
        }
        Some("--check") => {}
        Some(other) => return Err(format!("`cargo xtask wasm tags` takes only --check, not {other:?}")),
    }
    run(&mut cmd)
}

/// The side-by-side figures: corpus replay natively and through the package, and the
/// package against Emmett's in-memory store.
pub(crate) fn bench() -> Result<(), String> {
    let gzipped = build()?;
    npm_dependencies()?;
    install_package()?;
    cargo(&["build", "--release", "--locked", "--package", "streamdoc-tests", "--example", "corpus_timing"])?;
    let native = Command::new(target_dir().join("release/examples/corpus_timing"))
        .current_dir(root())
        .output()
        .map_err(|e| format!("cannot run corpus_timing: {e}"))?;
    if !native.status.success() {
        return Err(format!("corpus_timing failed: {}", String::from_utf8_lossy(&native.stderr)));
    }
    let native = String::from_utf8_lossy(&native.stdout).trim().to_owned();
    eprintln!("xtask: native corpus replay: {native}");
    run(Command::new("node")
        .arg("wasm/test/bench.mjs")
        .env("STREAMDOC_NATIVE_CORPUS", &native)
        .env("STREAMDOC_WASM_GZIP_BYTES", gzipped.to_string()))
}
