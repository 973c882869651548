//! Subscriptions on tokio: core's [`Subscription`] machine driven on an
//! [`AsyncExecutor`], with a change stream where the executor has one.
//!
//! ```
//! use bson::doc;
//! use streamdoc_core::subscription::SubscriptionConfig;
//! use streamdoc_core::{ExpectedVersion, NewEvent, StoreConfig};
//! use streamdoc_host::EventStore;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = EventStore::in_memory(StoreConfig::new("shop"))?;
//! store.append_to_stream("order:1", vec![NewEvent::new("Placed", doc! {})], ExpectedVersion::NoStream).await?;
//!
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! let subscriber = store.subscriber(SubscriptionConfig::new("mailer").stream_type("order"));
//! let mut stop = Some(stop);
//! let stats = subscriber
//!     .run(
//!         |batch| {
//!             assert_eq!(batch.events[0].event_type, "Placed");
//!             let _ = stop.take().map(|s| s.send(())); // one batch, then a graceful stop
//!             async { Ok::<_, std::convert::Infallible>(()) }
//!         },
//!         async { let _ = stopped.await; },
//!     )
//!     .await?;
//! assert_eq!(stats.events, 1);
//! # Ok(())
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bson::Document;
use futures_util::{FutureExt, Stream, StreamExt};
use streamdoc_core::engine::FeedError;
use streamdoc_core::subscription::{
    Batch, Source, Subscription, SubscriptionConfig, SubscriptionError, SubscriptionStats, SubscriptionStep,
};
use streamdoc_core::{Error, ExecutorError, Namespace, StoreContext};

use crate::driver::AsyncExecutor;

/// A change stream as the executor opened it: MongoDB's change events, or the server's
/// error (e.g. 286 ChangeStreamHistoryLost).
pub type ChangeEvents = Pin<Box<dyn Stream<Item = Result<Document, FeedError>> + Send>>;

/// What an [`AsyncExecutor`] needs to offer change streams. The default has none.
pub trait ChangeStreams {
    /// Whether the server has change streams (a replica set or a sharded cluster); an
    /// error when it does not answer.
    fn has_change_streams(&self) -> impl Future<Output = Result<bool, ExecutorError>> + Send {
        std::future::ready(Ok(false))
    }

    /// Opens a change stream on `ns`, after `resume_after` when given.
    fn watch(
        &self,
        ns: &Namespace,
        resume_after: Option<Document>,
    ) -> impl Future<Output = Result<ChangeEvents, FeedError>> + Send {
        let _ = (ns, resume_after);
        std::future::ready(Err(FeedError { code: 40573, message: "this executor has no change streams".into() }))
    }
}

/// Why [`Subscriber::run`] stopped before it was told to.
#[derive(Debug, thiserror::Error)]
pub enum SubscribeError<H> {
    /// The subscription failed: a command, the server, the change stream.
    #[error(transparent)]
    Subscription(#[from] Error),
    /// The handler failed; its batch was not acknowledged and will be delivered again.
    #[error("the handler failed: {0}")]
    Handler(H),
}

/// What to do when the change stream cannot resume (its point left the oplog).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnHistoryLost {
    /// Log a warning, open a new change stream and catch up by polling (exact: the
    /// checkpoints are per stream).
    #[default]
    CatchUp,
    /// Stop with [`SubscriptionError::HistoryLost`].
    Fail,
}

/// A consumer ready to run: [`crate::EventStore::subscriber`].
#[derive(Debug, Clone)]
pub struct Subscriber<E> {
    pub(crate) ctx: StoreContext,
    pub(crate) executor: E,
    pub(crate) config: SubscriptionConfig,
    pub(crate) poll_interval: Duration,
    pub(crate) on_history_lost: OnHistoryLost,
}

