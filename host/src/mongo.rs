//! `MongoExecutor`: core's commands on a live server through the official driver.
//!
//! Each [`Command`] becomes one driver call (a `find` reads its cursor to the end, every
//! batch; a `count` is the driver's `countDocuments`) and the driver's answer becomes a
//! [`Reply`]. This file holds translation only: which reply means a conflict, whether
//! to retry, and what an expected position implies are decided by core's operations.

use std::collections::BTreeMap;
use std::future::{Future, IntoFuture};
use std::time::Duration;

use bson::{doc, Document, RawDocumentBuf};
use mongodb::error::{ErrorKind, WriteFailure};
use mongodb::options::IndexOptions;
use mongodb::{Client, Collection, IndexModel};
use streamdoc_core::command::codes;
use streamdoc_core::{Command, ExecutorError, Namespace, Reply};

use crate::driver::AsyncExecutor;
use crate::server_info::ServerInfo;
use crate::ConnectError;

/// Runs core's commands on a MongoDB (or MongoDB-compatible) server.
///
/// Replies: write error or command error 11000 → [`Reply::DuplicateKey`]; any other
/// error the server answered → [`Reply::ServerError`] with its code and message. When no
/// answer was obtained (the server could not be selected, the connection dropped, the
/// [command timeout](MongoExecutor::with_command_timeout) elapsed) the result is an
/// [`ExecutorError`] whose `outcome_unknown` says whether a write may have been applied
/// (never for `findOne`, `find` and `count`, which write nothing).
///
/// Its [`ping`](AsyncExecutor::ping) sends `{ ping: 1 }` to the `admin` database and
/// waits at most [`MongoExecutor::PING_TIMEOUT`] (or the command timeout, when shorter).
///
/// Cloning is cheap and shares the client.
///
/// ```no_run
/// use bson::doc;
/// use streamdoc_core::{Command, Namespace, Reply};
/// use streamdoc_host::{AsyncExecutor, MongoExecutor};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let executor = MongoExecutor::connect("mongodb://127.0.0.1:27017").await?;
/// let find = Command::FindOne { ns: Namespace::new("app", "order"), filter: doc! { "streamName": "order:1" }, projection: None };
/// assert!(matches!(executor.execute(&find).await?, Reply::Found(_)));
/// executor.close().await;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct MongoExecutor {
    client: Client,
    owns_client: bool,
    server: ServerInfo,
    command_timeout: Option<Duration>,
}

impl MongoExecutor {
    /// The longest a [`ping`](AsyncExecutor::ping) waits for the server's answer.
    pub const PING_TIMEOUT: Duration = Duration::from_secs(5);

    /// Connects to `uri`, asks the server what it is (`buildInfo`), and logs a warning
    /// when it does not guarantee atomic conditional updates (FerretDB). The client is
    /// owned: [`MongoExecutor::close`] shuts it down.
    pub async fn connect(uri: &str) -> Result<Self, ConnectError> {
        let options = mongodb::options::ClientOptions::parse(uri)
            .await
            .map_err(|e| ConnectError::InvalidUri { message: e.to_string() })?;
        Self::connect_with_options(options).await
    }

    /// As [`MongoExecutor::connect`], with driver options (e.g. a command monitor).
    pub async fn connect_with_options(options: mongodb::options::ClientOptions) -> Result<Self, ConnectError> {
        let client = Client::with_options(options).map_err(|e| ConnectError::InvalidUri { message: e.to_string() })?;
        let mut executor = Self::with_client(client).await?;
        executor.owns_client = true;
        Ok(executor)
    }

    /// Uses an existing client, which stays the caller's: [`MongoExecutor::close`] leaves
    /// it open. Asks the server what it is, as [`MongoExecutor::connect`] does.
    pub async fn with_client(client: Client) -> Result<Self, ConnectError> {
        let reply = client
            .database("admin")
            .run_command(doc! { "buildInfo": 1 })
            .await
            .map_err(|e| ConnectError::Unreachable { message: e.to_string() })?;
        let server = ServerInfo::from_build_info(&reply);
        if let Some(warning) = server.concurrency_warning() {
            tracing::warn!(server = %server, "{warning}");
        }
        Ok(Self { client, owns_client: false, server, command_timeout: None })
    }

