//! Headless Chromium for the package's browser test (`wasm/test/browser.test.mjs`).
//!
//! The browser is Debian's `chromium` package, installed with `apt-get` when it is
//! missing: Playwright's own browser downloads come from a host outside the package
//! registries, so `npx playwright install` is not an option. The test drives it with
//! `playwright-core` (which bundles no browser) through `executablePath`.
//!
//! `STREAMDOC_CHROMIUM=/path/to/chrome` names another Chromium build instead (then nothing
//! is installed): for machines without `apt-get`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Where Debian's package puts the browser (a wrapper script around the binary).
const DEBIAN_PATH: &str = "/usr/bin/chromium";
/// The variable naming another browser, and the one the browser test reads its path from.
pub(crate) const PATH_VAR: &str = "STREAMDOC_CHROMIUM";

/// `cargo xtask chromium`: installs the browser when it is missing and prints its path.
pub(crate) fn run_command(args: &[String]) -> Result<(), String> {
    if !args.is_empty() {
        return Err(format!("`cargo xtask chromium` takes no arguments (got {args:?})"));
    }
    println!("{}", ensure()?.display());
    Ok(())
}

/// The Chromium the browser test runs: `$STREAMDOC_CHROMIUM` when set, else
/// `/usr/bin/chromium`, installing Debian's `chromium` package first when it is missing.
pub(crate) fn ensure() -> Result<PathBuf, String> {
    if let Some(custom) = std::env::var_os(PATH_VAR).filter(|v| !v.is_empty()).map(PathBuf::from) {
        let shown = custom.display();
        let Some(v) = version(&custom) else {
            return Err(format!("{PATH_VAR}={shown} does not run (`{shown} --version` failed)"));
        };
        eprintln!("\nxtask: using {v} at {shown} ({PATH_VAR})");
        return Ok(custom);
    }
    let path = PathBuf::from(DEBIAN_PATH);
    if let Some(v) = version(&path) {
        eprintln!("\nxtask: using {v} at {DEBIAN_PATH}");
        return Ok(path);
    }
    install()?;
    match version(&path) {
        Some(v) => {
            eprintln!("xtask: installed {v} at {DEBIAN_PATH}");
            Ok(path)
        }
        None => Err(format!(
            "Debian's chromium package is installed but `{DEBIAN_PATH} --version` does not run; \
             try `{DEBIAN_PATH} --headless --no-sandbox --version` by hand to see why"
        )),
    }
}

/// What `chromium --version` prints (e.g. "Chromium 156.0.8078.108 built on Debian GNU/Linux 12 (bookworm)"),
/// or `None` when it is missing or does not run.
fn version(browser: &Path) -> Option<String> {
    let output = Command::new(browser).arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    (output.status.success() && !text.is_empty()).then_some(text)
}

/// Debian's `chromium` package.
fn install() -> Result<(), String> {
    eprintln!(
        "\nxtask: {DEBIAN_PATH} is missing; installing Debian's chromium package \
         (once: about 120 MB to download, 400 MB on disk)"
    );
    crate::apt::install(&["chromium"], DEBIAN_PATH)
        .map_err(|e| format!("{e}; the browser tests need Chromium: install it and set {PATH_VAR} to its executable"))
}
