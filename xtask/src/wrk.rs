//! `wrk`, the HTTP load generator of `cargo xtask bench`: Debian's package, installed
//! with `apt-get` when it is not on `PATH`.

use std::path::PathBuf;

/// The `wrk` on `PATH`, installing Debian's `wrk` package first when there is none.
pub(crate) fn ensure() -> Result<PathBuf, String> {
    if let Some(found) = on_path() {
        return Ok(found);
    }
    crate::apt::install(&["wrk"], "wrk, the HTTP load generator of `cargo xtask bench`")?;
    on_path().ok_or_else(|| "Debian's wrk is installed but no `wrk` is on PATH".into())
}

/// The first executable file named `wrk` in a directory of `PATH`.
fn on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|dir| dir.join("wrk")).find(|candidate| is_executable(candidate))
}

#[cfg(unix)]
fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &std::path::Path) -> bool {
    path.is_file()
}