impl<E: AsyncExecutor + ChangeStreams> Subscriber<E> {
    /// How long an idle polling subscription waits before it polls again (default 100 ms).
    pub fn poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval;
        self
    }

    /// What to do when the change stream cannot resume.
    pub fn on_history_lost(mut self, policy: OnHistoryLost) -> Self {
        self.on_history_lost = policy;
        self
    }

    /// The source this subscriber runs on: the configured one, with
    /// [`Source::Auto`] resolved by asking the server ([`Error::Unavailable`] when it
    /// does not answer).
    pub async fn resolved_source(&self) -> Result<Source, Error> {
        Ok(match self.config.source {
            Source::Auto => Source::Auto.resolve(self.executor.has_change_streams().await?),
            chosen => chosen,
        })
    }

    /// Delivers batches to `handler` until `stop` completes (or a failure). One batch
    /// at a time: the next is read only once the handler's future resolved `Ok` and the
    /// checkpoint moved (backpressure). A stop never interrupts a handler; it is seen
    /// between batches (after the finished batch's checkpoint write) and while idle.
    /// Returns what the subscription did.
    pub async fn run<H, F, HE>(
        self,
        mut handler: H,
        stop: impl Future<Output = ()> + Send,
    ) -> Result<SubscriptionStats, SubscribeError<HE>>
    where
        H: FnMut(Batch) -> F,
        F: Future<Output = Result<(), HE>>,
    {
        let source = self.resolved_source().await?;
        let mut config = self.config.clone();
        config.source = source;
        let mut sub = Subscription::new(&self.ctx, config)?;
        let mut changes: Option<ChangeEvents> = None;
        let mut stop = std::pin::pin!(stop.fuse());
        // Set between a handled batch's `ack` and the checkpoint write it asks for: a stop
        // is not looked at in between, so a batch whose handler finished is never
        // delivered again because of a graceful stop.
        let mut acknowledging = false;
        loop {
            if !std::mem::take(&mut acknowledging) && stop.as_mut().now_or_never().is_some() {
                return Ok(sub.stats());
            }
            match sub.next() {
                SubscriptionStep::Send(cmd) => {
                    let reply = self.executor.execute(&cmd).await.map_err(Error::from)?;
                    sub.feed(reply);
                }
                SubscriptionStep::Deliver(batch) => {
                    handler(batch).await.map_err(SubscribeError::Handler)?;
                    sub.ack()?;
                    acknowledging = true;
                }
                SubscriptionStep::Watch { ns, resume_after } => match self.executor.watch(&ns, resume_after).await {
                    Ok(stream) => changes = Some(stream),
                    Err(e) => self.watch_failed(&mut sub, &mut changes, e)?,
                },
                SubscriptionStep::Idle => {
                    let Some(stream) = changes.as_mut() else {
                        tokio::select! {
                            _ = tokio::time::sleep(self.poll_interval) => continue,
                            _ = &mut stop => return Ok(sub.stats()),
                        }
                    };
                    tokio::select! {
                        item = stream.next() => match item {
                            Some(Ok(change)) => {
                                sub.on_change(change);
                                // Take what else is ready without waiting.
                                while let Some(Some(Ok(change))) = stream.next().now_or_never() {
                                    sub.on_change(change);
                                }
                            }
                            Some(Err(e)) => self.watch_failed(&mut sub, &mut changes, e)?,
                            None => self.watch_failed(&mut sub, &mut changes, FeedError { code: 280, message: "the change stream ended".into() })?,
                        },
                        _ = &mut stop => return Ok(sub.stats()),
                    }
                }
                SubscriptionStep::Failed(e) => return Err(e.into()),
            }
        }
    }

    fn watch_failed(
        &self,
        sub: &mut Subscription,
        changes: &mut Option<ChangeEvents>,
        e: FeedError,
    ) -> Result<(), Error> {
        *changes = None;
        if e.code == 0 {
            return Err(Error::Unavailable(streamdoc_core::ExecutorError {
                message: e.message,
                outcome_unknown: false,
            }));
        }
        match sub.watch_failed(e.code, e.message) {
            Error::Subscription(SubscriptionError::HistoryLost { consumer, message })
                if self.on_history_lost == OnHistoryLost::CatchUp =>
            {
                tracing::warn!(%consumer, %message, "the change stream cannot resume; catching up by polling");
                sub.restart();
                Ok(())
            }
            other => Err(other),
        }
    }
}

impl<E: ChangeStreams + Sync> ChangeStreams for &E {
    fn has_change_streams(&self) -> impl Future<Output = Result<bool, ExecutorError>> + Send {
        (**self).has_change_streams()
    }

