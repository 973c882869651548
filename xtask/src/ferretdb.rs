//! A live MongoDB-compatible server for the test run: FerretDB v1.24.2 on its SQLite
//! backend, built from the Go module proxy and cached, started on a free local port for
//! the duration of the suites, and stopped afterwards (also when they fail).
//!
//! When `MONGODB_URI` is already set, that server is used and nothing is started.
//!
//! Why not `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2`: the binary it
//! produces panics at startup ("Invalid build/version/version.txt file content"), because
//! FerretDB embeds its version from a file its own build task generates, and the module
//! archive does not contain it. So the module is downloaded with `go mod download`, that
//! one file is written as `bin/task gen-version` would, and `go build` builds
//! `./cmd/ferretdb` from the unchanged sources.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The FerretDB release the suites run against.
pub(crate) const VERSION: &str = "v1.24.2";
const MODULE: &str = "github.com/FerretDB/FerretDB";
pub(crate) const URI_VAR: &str = "MONGODB_URI";

/// Runs `suites` with `MONGODB_URI` naming a live server: the caller's, or a FerretDB
/// started (and stopped) for them.
pub(crate) fn with_server(suites: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    if let Some(uri) = std::env::var(URI_VAR).ok().filter(|u| !u.is_empty()) {
        eprintln!("\nxtask: the live-server suites use {URI_VAR}={uri}");
        return suites();
    }
    let binary = ensure_binary()?;
    let server = Server::start(&binary)?;
    eprintln!("\nxtask: FerretDB {VERSION} (SQLite) listening at {} for the live-server suites", server.uri);
    std::env::set_var(URI_VAR, &server.uri);
    let result = suites();
    std::env::remove_var(URI_VAR);
    if result.is_err() {
        server.show_log_tail();
    }
    drop(server);
    result
}

/// `$XDG_CACHE_HOME/streamdoc`, or `$HOME/.cache/streamdoc` (a temporary folder when
/// neither is set).
pub(crate) fn cache_root() -> PathBuf {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    match (var("XDG_CACHE_HOME"), var("HOME")) {
        (Some(cache), _) => cache.join("streamdoc"),
        (None, Some(home)) => home.join(".cache").join("streamdoc"),
        (None, None) => std::env::temp_dir().join("streamdoc-cache"),
    }
}

/// The cached binary, built first if it is missing or is not the expected version.
fn ensure_binary() -> Result<PathBuf, String> {
    let dir = cache_root().join(format!("ferretdb-{VERSION}"));
    let binary = dir.join("ferretdb");
    if reports_version(&binary) {
        eprintln!("\nxtask: using the cached FerretDB {VERSION} at {}", binary.display());
        return Ok(binary);
    }
    eprintln!("\nxtask: building FerretDB {VERSION} into {} (once; later runs reuse it)", dir.display());
    let started = Instant::now();
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let work = dir.join(format!("build-{}", std::process::id()));
    let built = build(&work, &dir.join("ferretdb.partial"));
    let _ = std::fs::remove_dir_all(&work);
    built?;
    std::fs::rename(dir.join("ferretdb.partial"), &binary).map_err(|e| format!("cannot install the binary: {e}"))?;
    eprintln!("xtask: built FerretDB {VERSION} in {:.0}s", started.elapsed().as_secs_f64());
    Ok(binary)
}

/// True when `binary` runs and says it is [`VERSION`].
fn reports_version(binary: &Path) -> bool {
    Command::new(binary).arg("--version").output().is_ok_and(|o| {
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains(&format!("version: {VERSION}"))
    })
}

fn build(work: &Path, output: &Path) -> Result<(), String> {
    let go = std::env::var("GO").unwrap_or_else(|_| "go".to_owned());
    if Command::new(&go).arg("version").output().is_err() {
        return Err(format!(
            "building FerretDB needs Go (`{go}` was not found): install Go 1.22 or later, \
             or set {URI_VAR} to a MongoDB to test against"
        ));
    }
    std::fs::create_dir_all(work).map_err(|e| format!("cannot create {}: {e}", work.display()))?;
    // Outside any module, so the download is not tied to a go.mod.
    let download = Command::new(&go)
        .args(["mod", "download", "-json", &format!("{MODULE}@{VERSION}")])
        .current_dir(work)
        .env("GO111MODULE", "on")
        .env("GOFLAGS", "-mod=mod")
        .output()
        .map_err(|e| format!("cannot run go mod download: {e}"))?;
    if !download.status.success() {
        return Err(format!(
            "go mod download {MODULE}@{VERSION} failed:\n{}{}",
            String::from_utf8_lossy(&download.stdout),
            String::from_utf8_lossy(&download.stderr)
        ));
    }
    let module_dir = json_string_field(&String::from_utf8_lossy(&download.stdout), "Dir")
        .ok_or("go mod download printed no module directory")?;
    let src = work.join("src");
    copy_tree(Path::new(&module_dir), &src)?;
    std::fs::write(src.join("build/version/version.txt"), format!("{VERSION}\n"))
        .map_err(|e| format!("cannot write version.txt: {e}"))?;
    eprintln!("\n==> go build ./cmd/ferretdb (in {})", src.display());
    let status = Command::new(&go)
        .args(["build", "-trimpath", "-buildvcs=false", "-o"])
        .arg(output)
        .arg("./cmd/ferretdb")
        .current_dir(&src)
        .env("CGO_ENABLED", "0")
        .env("GOFLAGS", "-mod=mod")
        .status()
        .map_err(|e| format!("cannot run go build: {e}"))?;
    if !status.success() {
        return Err(format!("go build of FerretDB {VERSION} failed with {status}"));
    }
    if !reports_version(output) {
        return Err(format!("the FerretDB built at {} does not report version {VERSION}", output.display()));
    }
    Ok(())
}

