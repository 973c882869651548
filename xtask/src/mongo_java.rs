//! The second live server of the test run: mongo-java-server 1.47.0 (in memory, atomic
//! per collection, with an oplog), started from `tests/servers/MongoJavaServer.java` by
//! Java's source launcher on a free local port, and stopped afterwards (also when the
//! suites fail). Its jars come from Maven Central through `tests/servers/pom.xml`; the
//! resolved classpath is cached in `~/.cache/streamdoc/mongo-java-server-1.47.0/`.
//! Java 17 and Maven are installed from Debian's packages when missing.
//!
//! When `MONGODB_URI` is set, the caller's server replaces both live servers and this one
//! is not started.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::ferretdb::{cache_root, URI_VAR};
use crate::root;

/// The mongo-java-server release (also in `pom.xml` and the launcher).
pub(crate) const VERSION: &str = "1.47.0";
/// The heap cap. The in-memory oplog keeps every write of the run, the corpus's 16 MiB
/// documents among them: under 256 MB the server runs out of heap and drops
/// connections mid-run; under 1 GB it stays near 400 MB resident.
const HEAP: &str = "-Xmx1g";
const DEPENDENCY_PLUGIN: &str = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath";

/// Runs `suites` with `MONGODB_URI` naming a mongo-java-server started for them; when
/// the caller set `MONGODB_URI`, says so and runs nothing (their server was tested).
pub(crate) fn with_server(suites: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    if let Some(uri) = std::env::var(URI_VAR).ok().filter(|u| !u.is_empty()) {
        eprintln!("\nxtask: {URI_VAR}={uri} replaces the test run's servers: mongo-java-server is not started");
        return Ok(());
    }
    let classpath = ensure_classpath()?;
    let server = Server::start(&classpath)?;
    eprintln!(
        "\nxtask: mongo-java-server {VERSION} (in memory) listening at {} for the live-server suites",
        server.uri
    );
    std::env::set_var(URI_VAR, &server.uri);
    let result = suites();
    std::env::remove_var(URI_VAR);
    if result.is_err() {
        server.show_log_tail();
    }
    drop(server);
    result
}

fn servers_dir() -> PathBuf {
    root().join("tests/servers")
}

/// Java and Maven, installed from Debian's packages when either is missing.
fn ensure_java_and_maven() -> Result<(), String> {
    let runs = |tool: &str| Command::new(tool).arg("-version").output().is_ok_and(|o| o.status.success());
    if runs("java") && runs("mvn") {
        return Ok(());
    }
    eprintln!("\nxtask: Java or Maven is missing; installing Debian's openjdk-17-jdk-headless and maven (once)");
    crate::apt::install(&["openjdk-17-jdk-headless", "maven"], "java or mvn")
}

/// The launcher's classpath, resolved by Maven once and cached; resolved again when a
/// jar it names is gone or `pom.xml` changed.
fn ensure_classpath() -> Result<String, String> {
    let dir = cache_root().join(format!("mongo-java-server-{VERSION}"));
    let cached = dir.join("classpath.txt");
    let pom = servers_dir().join("pom.xml");
    let pom_text = std::fs::read_to_string(&pom).map_err(|e| format!("cannot read {}: {e}", pom.display()))?;
    let stamp = dir.join("pom.xml");
    ensure_java_and_maven()?;
    if let (Ok(classpath), Ok(seen)) = (std::fs::read_to_string(&cached), std::fs::read_to_string(&stamp)) {
        if seen == pom_text && !classpath.is_empty() && classpath.split(':').all(|jar| Path::new(jar).is_file()) {
            return Ok(classpath);
        }
    }
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    eprintln!("\nxtask: resolving mongo-java-server {VERSION}'s jars with Maven (once; later runs reuse them)");
    let started = Instant::now();
    crate::run(
        Command::new("mvn")
            .args(["-q", "-B", "-f"])
            .arg(&pom)
            .arg(DEPENDENCY_PLUGIN)
            .arg(format!("-Dmdep.outputFile={}", cached.display())),
    )?;
    std::fs::write(&stamp, &pom_text).map_err(|e| format!("cannot write {}: {e}", stamp.display()))?;
    eprintln!("xtask: resolved in {:.0}s", started.elapsed().as_secs_f64());
    std::fs::read_to_string(&cached).map_err(|e| format!("Maven wrote no classpath at {}: {e}", cached.display()))
}

/// A running mongo-java-server; dropping it stops the process.
struct Server {
    child: Child,
    log: PathBuf,
    uri: String,
}

impl Server {
    fn start(classpath: &str) -> Result<Self, String> {
        let log = std::env::temp_dir().join(format!("streamdoc-mongo-java-server-{}.log", std::process::id()));
        let log_file = std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
        let mut child = Command::new("java")
            .arg(HEAP)
            .arg("-cp")
            .arg(classpath.trim())
            .arg(servers_dir().join("MongoJavaServer.java"))
            .arg("0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .map_err(|e| format!("cannot start java: {e}"))?;
        // The launcher prints its URI once it listens; Java's compile of the launcher
        // and the server's start take a few seconds.
        let stdout = child.stdout.take().ok_or("no stdout from the launcher")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(uri) = line.strip_prefix("listening on ") {
                    let _ = tx.send(uri.trim().to_owned());
                }
            }
        });
        let mut server = Self { child, log, uri: String::new() };
        match rx.recv_timeout(Duration::from_secs(120)) {
            Ok(uri) => server.uri = uri,
            Err(_) => {
                server.show_log_tail();
                let exited = server.child.try_wait().ok().flatten();
                return Err(match exited {
                    Some(status) => format!("mongo-java-server exited at startup with {status}"),
                    None => "mongo-java-server did not start listening within 120 s".to_owned(),
                });
            }
        }
        Ok(server)
    }

    fn show_log_tail(&self) {
        crate::log_tail::show("mongo-java-server's output", &self.log);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
        eprintln!("xtask: stopped mongo-java-server");
    }
}
