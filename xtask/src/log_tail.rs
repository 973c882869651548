//! The end of a live server's log, shown when the suites that used it fail.

use std::path::Path;

/// Prints the last 20 lines of `path`, introduced as `what` (nothing if it cannot be read).
pub(crate) fn show(what: &str, path: &Path) {
    let Ok(bytes) = std::fs::read(path) else { return };
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    eprintln!("xtask: the last lines of {what} ({}):", path.display());
    for line in &lines[lines.len().saturating_sub(20)..] {
        eprintln!("  {line}");
    }
}