    /// Gives every command at most `timeout` to be answered; past it the command fails
    /// with an [`ExecutorError`] (outcome unknown for writes). Without it, a command
    /// waits as long as the driver does.
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = Some(timeout);
        self
    }

    /// What the server said it is when the executor connected.
    pub fn server(&self) -> &ServerInfo {
        &self.server
    }

    /// The driver's client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Shuts the client down if this executor created it; a client passed to
    /// [`MongoExecutor::with_client`] is left open. Clones of an executor share its
    /// client: close only when every clone is done.
    pub async fn close(self) {
        if self.owns_client {
            self.client.shutdown().await;
        }
    }

    /// Every document of `database`, per `"database.collection"` (sorted), each
    /// collection's sorted by `_id`; collections without documents, and the server's
    /// `system.*` collections, are left out.
    pub async fn database_documents(&self, database: &str) -> Result<BTreeMap<String, Vec<Document>>, ExecutorError> {
        let listed = self.bounded("listing the documents", false, async {
            let db = self.client.database(database);
            let mut out = BTreeMap::new();
            for name in db.list_collection_names().await? {
                if name.starts_with("system.") {
                    continue;
                }
                // Raw documents, converted without serde (see `send`).
                let collection = db.collection::<RawDocumentBuf>(&name);
                let mut cursor = collection.find(doc! {}).sort(doc! { "_id": 1 }).await?;
                let mut docs = Vec::new();
                while cursor.advance().await? {
                    docs.push(Document::try_from(cursor.current())?);
                }
                if !docs.is_empty() {
                    out.insert(format!("{database}.{name}"), docs);
                }
            }
            Ok::<_, mongodb::error::Error>(out)
        });
        listed.await?.map_err(|e| ExecutorError { message: format!("listing {database}: {e}"), outcome_unknown: false })
    }

    /// Drops `database` (`dropDatabase`; nothing to do when it does not exist).
    pub async fn drop_database(&self, database: &str) -> Result<(), ExecutorError> {
        let db = self.client.database(database);
        let dropped = self.bounded("dropDatabase", true, db.drop().into_future());
        dropped
            .await?
            .map_err(|e| ExecutorError { message: format!("dropping {database}: {e}"), outcome_unknown: true })
    }

    /// `future`, given at most the [command timeout](MongoExecutor::with_command_timeout)
    /// when there is one; past it an [`ExecutorError`] saying that `what` got no answer.
    async fn bounded<T>(
        &self,
        what: &str,
        outcome_unknown: bool,
        future: impl Future<Output = T>,
    ) -> Result<T, ExecutorError> {
        match self.command_timeout {
            None => Ok(future.await),
            Some(limit) => tokio::time::timeout(limit, future).await.map_err(|_| ExecutorError {
                message: format!("{what} got no answer within {limit:?}"),
                outcome_unknown,
            }),
        }
    }

    fn collection(&self, ns: &Namespace) -> Collection<Document> {
        self.client.database(&ns.db).collection(&ns.collection)
    }

    async fn send(&self, command: &Command) -> mongodb::error::Result<Reply> {
        Ok(match command {
            Command::CreateIndex { ns, keys, name, unique } => {
                let options = IndexOptions::builder().name(name.clone()).unique(*unique).build();
                let model = IndexModel::builder().keys(keys.clone()).options(options).build();
                self.collection(ns).create_index(model).await?;
                Reply::Acknowledged
            }
            Command::FindOne { ns, filter, projection } => {
                // Read as raw BSON and converted without serde: serde's document visitor
                // recurses with large frames, and a stream document holding an event
                // nested 100 levels deep would need over 2 MiB of stack in a debug build
                // (a tokio worker's default); the direct conversion needs under 1 MiB.
                let collection = self.client.database(&ns.db).collection::<RawDocumentBuf>(&ns.collection);
                let mut find = collection.find_one(filter.clone());
                if let Some(projection) = projection {
                    find = find.projection(projection.clone());
                }
                let found = find.await?.map(|raw| Document::try_from(raw.as_ref())).transpose()?;
                Reply::Found(found)
            }
            Command::Find { ns, filter, projection, sort, skip, limit } => {
                // Raw documents, converted without serde, as for `FindOne`; every batch
                // is collected (the cursor sends the getMores).
                let collection = self.client.database(&ns.db).collection::<RawDocumentBuf>(&ns.collection);
                let mut find = collection.find(filter.clone());
                if let Some(projection) = projection {
                    find = find.projection(projection.clone());
                }
                if let Some(sort) = sort {
                    find = find.sort(sort.clone());
                }
                if *skip > 0 {
                    find = find.skip(*skip);
                }
                if *limit > 0 {
                    // A positive limit: every matching document, over as many batches as
                    // it takes (a negative one would ask for a single batch).
                    find = find.limit(i64::try_from(*limit).unwrap_or(i64::MAX));
                }
                let mut cursor = find.await?;
                let mut docs = Vec::new();
                while cursor.advance().await? {
                    docs.push(Document::try_from(cursor.current())?);
                }
                Reply::FoundMany(docs)
            }
            Command::Count { ns, filter, skip, limit } => {
                let collection = self.collection(ns);
                let mut count = collection.count_documents(filter.clone());
                if *skip > 0 {
                    count = count.skip(*skip);
                }
                if *limit > 0 {
                    count = count.limit(*limit);
                }
                Reply::Counted(count.await?)
            }
            Command::UpdateOne { ns, filter, update, upsert } => {
                let r = self.collection(ns).update_one(filter.clone(), update.clone()).upsert(*upsert).await?;
                Reply::Updated { matched: r.matched_count, modified: r.modified_count, upserted_id: r.upserted_id }
            }
            Command::InsertOne { ns, document } => {
                Reply::Inserted { id: self.collection(ns).insert_one(document.clone()).await?.inserted_id }
            }
            Command::DeleteOne { ns, filter } => {
                Reply::Deleted { count: self.collection(ns).delete_one(filter.clone()).await?.deleted_count }
            }
        })
    }
}

