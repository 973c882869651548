//! The asynchronous driver: the one loop that runs a core operation against an
//! executor that answers commands asynchronously.
//!
//! It is the async twin of [`streamdoc_core::driver`]: the operation decides, the
//! executor executes, and this loop only carries commands one way and replies the
//! other. Nothing here looks at what a reply means.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use bson::Document;

use streamdoc_core::driver::Exchange;
use streamdoc_core::ops::{Operation, Step};
use streamdoc_core::{Command, Engine, Error, ExecutorError, Reply};

/// Anything that answers core's commands asynchronously: [`crate::MongoExecutor`] (a
/// live server), [`SharedEngine`] (core's in-memory engine), or
/// [`crate::StoreExecutor`] (either, chosen at run time).
///
/// `execute` takes `&self` so one executor serves many concurrent operations, and its
/// future is `Send` so operations can run on any tokio worker.
pub trait AsyncExecutor: Send + Sync {
    /// Runs one command. An `Err` means no reply was obtained: the server could not be
    /// reached, or a write's outcome is unknown ([`ExecutorError::outcome_unknown`]).
    fn execute(&self, command: &Command) -> impl Future<Output = Result<Reply, ExecutorError>> + Send;

    /// Whether whatever answers the commands answers now (a health check). The default
    /// always answers, as an executor in this process does; [`crate::MongoExecutor`]
    /// sends the server a `ping`, and gives it a bounded time to answer.
    fn ping(&self) -> impl Future<Output = Result<(), ExecutorError>> + Send {
        std::future::ready(Ok(()))
    }
}

impl<E: AsyncExecutor + ?Sized> AsyncExecutor for &E {
    fn execute(&self, command: &Command) -> impl Future<Output = Result<Reply, ExecutorError>> + Send {
        (**self).execute(command)
    }

    fn ping(&self) -> impl Future<Output = Result<(), ExecutorError>> + Send {
        (**self).ping()
    }
}

impl<E: AsyncExecutor + ?Sized> AsyncExecutor for Arc<E> {
    fn execute(&self, command: &Command) -> impl Future<Output = Result<Reply, ExecutorError>> + Send {
        (**self).execute(command)
    }

    fn ping(&self) -> impl Future<Output = Result<(), ExecutorError>> + Send {
        (**self).ping()
    }
}

/// Runs `op` to completion on `executor`.
///
/// ```
/// use streamdoc_core::{ReadRange, SeededIds, SteppingClock, StoreConfig, StoreContext};
/// use streamdoc_host::{driver, SharedEngine};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let ctx = StoreContext::new(StoreConfig::new("app"), SteppingClock::new(0, 1), SeededIds::new(0)).unwrap();
/// let engine = SharedEngine::new(0);
/// let read = driver::run(&mut ctx.read("order:1", ReadRange::all()).unwrap(), &engine).await.unwrap();
/// assert!(!read.stream_exists);
/// # });
/// ```
pub async fn run<O: Operation + ?Sized>(op: &mut O, executor: &impl AsyncExecutor) -> Result<O::Output, Error> {
    run_logged(op, executor, |_| {}).await
}

/// Runs `op` to completion, showing every command and reply to `log`.
pub async fn run_logged<O: Operation + ?Sized>(
    op: &mut O,
    executor: &impl AsyncExecutor,
    mut log: impl FnMut(&Exchange<'_>),
) -> Result<O::Output, Error> {
    loop {
        match op.next() {
            Step::Done(result) => return result,
            Step::Send(command) => {
                let step = op.describe_step();
                let reply = executor.execute(&command).await;
                log(&Exchange { step, command: &command, reply: &reply });
                op.feed(reply?);
            }
        }
    }
}

/// Core's in-memory engine behind a mutex, as an [`AsyncExecutor`]: the same async
/// store API with no server (e.g. for tests, or a host started without a MongoDB URI).
/// Its [`ping`](AsyncExecutor::ping) always answers.
///
/// Cloning shares the engine.
#[derive(Debug, Clone)]
pub struct SharedEngine(Arc<Mutex<Engine>>);

impl SharedEngine {
    /// A fresh engine whose generated ObjectIds follow `seed`.
    pub fn new(seed: u64) -> Self {
        Self::from_engine(Engine::new(seed))
    }

    /// Wraps an existing engine.
    pub fn from_engine(engine: Engine) -> Self {
        Self(Arc::new(Mutex::new(engine)))
    }

    /// Runs `f` with the engine locked (e.g. to inspect stored documents).
    pub fn with_engine<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> T {
        let mut engine = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        f(&mut engine)
    }

    /// Every document of `database`, per `"database.collection"` (sorted), each
    /// collection's in the engine's natural (insertion) order; collections without
    /// documents are left out.
    pub fn database_documents(&self, database: &str) -> BTreeMap<String, Vec<Document>> {
        self.with_engine(|engine| {
            let namespaces = engine.namespaces().into_iter().filter(|ns| ns.db == database);
            namespaces.map(|ns| (ns.to_string(), engine.documents(&ns))).filter(|(_, docs)| !docs.is_empty()).collect()
        })
    }

    /// Drops every collection of `database` ([`Engine::drop_database`]).
    pub fn drop_database(&self, database: &str) {
        self.with_engine(|engine| engine.drop_database(database));
    }
}

impl AsyncExecutor for SharedEngine {
    fn execute(&self, command: &Command) -> impl Future<Output = Result<Reply, ExecutorError>> + Send {
        let reply = self.with_engine(|engine| engine.execute(command));
        std::future::ready(Ok(reply))
    }
}
