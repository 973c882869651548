//! `cargo xtask play`: build what the playground needs if it is missing or stale, then
//! serve the page and the HTTP API (`streamdoc serve`) on the embedded engine.
//!
//! 1. The wasm package (`wasm/pkg`, as `cargo xtask wasm` builds it), when it is older
//!    than any source it is built from.
//! 2. The page's copy of the package's browser build (`web/pkg/`, not committed).
//! 3. `cargo run -p streamdoc-host --bin streamdoc -- serve --web-dir web [extra...]`:
//!    the debug build (the one `cargo xtask test` also builds, so usually no wait).
//!
//! Extra arguments go to `streamdoc serve`: `cargo xtask play -- --mongodb-uri URI`.

use std::fs;
use std::path::Path;
use std::time::SystemTime;

use crate::root;

/// What the wasm package is built from.
const WASM_SOURCES: &[&str] =
    &["core/src", "core/Cargo.toml", "wasm/src", "wasm/js", "wasm/npm", "wasm/Cargo.toml", "Cargo.lock"];
/// The built package's browser build, and the file whose age says when it was built.
const WASM_WEB_BUILD: &str = "wasm/pkg/web";
const WASM_STAMP: &str = "wasm/pkg/web/streamdoc_bg.wasm";
/// Where the page loads the package from.
const PAGE_PKG: &str = "web/pkg";

pub(crate) fn run(extra: &[String]) -> Result<(), String> {
    let root = root();
    let extra: Vec<&str> = extra.iter().map(String::as_str).skip_while(|a| *a == "--").collect();
    if !root.join("web/index.html").exists() {
        return Err("web/index.html is missing: the playground page is part of the repository".into());
    }

    let stamp = modified(&root.join(WASM_STAMP));
    let newest_source = WASM_SOURCES.iter().filter_map(|p| newest(&root.join(p))).max();
    match (stamp, newest_source) {
        (Some(built), Some(source)) if built >= source => eprintln!("xtask: the wasm package is up to date"),
        (None, _) => {
            eprintln!("xtask: building the wasm package (missing)");
            crate::wasm::build()?;
        }
        _ => {
            eprintln!("xtask: rebuilding the wasm package (its sources changed)");
            crate::wasm::build()?;
        }
    }

    let page_pkg = root.join(PAGE_PKG);
    let copied = modified(&page_pkg.join("streamdoc_bg.wasm"));
    if copied.is_none() || copied < modified(&root.join(WASM_STAMP)) {
        eprintln!("xtask: copying {WASM_WEB_BUILD}/ to {PAGE_PKG}/");
        let _ = fs::remove_dir_all(&page_pkg);
        crate::wasm::copy_dir(&root.join(WASM_WEB_BUILD), &page_pkg)?;
    }

    let mut args = vec!["run", "--package", "streamdoc-host", "--bin", "streamdoc", "--", "serve", "--web-dir", "web"];
    args.extend(extra);
    eprintln!("xtask: starting `streamdoc serve` (Ctrl-C stops it); it prints its URL once listening");
    crate::cargo(&args)
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