impl AsyncExecutor for MongoExecutor {
    async fn execute(&self, command: &Command) -> Result<Reply, ExecutorError> {
        let result = self.bounded(command.kind(), is_write(command), self.send(command)).await?;
        result.or_else(|e| reply_for_error(&e, command))
    }

    async fn ping(&self) -> Result<(), ExecutorError> {
        let limit = self.command_timeout.map_or(Self::PING_TIMEOUT, |t| t.min(Self::PING_TIMEOUT));
        let admin = self.client.database("admin");
        let ping = admin.run_command(doc! { "ping": 1 });
        let no_answer = |message: String| ExecutorError { message, outcome_unknown: false };
        match tokio::time::timeout(limit, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(no_answer(format!("ping failed: {e}"))),
            Err(_) => Err(no_answer(format!("no answer to ping within {limit:?}"))),
        }
    }
}

/// True for the commands that change the database when they reach it.
fn is_write(command: &Command) -> bool {
    !matches!(command, Command::FindOne { .. } | Command::Find { .. } | Command::Count { .. })
}

/// A driver error as a server reply, or as an [`ExecutorError`] when the server did not
/// answer.
pub(crate) fn reply_for_error(error: &mongodb::error::Error, command: &Command) -> Result<Reply, ExecutorError> {
    let answered = |code: i32, message: &str| {
        Ok(if code == codes::DUPLICATE_KEY {
            Reply::DuplicateKey { message: message.to_owned() }
        } else {
            Reply::ServerError { code, message: message.to_owned() }
        })
    };
    let no_answer = |outcome_unknown: bool| {
        Err(ExecutorError { message: format!("{} failed: {error}", command.kind()), outcome_unknown })
    };
    if let Some(message) = error.server_response().and_then(codeless_failure) {
        return answered(codes::UNKNOWN_ERROR, &message);
    }
    match error.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(e)) => answered(e.code, &e.message),
        ErrorKind::Command(e) => answered(e.code, &e.message),
        // The primary applied the write but could not confirm its durability: it may
        // still be rolled back, so its outcome is unknown.
        ErrorKind::Write(WriteFailure::WriteConcernError(_)) => no_answer(true),
        // Failures before anything was sent: nothing can have been applied.
        ErrorKind::ServerSelection { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Authentication { .. }
        | ErrorKind::InvalidArgument { .. }
        | ErrorKind::InvalidTlsConfig { .. }
        | ErrorKind::BsonSerialization(_) => no_answer(false),
        // Dropped connections, unreadable replies and anything else: the command may
        // have reached the server.
        _ => no_answer(is_write(command)),
    }
}

