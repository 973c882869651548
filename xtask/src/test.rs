//! `cargo xtask test`: every check and suite, in the order that fails fastest.

use std::process::Command;

use crate::cargo;

pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    if !extra.is_empty() {
        return Err(format!("`cargo xtask test` takes no arguments (got {extra:?})"));
    }
    // Formatting and lints, natively and for the wasm target (core must build there).
    cargo(&["fmt", "--all", "--", "--check"])?;
    cargo(&["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"])?;
    crate::wasm::ensure_target()?;
    cargo(&[
        "clippy",
        "--package",
        "streamdoc-core",
        "--package",
        "streamdoc-wasm",
        "--target",
        "wasm32-unknown-unknown",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    // The API docs as a reader gets them: a broken or private intra-doc link fails.
    crate::run(
        Command::new(crate::cargo_bin())
            .args(["doc", "--workspace", "--no-deps", "--locked"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )?;
    // Every Rust suite: unit, property, corpus, doctests, and the sans-IO dependency check.
    // The live-server suites use MONGODB_URI, or a FerretDB started for them.
    // The npm package's suites (wasm-bindgen-test, Node, packaging) run with the same
    // server: its MongoDB adapter is tested against it.
    crate::ferretdb::with_server(|| {
        cargo(&["test", "--workspace", "--locked"])?;
        // The example service, run once on the same server (it checks what it prints).
        cargo(&["run", "--locked", "--package", "streamdoc-host", "--example", "service"])?;
        crate::wasm::test()?;
        // The playground: its checks, its bundle, and its browser tests on the package just
        // built (its side by side with the host also on the same server).
        crate::web::test()
    })?;
    // The second live server: every suite that talks to a server, again. (With
    // MONGODB_URI set, the caller's server replaced both and this is skipped.)
    crate::mongo_java::with_server(|| {
        cargo(&["test", "--locked", "--package", "streamdoc-tests", "--test", "live", "--test", "http"])?;
        crate::wasm::live_tests()?;
        crate::web::live_tests()
    })?;
    // The benchmark binary must keep running (one quick iteration; figures via `cargo xtask bench`).
    cargo(&["test", "--package", "streamdoc-core", "--bench", "appends", "--locked"])?;
    eprintln!("\nxtask: all checks and suites passed");
    Ok(())
}