    fn watch(
        &self,
        ns: &Namespace,
        resume_after: Option<Document>,
    ) -> impl Future<Output = Result<ChangeEvents, FeedError>> + Send {
        (**self).watch(ns, resume_after)
    }
}

/// The engine's change feed, read every 10 ms: the engine is in this process, so the
/// wait is the only latency.
impl ChangeStreams for crate::driver::SharedEngine {
    async fn has_change_streams(&self) -> Result<bool, ExecutorError> {
        Ok(true)
    }

    async fn watch(&self, ns: &Namespace, resume_after: Option<Document>) -> Result<ChangeEvents, FeedError> {
        // Enabled on the first watch: a new consumer sweeps every stream before it reads
        // notices, so nothing written before is missed.
        let feed =
            self.with_engine(|engine| engine.enable_change_feed(streamdoc_core::engine::change_feed::DEFAULT_CAPACITY));
        let cursor = feed.watch(ns, resume_after.as_ref())?;
        let pending = std::collections::VecDeque::new();
        Ok(Box::pin(futures_util::stream::unfold((cursor, pending), |(mut cursor, mut pending)| async move {
            loop {
                if let Some(change) = pending.pop_front() {
                    return Some((Ok(change), (cursor, pending)));
                }
                match cursor.next_batch() {
                    Ok(batch) if batch.is_empty() => tokio::time::sleep(Duration::from_millis(10)).await,
                    Ok(batch) => pending.extend(batch),
                    Err(e) => return Some((Err(e), (cursor, pending))),
                }
            }
        })))
    }
}

impl ChangeStreams for crate::MongoExecutor {
    /// `hello` names a replica set (`setName`) or a mongos (`msg: "isdbgrid"`).
    async fn has_change_streams(&self) -> Result<bool, ExecutorError> {
        let admin = self.client().database("admin");
        let hello = admin.run_command(bson::doc! { "hello": 1 });
        let no_answer = |message: String| ExecutorError { message, outcome_unknown: false };
        match tokio::time::timeout(Self::PING_TIMEOUT, hello).await {
            Ok(Ok(r)) => Ok(r.contains_key("setName") || r.get_str("msg").is_ok_and(|m| m == "isdbgrid")),
            Ok(Err(e)) => Err(no_answer(format!("hello failed: {e}"))),
            Err(_) => Err(no_answer(format!("no answer to hello within {:?}", Self::PING_TIMEOUT))),
        }
    }

    async fn watch(&self, ns: &Namespace, resume_after: Option<Document>) -> Result<ChangeEvents, FeedError> {
        let collection = self.client().database(&ns.db).collection::<Document>(&ns.collection);
        let token = resume_after
            .map(|t| bson::deserialize_from_bson::<mongodb::change_stream::event::ResumeToken>(bson::Bson::Document(t)))
            .transpose()
            .map_err(|e| FeedError { code: 280, message: format!("unreadable resume token: {e}") })?;
        let stream = collection.watch().resume_after(token).await.map_err(|e| feed_error(&e))?.with_type::<Document>();
        Ok(Box::pin(stream.map(|item| item.map_err(|e| feed_error(&e)))))
    }
}

/// A driver error as MongoDB's code and message; 0 when the server did not answer.
fn feed_error(e: &mongodb::error::Error) -> FeedError {
    let code = match e.kind.as_ref() {
        mongodb::error::ErrorKind::Command(c) => c.code,
        _ => 0,
    };
    FeedError { code, message: e.to_string() }
}

impl ChangeStreams for crate::StoreExecutor {
    async fn has_change_streams(&self) -> Result<bool, ExecutorError> {
        match self {
            crate::StoreExecutor::Memory(engine) => engine.has_change_streams().await,
            crate::StoreExecutor::Mongo(mongo) => mongo.has_change_streams().await,
        }
    }

    async fn watch(&self, ns: &Namespace, resume_after: Option<Document>) -> Result<ChangeEvents, FeedError> {
        match self {
            crate::StoreExecutor::Memory(engine) => engine.watch(ns, resume_after).await,
            crate::StoreExecutor::Mongo(mongo) => mongo.watch(ns, resume_after).await,
        }
    }
}