/// The message of a reply `{ ok: 0, errmsg }` that has no `code`, which the driver
/// cannot read as a command error. MongoDB always sends a code; mongo-java-server does
/// not for some failures (tests/DEVIATIONS.md, `mongo-java-server-codeless-errors`).
fn codeless_failure(reply: &RawDocumentBuf) -> Option<String> {
    let reply = Document::try_from(reply.as_ref()).ok()?;
    let failed = match reply.get("ok")? {
        bson::Bson::Double(ok) => *ok == 0.0,
        bson::Bson::Int32(ok) => *ok == 0,
        bson::Bson::Int64(ok) => *ok == 0,
        _ => false,
    };
    if !failed || reply.contains_key("code") {
        return None;
    }
    let message = reply.get_str("errmsg").unwrap_or("(no errmsg)");
    Some(format!("the server answered ok: 0 with no error code: {message}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_without_a_code_is_an_unknown_error_the_server_answered() {
        let raw_of = |d: Document| RawDocumentBuf::from_bytes(d.to_vec().unwrap()).unwrap();
        let raw = raw_of(doc! { "$err": "x", "errmsg": "fromIndex(5) > toIndex(1)", "ok": 0.0 });
        assert_eq!(
            codeless_failure(&raw).as_deref(),
            Some("the server answered ok: 0 with no error code: fromIndex(5) > toIndex(1)")
        );
        let coded = raw_of(doc! { "errmsg": "x", "code": 2, "ok": 0.0 });
        assert_eq!(codeless_failure(&coded), None);
        let ok = raw_of(doc! { "ok": 1.0 });
        assert_eq!(codeless_failure(&ok), None);
    }

    fn update() -> Command {
        Command::UpdateOne {
            ns: Namespace::new("app", "order"),
            filter: doc! {},
            update: doc! { "$set": { "a": 1 } },
            upsert: true,
        }
    }

    fn find() -> Command {
        Command::FindOne { ns: Namespace::new("app", "order"), filter: doc! {}, projection: None }
    }

    #[test]
    fn a_dropped_connection_leaves_a_write_unknown_but_not_a_read() {
        let io = mongodb::error::Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        let write = reply_for_error(&io, &update()).unwrap_err();
        assert!(write.outcome_unknown, "{write}");
        assert!(write.message.starts_with("updateOne failed"), "{write}");
        assert!(!reply_for_error(&io, &find()).unwrap_err().outcome_unknown);
    }

    #[test]
    fn finds_and_counts_are_reads() {
        let ns = || Namespace::new("app", "order");
        let find = Command::Find { ns: ns(), filter: doc! {}, projection: None, sort: None, skip: 0, limit: 0 };
        let count = Command::Count { ns: ns(), filter: doc! {}, skip: 0, limit: 0 };
        let io = mongodb::error::Error::from(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        for command in [find, count] {
            assert!(!is_write(&command), "{command}");
            let lost = reply_for_error(&io, &command).unwrap_err();
            assert!(!lost.outcome_unknown, "{lost}");
            assert!(lost.message.starts_with(&format!("{} failed", command.kind())), "{lost}");
        }
    }

    #[test]
    fn a_timeout_is_an_unknown_outcome_for_writes() {
        let timeout = mongodb::error::Error::from(std::io::ErrorKind::TimedOut);
        assert!(reply_for_error(&timeout, &update()).unwrap_err().outcome_unknown);
    }

    fn write_error(code: i32, message: &str) -> mongodb::error::Error {
        let e: mongodb::error::WriteError =
            bson::deserialize_from_document(doc! { "code": code, "errmsg": message }).unwrap();
        mongodb::error::Error::from(ErrorKind::Write(WriteFailure::WriteError(e)))
    }

    #[test]
    fn server_answers_keep_their_code_and_11000_is_a_duplicate_key() {
        let dup = write_error(11000, "E11000 duplicate key error collection: app.order");
        assert_eq!(
            reply_for_error(&dup, &update()),
            Ok(Reply::DuplicateKey { message: "E11000 duplicate key error collection: app.order".into() })
        );
        let too_large = write_error(17419, "Resulting document after update is larger than 16777216");
        assert!(matches!(reply_for_error(&too_large, &update()), Ok(Reply::ServerError { code: 17419, .. })));
        let command: mongodb::error::CommandError =
            bson::deserialize_from_document(doc! { "code": 238, "codeName": "NotImplemented", "errmsg": "no $slice" })
                .unwrap();
        let not_implemented = mongodb::error::Error::from(ErrorKind::Command(command));
        assert_eq!(
            reply_for_error(&not_implemented, &find()),
            Ok(Reply::ServerError { code: 238, message: "no $slice".into() })
        );
    }
}

#[cfg(test)]
mod connect_tests {
    use super::*;

    #[test]
    fn nothing_listening_is_unreachable_not_a_hang() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let uri = format!("mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=100&connectTimeoutMS=100");
        let result = runtime.block_on(MongoExecutor::connect(&uri));
        assert!(matches!(result, Err(ConnectError::Unreachable { .. })), "{result:?}");
        let bad = runtime.block_on(MongoExecutor::connect("postgres://nope"));
        assert!(matches!(bad, Err(ConnectError::InvalidUri { .. })), "{bad:?}");
    }

    /// An executor whose server has gone away since it connected (nothing listens on its
    /// port any more).
    fn gone(server_selection: Duration, command_timeout: Option<Duration>) -> MongoExecutor {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut options = mongodb::options::ClientOptions::default();
        options.hosts = vec![mongodb::options::ServerAddress::Tcp { host: "127.0.0.1".into(), port: Some(port) }];
        options.server_selection_timeout = Some(server_selection);
        options.connect_timeout = Some(Duration::from_millis(100));
        let client = Client::with_options(options).unwrap();
        let server = ServerInfo::from_build_info(&doc! { "version": "8.0.4" });
        MongoExecutor { client, owns_client: true, server, command_timeout }
    }

    #[test]
    fn a_ping_to_a_server_that_went_away_fails_and_writes_nothing() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let executor = gone(Duration::from_millis(100), None);
            let failed = executor.ping().await.unwrap_err();
            assert!(failed.message.starts_with("ping failed: "), "{failed}");
            assert!(!failed.outcome_unknown, "{failed}");
            executor.close().await;
        });
    }

    #[test]
    fn a_ping_waits_no_longer_than_the_command_timeout() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            // The driver would look for the server for a minute; the ping gives up first.
            let executor = gone(Duration::from_secs(60), Some(Duration::from_millis(200)));
            let started = std::time::Instant::now();
            let failed = executor.ping().await.unwrap_err();
            assert_eq!(failed.message, "no answer to ping within 200ms");
            assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
            executor.close().await;
        });
    }
}
