//! Running a subscription on a synchronous executor, until it has nothing left to do.

use bson::Document;

use super::batch::Batch;
use super::config::SubscriptionError;
use super::machine::{Subscription, SubscriptionStep};
use crate::command::Namespace;
use crate::driver::Executor;
use crate::engine::change_feed::FeedError;
use crate::engine::{ChangeCursor, ChangeFeed};
use crate::error::Error;

/// Why [`run_until_idle`] stopped before the subscription was idle.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError<H> {
    /// The subscription failed (a command, the change stream).
    #[error(transparent)]
    Subscription(Error),
    /// The handler failed; its batch was not acknowledged and will be delivered again.
    #[error("the handler failed: {0}")]
    Handler(H),
}

/// Runs `sub` on `executor`, handing every batch to `handler` and acknowledging it when
/// the handler returns `Ok`, until there is nothing to do. A change-stream subscription
/// watches `feed` (the engine's change feed), which keeps its cursor between calls.
///
/// ```
/// use bson::doc;
/// use streamdoc_core::subscription::{run_until_idle, FeedWatch, Source, Subscription, SubscriptionConfig};
/// use streamdoc_core::{EventStore, Engine, ExpectedVersion, NewEvent, SeededIds, SteppingClock, StoreConfig, StoreContext};
///
/// let ctx = StoreContext::new(StoreConfig::new("app"), SteppingClock::new(0, 1), SeededIds::new(1))?;
/// let mut engine = Engine::new(1);
/// let mut watch = FeedWatch::new(engine.enable_change_feed(1_000));
/// let mut store = EventStore::new(ctx.clone(), engine);
/// let config = SubscriptionConfig::new("mailer").stream_type("order").source(Source::ChangeStream);
/// let mut sub = Subscription::new(&ctx, config)?;
///
/// let mut seen = Vec::new();
/// run_until_idle(&mut sub, store.executor_mut(), Some(&mut watch), |b| Ok::<_, std::convert::Infallible>(seen.push(b.last_position())))?;
/// store.append_to_stream("order:1", vec![NewEvent::new("Placed", doc! {})], ExpectedVersion::NoStream)?;
/// store.append_to_stream("order:1", vec![NewEvent::new("Paid", doc! {})], ExpectedVersion::Exact(1))?;
/// run_until_idle(&mut sub, store.executor_mut(), Some(&mut watch), |b| Ok::<_, std::convert::Infallible>(seen.push(b.last_position())))?;
/// assert_eq!(seen, [1, 2]);
/// assert_eq!(sub.stats().carried, 2, "both batches came in the change events, no read");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_until_idle<H>(
    sub: &mut Subscription,
    executor: &mut impl Executor,
    mut feed: Option<&mut FeedWatch>,
    mut handler: impl FnMut(&Batch) -> Result<(), H>,
) -> Result<(), HandlerError<H>> {
    let fail = HandlerError::Subscription;
    loop {
        match sub.next() {
            SubscriptionStep::Send(cmd) => {
                let reply = executor.execute_owned(cmd).map_err(|e| fail(e.into()))?;
                sub.feed(reply);
            }
            SubscriptionStep::Deliver(batch) => {
                handler(&batch).map_err(HandlerError::Handler)?;
                sub.ack().map_err(fail)?;
            }
            SubscriptionStep::Watch { ns, resume_after } => {
                let watch = feed.as_deref_mut().ok_or_else(|| {
                    fail(
                        SubscriptionError::ChangeStreamsUnsupported { message: "no change feed to watch".into() }
                            .into(),
                    )
                })?;
                watch.open(sub, &ns, resume_after.as_ref()).map_err(fail)?;
            }
            SubscriptionStep::Idle => {
                let Some(watch) = feed.as_deref_mut() else { return Ok(()) };
                if watch.pull(sub).map_err(fail)? == 0 {
                    return Ok(());
                }
            }
            SubscriptionStep::Failed(e) => return Err(fail(e)),
        }
    }
}

/// The error a change stream's failure is reported as.
fn watch_error(sub: &Subscription, e: FeedError) -> Error {
    sub.watch_failed(e.code, e.message)
}

/// An engine's change feed and the cursor a subscription opened on it.
#[derive(Debug, Clone)]
pub struct FeedWatch {
    feed: ChangeFeed,
    cursor: Option<ChangeCursor>,
}

impl FeedWatch {
    /// Watches `feed`; the cursor is opened when the subscription asks.
    pub fn new(feed: ChangeFeed) -> Self {
        Self { feed, cursor: None }
    }

    /// The same watch on `feed` (a copy of this one's, e.g. in a cloned engine): its
    /// cursor, if open, resumes where this one is.
    pub fn rebound(&self, feed: ChangeFeed) -> Result<FeedWatch, FeedError> {
        let cursor = match &self.cursor {
            Some(c) => Some(feed.watch(c.namespace(), Some(&c.resume_token()))?),
            None => None,
        };
        Ok(FeedWatch { feed, cursor })
    }

    /// Does what [`SubscriptionStep::Watch`] asks: opens the cursor.
    pub fn open(&mut self, sub: &Subscription, ns: &Namespace, resume_after: Option<&Document>) -> Result<(), Error> {
        self.cursor = Some(self.feed.watch(ns, resume_after).map_err(|r| watch_error(sub, r))?);
        Ok(())
    }

    /// Hands the change events recorded since the last pull to `sub`; how many (0
    /// before the cursor is open).
    pub fn pull(&mut self, sub: &mut Subscription) -> Result<usize, Error> {
        let Some(cursor) = self.cursor.as_mut() else { return Ok(0) };
        let changes = cursor.next_batch().map_err(|r| watch_error(sub, r))?;
        let n = changes.len();
        for change in changes {
            sub.on_change(change);
        }
        Ok(n)
    }
}
