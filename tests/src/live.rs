//! A live MongoDB-compatible server for the suites that need one.
//!
//! Suites find the server through `MONGODB_URI` (`cargo xtask test` starts FerretDB and
//! sets it; point it at a real MongoDB to run the same suites there). When it is unset,
//! [`connect`] fails the suite if the `CI` variable is set — in CI a missing server is an
//! error, never a silent skip — and otherwise prints why the suite is skipped.
//!
//! Every suite works in databases of its own ([`Live::scratch`]), dropped when done.

use std::collections::BTreeMap;
use std::future::IntoFuture;
use std::sync::atomic::{AtomicU64, Ordering};

use bson::Document;
use streamdoc_core::{Command, ExecutorError, Reply};
use streamdoc_host::mongodb::options::ClientOptions;
use streamdoc_host::{AsyncExecutor, MongoExecutor, ServerInfo};

use crate::runner::Target;

/// The variable naming the server.
pub const URI_VAR: &str = "MONGODB_URI";

/// Prints a line to the real standard error, past the test harness's output capture,
/// so that skips and the suites' figures show in every run (`eprintln!` output of a
/// passing test is swallowed).
#[macro_export]
macro_rules! report {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// A connection to the live server, with the runtime that drives it.
#[derive(Debug)]
pub struct Live {
    // Declared before the runtime: closed (in `Drop`) while the runtime still runs.
    executor: Option<MongoExecutor>,
    uri: String,
    runtime: tokio::runtime::Runtime,
}

/// Connects to the server named by `MONGODB_URI`; `None` (after saying why) when the
/// variable is unset outside CI.
///
/// # Panics
/// When the variable is unset and `CI` is set, or when the server cannot be reached.
pub fn connect(suite: &str) -> Option<Live> {
    connect_with(suite, |_| {})
}

/// As [`connect`], letting `configure` adjust the driver's options (e.g. to install a
/// command monitor).
pub fn connect_with(suite: &str, configure: impl FnOnce(&mut ClientOptions)) -> Option<Live> {
    let Some(uri) = std::env::var(URI_VAR).ok().filter(|u| !u.is_empty()) else {
        if std::env::var_os("CI").is_some() {
            panic!(
                "{suite}: {URI_VAR} is not set, and CI is: the live-server suites must run in CI. \
                 Run them through `cargo xtask test`, which starts FerretDB, or set {URI_VAR}."
            );
        }
        crate::report!(
            "{suite}: SKIPPED — {URI_VAR} is not set. `cargo xtask test` starts FerretDB and sets it; \
             or point it at a MongoDB, e.g. {URI_VAR}=mongodb://127.0.0.1:27017"
        );
        return None;
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{suite}: cannot start a tokio runtime: {e}"));
    let executor = runtime.block_on(async {
        let mut options =
            ClientOptions::parse(&uri).await.unwrap_or_else(|e| panic!("{suite}: {URI_VAR}={uri:?} is invalid: {e}"));
        configure(&mut options);
        MongoExecutor::connect_with_options(options)
            .await
            .unwrap_or_else(|e| panic!("{suite}: cannot use the server at {URI_VAR}={uri}: {e}"))
    });
    crate::report!("{suite}: running against {} at {uri}", executor.server());
    Some(Live { executor: Some(executor), uri, runtime })
}

static NEXT_DATABASE: AtomicU64 = AtomicU64::new(0);

impl Live {
    /// The connection string.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The executor (its client is owned by this connection).
    pub fn executor(&self) -> &MongoExecutor {
        self.executor.as_ref().unwrap_or_else(|| unreachable!("the executor lives until drop"))
    }

    /// What the server says it is.
    pub fn server(&self) -> &ServerInfo {
        self.executor().server()
    }

    /// The runtime the client lives on (multi-threaded: spawned tasks run in parallel).
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// Runs a future (or a driver action) to completion on the connection's runtime.
    pub fn block_on<F: IntoFuture>(&self, future: F) -> F::Output {
        self.runtime.block_on(future.into_future())
    }

    /// A fresh, unused database name as long as `like` (when `like` has at least 8
    /// bytes; longer otherwise), so that names derived from it (`{db}_{tenant}`) hit
    /// the same length limits. The database and its `_*` siblings are dropped before
    /// use and when the returned guard is dropped.
    pub fn scratch(&self, like: &str) -> Scratch<'_> {
        let n = NEXT_DATABASE.fetch_add(1, Ordering::Relaxed);
        // Process id and counter in hex, split by a `z`, left-padded with zeros.
        let unique = format!("{:x}z{n:x}", std::process::id());
        let width = like.len().max(8) - 1;
        let scratch = Scratch { live: self, database: format!("s{unique:0>width$}") };
        scratch.drop_all();
        scratch
    }

    /// Every document in `database` and in the databases named `{database}_*`, per
    /// `database.collection`.
    pub fn dump(&self, database: &str) -> Result<BTreeMap<String, Vec<Document>>, String> {
        let client = self.executor().client();
        self.block_on(async {
            let mut out = BTreeMap::new();
            for db in self.databases_of(database).await? {
                let handle = client.database(&db);
                for collection in handle.list_collection_names().await.map_err(|e| e.to_string())? {
                    let mut cursor = handle
                        // Raw, converted without serde (whose recursion on deep documents
                        // needs more stack than a test thread has in a debug build).
                        .collection::<bson::RawDocumentBuf>(&collection)
                        .find(Document::new())
                        .await
                        .map_err(|e| format!("listing {db}.{collection}: {e}"))?;
                    let mut docs = Vec::new();
                    while cursor.advance().await.map_err(|e| e.to_string())? {
                        docs.push(Document::try_from(cursor.current()).map_err(|e| e.to_string())?);
                    }
                    out.insert(format!("{db}.{collection}"), docs);
                }
            }
            Ok(out)
        })
    }

    async fn databases_of(&self, database: &str) -> Result<Vec<String>, String> {
        let prefix = format!("{database}_");
        let names = self.executor().client().list_database_names().await.map_err(|e| e.to_string())?;
        Ok(names.into_iter().filter(|n| n == database || n.starts_with(&prefix)).collect())
    }

    /// Drops `database` and every `{database}_*`.
    pub fn drop_databases(&self, database: &str) -> Result<(), String> {
        self.block_on(async {
            for db in self.databases_of(database).await? {
                self.executor().client().database(&db).drop().await.map_err(|e| format!("dropping {db}: {e}"))?;
            }
            Ok(())
        })
    }

    /// The server as a scenario [`Target`].
    pub fn target(&self) -> LiveTarget<'_> {
        LiveTarget { live: self }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(executor) = self.executor.take() {
            self.runtime.block_on(executor.close());
        }
    }
}

