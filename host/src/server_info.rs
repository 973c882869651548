//! What a server says it is (`buildInfo`), and what that means for streamdoc.

use std::fmt;

use bson::{Bson, Document};

/// The server a [`crate::MongoExecutor`] is connected to, from its `buildInfo` reply.
///
/// FerretDB answers `buildInfo` with a MongoDB-like `version` plus its own
/// `ferretdbVersion`; that field is how it is recognised. mongo-java-server, as the test
/// run starts it (`tests/servers/MongoJavaServer.java`), adds `mongoJavaServer`.
///
/// ```
/// use bson::doc;
/// use streamdoc_host::ServerInfo;
///
/// let mongo = ServerInfo::from_build_info(&doc! { "version": "8.0.4", "ok": 1.0 });
/// assert!(!mongo.is_ferretdb());
/// assert!(mongo.concurrency_warning().is_none());
///
/// let ferret = ServerInfo::from_build_info(&doc! { "version": "7.0.42", "ferretdbVersion": "v1.24.2", "ok": 1.0 });
/// assert_eq!(ferret.ferretdb_version(), Some("v1.24.2"));
/// assert!(ferret.concurrency_warning().unwrap().contains("not guaranteed"));
/// assert_eq!(ferret.to_string(), "FerretDB v1.24.2 (reports MongoDB 7.0.42)");
///
/// let java = ServerInfo::from_build_info(&doc! { "version": "7.0.0", "mongoJavaServer": "1.47.0", "ok": 1.0 });
/// assert_eq!(java.mongo_java_server_version(), Some("1.47.0"));
/// assert!(java.concurrency_warning().is_none());
/// assert_eq!(java.to_string(), "mongo-java-server 1.47.0 (reports MongoDB 7.0.0)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    version: String,
    ferretdb_version: Option<String>,
    mongo_java_server_version: Option<String>,
}

impl ServerInfo {
    /// Reads a `buildInfo` reply. Missing fields read as `"unknown"`.
    pub fn from_build_info(reply: &Document) -> Self {
        let text = |key: &str| match reply.get(key) {
            Some(Bson::String(s)) => Some(s.clone()),
            _ => None,
        };
        Self {
            version: text("version").unwrap_or_else(|| "unknown".into()),
            ferretdb_version: text("ferretdbVersion"),
            mongo_java_server_version: text("mongoJavaServer"),
        }
    }

    /// The MongoDB version the server reports (FerretDB reports the one it emulates).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// FerretDB's own version, when the server is FerretDB.
    pub fn ferretdb_version(&self) -> Option<&str> {
        self.ferretdb_version.as_deref()
    }

    /// True when the server identifies itself as FerretDB.
    pub fn is_ferretdb(&self) -> bool {
        self.ferretdb_version.is_some()
    }

    /// mongo-java-server's version, when the server is mongo-java-server started by
    /// the test run's launcher.
    pub fn mongo_java_server_version(&self) -> Option<&str> {
        self.mongo_java_server_version.as_deref()
    }

    /// True when the server identifies itself as mongo-java-server.
    pub fn is_mongo_java_server(&self) -> bool {
        self.mongo_java_server_version.is_some()
    }

    /// Why optimistic concurrency is not guaranteed on this server, if it is not.
    ///
    /// streamdoc's conflict detection rests on MongoDB applying a conditional
    /// `updateOne` atomically. FerretDB (at least up to v1.24) reads the document,
    /// changes it in Go and writes it back by `_id` with no compare-and-swap, so two
    /// appends at the same expected position can both succeed and one of them is lost.
    /// Racing stream *creations* are still caught by the unique index.
    pub fn concurrency_warning(&self) -> Option<String> {
        let ferretdb = self.ferretdb_version.as_deref()?;
        Some(format!(
            "optimistic concurrency is not guaranteed on FerretDB {ferretdb}: its conditional updates are not atomic, \
             so two appends racing at the same expected position can both be acknowledged and one of them lost \
             (racing stream creations are still caught by the unique index); use MongoDB when writers can race"
        ))
    }
}

impl fmt::Display for ServerInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.ferretdb_version, &self.mongo_java_server_version) {
            (Some(v), _) => write!(f, "FerretDB {v} (reports MongoDB {})", self.version),
            (None, Some(v)) => write!(f, "mongo-java-server {v} (reports MongoDB {})", self.version),
            (None, None) => write!(f, "MongoDB {}", self.version),
        }
    }
}
