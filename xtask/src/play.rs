//! `cargo xtask play`: build what the playground needs if it is missing or stale, then
//! serve the page and the HTTP API (`streamdoc serve`) on the embedded engine.
//!
//! 1. The page (`cargo xtask web`): the wasm package when it is older than its sources,
//!    `npm ci` when needed, the checks and `vite build` into `web/dist`.
//! 2. `cargo run -p streamdoc-host --bin streamdoc -- serve --web-dir web/dist --command-endpoint [extra...]`
//!    (the endpoint lets the page run its races on the host's store, in scratch databases only):
//!    the debug build (the one `cargo xtask test` also builds, so usually no wait).
//!
//! Extra arguments go to `streamdoc serve`: `cargo xtask play -- --mongodb-uri URI`.

use crate::root;

pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    let extra: Vec<&str> = extra.iter().map(String::as_str).skip_while(|a| *a == "--").collect();
    if !root().join("web/index.html").exists() {
        return Err("web/index.html is missing: the playground page is part of the repository".into());
    }
    crate::web::build()?;
    let mut args = vec![
        "run",
        "--package",
        "streamdoc-host",
        "--bin",
        "streamdoc",
        "--",
        "serve",
        "--web-dir",
        "web/dist",
        "--command-endpoint",
    ];
    args.extend(extra);
    eprintln!("xtask: starting `streamdoc serve` (Ctrl-C stops it); it prints its URL once listening");
    crate::cargo(&args)
}
