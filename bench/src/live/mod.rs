//! The benchmarks on a live server (MONGODB_URI): the host against the bare driver
//! sending the identical commands ([`host`]), reads ([`reads`]), one document growing
//! ([`growth`]) and writers racing ([`concurrency`]).

use std::future::Future;
use std::sync::{Arc, Mutex};

use bson::doc;
use streamdoc_core::{Command, ExecutorError, NewEvent, Reply, StoreConfig};
use streamdoc_host::mongodb::Client;
use streamdoc_host::{AsyncExecutor, EventStore, MongoExecutor};

use crate::report::Fragments;
use crate::stats::Size;
use crate::BenchError;

pub mod concurrency;
pub mod growth;
pub mod host;
pub mod reads;
pub mod writers;

/// What `streamdoc-bench live` measures, and how much.
#[derive(Debug, clap::Args)]
pub struct LiveArgs {
    /// The server, e.g. `mongodb://127.0.0.1:27017`.
    #[arg(long, env = "MONGODB_URI")]
    pub uri: String,
    /// The server's name in the report (default: what it says of itself).
    #[arg(long, env = "STREAMDOC_BENCH_SERVER")]
    pub server: Option<String>,
    /// `tiny` (proves it runs) or `full` (the figures).
    #[arg(long, env = "STREAMDOC_BENCH_SIZE", value_enum, default_value = "full")]
    pub size: Size,
    /// Only these measures (host, reads, growth, concurrency); all by default.
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
}

/// One server under measure: its client, its label, the run's size.
#[derive(Debug, Clone)]
pub struct Server {
    /// The driver's client (shared by every contender).
    pub client: Client,
    /// Its name in the report.
    pub label: String,
    /// How much to run.
    pub size: Size,
}

impl Server {
    /// A store on database `db` (dropped first), on the shared client.
    pub async fn store(&self, db: &str) -> Result<EventStore<MongoExecutor>, BenchError> {
        self.client.database(db).drop().await?;
        Ok(EventStore::with_client(self.client.clone(), StoreConfig::new(db)).await?)
    }

    /// Drops the benchmark's databases.
    pub async fn drop(&self, dbs: &[&str]) -> Result<(), BenchError> {
        for db in dbs {
            self.client.database(db).drop().await?;
        }
        Ok(())
    }
}

/// Runs every live benchmark (or those of `--only`).
pub fn run(args: &LiveArgs, fragments: &Fragments) -> Result<(), BenchError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError::Report(format!("a tokio runtime: {e}")))?;
    runtime.block_on(async {
        let client = Client::with_uri_str(&args.uri).await?;
        let info = MongoExecutor::with_client(client.clone()).await?;
        let label = args.server.clone().unwrap_or_else(|| info.server().to_string());
        println!("streamdoc-bench live on {label} ({:?})", args.size);
        let server = Server { client, label, size: args.size };
        let wanted = |m: &str| args.only.is_empty() || args.only.iter().any(|o| o == m);
        if wanted("host") {
            host::run(&server, fragments).await?;
        }
        if wanted("reads") {
            reads::run(&server, fragments).await?;
        }
        if wanted("growth") {
            growth::run(&server, fragments).await?;
        }
        if wanted("concurrency") {
            concurrency::run(&server, fragments).await?;
        }
        Ok(())
    })
}

/// A one-event append's event: a small payload, as an application's typical event.
pub fn event(i: usize) -> NewEvent {
    NewEvent::new("Incremented", doc! { "by": 1, "seq": i as i64, "note": "a small payload" })
}

/// An executor with no server: it answers an append's commands as a server would
/// when the append succeeds, and keeps every command it was sent. The bare driver's
/// contender sends exactly these.
#[derive(Debug, Default, Clone)]
pub struct Capture(Arc<Mutex<Vec<Command>>>);