/// The string value of `"field": "..."` in `go mod download -json` output.
fn json_string_field(json: &str, field: &str) -> Option<String> {
    let key = format!("\"{field}\":");
    let rest = json[json.find(&key)? + key.len()..].trim_start().strip_prefix('"')?;
    let mut value = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
    None
}

/// Copies a directory tree, leaving the copies writable (the module cache is read-only).
fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("cannot create {}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("cannot read {}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        let kind = entry.file_type().map_err(|e| e.to_string())?;
        if kind.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else if kind.is_file() {
            std::fs::copy(entry.path(), &target).map_err(|e| format!("cannot copy {}: {e}", entry.path().display()))?;
            make_writable(&target)?;
        }
    }
    Ok(())
}

/// Adds the owner's write permission.
fn make_writable(path: &Path) -> Result<(), String> {
    let mut permissions = std::fs::metadata(path).map_err(|e| e.to_string())?.permissions();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        permissions.set_mode(permissions.mode() | 0o200);
    }
    #[cfg(not(unix))]
    #[allow(clippy::permissions_set_readonly_false)] // no group/other bits to widen there
    permissions.set_readonly(false);
    std::fs::set_permissions(path, permissions).map_err(|e| format!("cannot make {} writable: {e}", path.display()))
}

/// A running FerretDB; dropping it stops the process and removes its data.
struct Server {
    child: Child,
    dir: PathBuf,
    uri: String,
}

impl Server {
    fn start(binary: &Path) -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!("streamdoc-ferretdb-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let data = dir.join("data");
        std::fs::create_dir_all(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
        let port = free_port()?;
        let log = std::fs::File::create(dir.join("ferretdb.log")).map_err(|e| format!("cannot create the log: {e}"))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let child = Command::new(binary)
            .arg("--handler=sqlite")
            // The data is thrown away after the run, so SQLite need not sync each commit
            // (it halves the time of small writes); semantics are unchanged.
            .arg(format!("--sqlite-url=file:{}/?_pragma=synchronous(normal)", data.display()))
            .arg(format!("--listen-addr=127.0.0.1:{port}"))
            .arg(format!("--state-dir={}", dir.display()))
            .args(["--debug-addr=-", "--telemetry=disable", "--log-level=warn"])
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut server = Self { child, dir, uri: format!("mongodb://127.0.0.1:{port}/") };
        server.wait_until_listening(port)?;
        Ok(server)
    }

    fn wait_until_listening(&mut self, port: u16) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                self.show_log_tail();
                return Err(format!("FerretDB exited at startup with {status}"));
            }
            if TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.show_log_tail();
                return Err(format!("FerretDB did not accept connections on port {port} within 60 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn show_log_tail(&self) {
        crate::log_tail::show("FerretDB's log", &self.dir.join("ferretdb.log"));
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
        eprintln!("xtask: stopped FerretDB");
    }
}

/// A port nothing listens on right now.
fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("cannot find a free port: {e}"))?;
    listener.local_addr().map(|a| a.port()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_module_directory_is_read_from_go_mod_download_output() {
        let out = "{\n\t\"Path\": \"github.com/FerretDB/FerretDB\",\n\t\"Dir\": \"/root/go/pkg/mod/github.com/!ferret!d!b/!ferret!d!b@v1.24.2\"\n}";
        assert_eq!(
            json_string_field(out, "Dir").as_deref(),
            Some("/root/go/pkg/mod/github.com/!ferret!d!b/!ferret!d!b@v1.24.2")
        );
        assert_eq!(json_string_field(r#"{"Dir": "C:\\go\\mod"}"#, "Dir").as_deref(), Some("C:\\go\\mod"));
        assert_eq!(json_string_field(out, "Zip"), None);
    }
}