/// A database reserved for one test; it and its `_*` siblings are dropped with the guard.
#[derive(Debug)]
pub struct Scratch<'a> {
    live: &'a Live,
    database: String,
}

impl Scratch<'_> {
    /// The database name.
    pub fn name(&self) -> &str {
        &self.database
    }

    fn drop_all(&self) {
        if let Err(e) = self.live.drop_databases(&self.database) {
            crate::report!("warning: could not drop the scratch database {}: {e}", self.database);
        }
    }
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        self.drop_all();
    }
}

/// The live server as a scenario target: each command through [`MongoExecutor`].
#[derive(Debug)]
pub struct LiveTarget<'a> {
    live: &'a Live,
}

impl Target for LiveTarget<'_> {
    fn execute(&mut self, command: &Command) -> Result<Reply, ExecutorError> {
        self.live.block_on(self.live.executor().execute(command))
    }

    fn dump(&mut self, database: &str) -> Result<BTreeMap<String, Vec<Document>>, String> {
        self.live.dump(database)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn scratch_names_keep_the_length_of_the_name_they_replace() {
        let Some(live) = super::connect("scratch names") else { return };
        let a = live.scratch("streamdoc_test");
        let b = live.scratch("streamdoc_test");
        assert_eq!(a.name().len(), "streamdoc_test".len());
        assert_ne!(a.name(), b.name());
        assert!(a.name().chars().all(|c| c.is_ascii_alphanumeric()), "{}", a.name());
    }
}