impl Capture {
    /// The commands sent since the last call.
    pub fn take(&self) -> Vec<Command> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl AsyncExecutor for Capture {
    fn execute(&self, command: &Command) -> impl Future<Output = Result<Reply, ExecutorError>> + Send {
        let reply = match command {
            Command::CreateIndex { .. } => Ok(Reply::Acknowledged),
            Command::UpdateOne { .. } => {
                self.0.lock().unwrap_or_else(|p| p.into_inner()).push(command.clone());
                Ok(Reply::Updated { matched: 1, modified: 1, upserted_id: None })
            }
            other => Err(ExecutorError {
                message: format!("the capture answers appends only, not {}", other.kind()),
                outcome_unknown: false,
            }),
        };
        std::future::ready(reply)
    }
}

/// An executor that passes every command to `inner` and keeps a copy, with whether
/// the server refused it: the bare driver's contender of a read replays them (a
/// refusal included, as a read on a server without `$slice` projections meets one
/// before it falls back).
#[derive(Debug)]
pub struct Recording<E> {
    inner: E,
    seen: Arc<Mutex<Vec<(Command, bool)>>>,
}

impl<E> Recording<E> {
    /// Records what `inner` is sent.
    pub fn new(inner: E) -> Self {
        Recording { inner, seen: Arc::default() }
    }

    /// The commands sent since the last call, each with whether the server refused it.
    pub fn take(&self) -> Vec<(Command, bool)> {
        std::mem::take(&mut *self.seen.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

impl<E: AsyncExecutor> AsyncExecutor for Recording<E> {
    fn execute(&self, command: &Command) -> impl Future<Output = Result<Reply, ExecutorError>> + Send {
        let seen = self.seen.clone();
        let command = command.clone();
        let inner = &self.inner;
        async move {
            let reply = inner.execute(&command).await;
            let refused = matches!(reply, Ok(Reply::ServerError { .. }));
            seen.lock().unwrap_or_else(|p| p.into_inner()).push((command, refused));
            reply
        }
    }
}

/// The bare driver sending one of core's commands, as directly as the driver allows.
pub async fn send_bare(client: &Client, command: &Command) -> Result<(), BenchError> {
    send_bare_expecting(client, command, false).await
}

/// [`send_bare`], where a command the server refuses is what was expected when
/// `refused` (a server error then passes; its absence fails).
pub async fn send_bare_expecting(client: &Client, command: &Command, refused: bool) -> Result<(), BenchError> {
    match (send_command(client, command).await, refused) {
        (Ok(()), false) => Ok(()),
        (Err(BenchError::Server(e)), true)
            if matches!(*e.kind, streamdoc_host::mongodb::error::ErrorKind::Command(_)) =>
        {
            Ok(())
        }
        (Ok(()), true) => Err(BenchError::Report(format!("the server took a {} it had refused", command.kind()))),
        (Err(e), _) => Err(e),
    }
}

async fn send_command(client: &Client, command: &Command) -> Result<(), BenchError> {
    let coll = |ns: &streamdoc_core::Namespace| client.database(&ns.db).collection::<bson::Document>(&ns.collection);
    match command {
        Command::UpdateOne { ns, filter, update, upsert } => {
            let r = coll(ns).update_one(filter.clone(), update.clone()).upsert(*upsert).await?;
            if r.matched_count + u64::from(r.upserted_id.is_some()) != 1 {
                return Err(BenchError::Report(format!("the bare update matched nothing: {filter}")));
            }
        }
        Command::FindOne { ns, filter, projection } => {
            let options =
                streamdoc_host::mongodb::options::FindOneOptions::builder().projection(projection.clone()).build();
            if coll(ns).find_one(filter.clone()).with_options(options).await?.is_none() {
                return Err(BenchError::Report(format!("the bare findOne found nothing: {filter}")));
            }
        }
        other => return Err(BenchError::Report(format!("no bare contender for {}", other.kind()))),
    }
    Ok(())
}
