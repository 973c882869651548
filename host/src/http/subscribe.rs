//! `GET /subscribe?consumer=&streamType=`: a consumer's subscription
//! ([`crate::Subscriber`]) as Server-Sent Events.
//!
//! Each delivered [`Batch`] is one message:
//!
//! ```text
//! event: batch
//! id: order:1@3
//! data: {"stream":"order:1","after":1,"events":[{"type":"Paid",...},{"type":"Shipped",...}]}
//! ```
//!
//! - `data` is `{stream, after, events}`: the events of one stream at positions
//!   `after + 1 ..`, in the shape `GET /streams/{streamName}` gives them.
//! - `id` is `<stream>@<lastPosition>` ([`EventId`]): the stream name (with `%`, control
//!   characters and non-ASCII bytes percent-encoded, so that it survives a header), `@`,
//!   and the position of the message's last event.
//! - A comment (`: keep-alive`) every [`ApiOptions::subscription_heartbeat`]
//!   (`--subscription-heartbeat`, default 15 s) keeps proxies from closing an idle
//!   connection.
//! - When the subscription fails after the response started (the server stops
//!   answering, ...), one `event: error` message carries the problem's JSON and the
//!   response ends.
//!
//! **Delivery is at least once, up to the connection.** The subscriber reads the next
//! batch only once the response body has taken the previous message (a channel of one
//! message, so the database is read no faster than the client reads), and the
//! consumer's checkpoint moves when the body takes the message, not when the client
//! has read it: a message in flight when the connection drops is lost to the client,
//! and one taken but not yet checkpointed is sent again on the next connection. A
//! client that reconnects with the same `consumer` resumes from the consumer's
//! checkpoints; with `Last-Event-ID: <stream>@<position>` (what `EventSource` sends on
//! its own) the server does not resend the events of that stream at or before that
//! position, and the checkpoint then moves past them as if they were sent. Events of
//! other streams taken but not checkpointed may still come again: a client dedupes by
//! `id`, or by each event's `metadata.streamPosition`.
//!
//! Two connections with the same `consumer` at once are two instances of one consumer:
//! allowed, and each batch goes to whichever instance advances the checkpoint first
//! (the checkpoints are conditional); both may receive a batch that neither has
//! checkpointed yet.
//!
//! With `--token` the route requires `Authorization: Bearer <token>` like the stream
//! routes, which a browser's `EventSource` cannot send: use a client that sets headers
//! (`fetch` reading the body, curl).
//!
//! At most [`ApiOptions::max_subscriptions`] (`--max-subscriptions`, default 64)
//! subscriptions are open at once; past it the route answers 503
//! `too-many-subscriptions` with `Retry-After`. A client that disconnects frees its
//! slot once its subscriber has stopped. Served with [`super::serve`], the open
//! subscriptions end when the server shuts down (otherwise a graceful shutdown would
//! wait for them forever).
//!
//! [`ApiOptions::subscription_heartbeat`]: super::ApiOptions::subscription_heartbeat
//! [`ApiOptions::max_subscriptions`]: super::ApiOptions::max_subscriptions

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
use serde::Deserialize;
use serde_json::json;
use streamdoc_core::subscription::{Batch, Source, Subscription, SubscriptionConfig, SubscriptionError};
use streamdoc_core::Error;
use tokio::sync::{mpsc, oneshot, watch, OwnedSemaphorePermit, Semaphore};

use super::json;
use super::problem::Problem;
use super::Store;
use crate::{StoreExecutor, SubscribeError, Subscriber};

/// The default bound on open subscriptions (`--max-subscriptions`).
pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 64;

/// The default interval of the keep-alive comments (`--subscription-heartbeat`).
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(15);

/// The `Retry-After` of a `too-many-subscriptions` answer, in seconds.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// The text of the keep-alive comments (`: keep-alive`).
pub const HEARTBEAT_TEXT: &str = "keep-alive";

/// The open subscriptions of one router, and how their responses are kept alive.
#[derive(Debug, Clone)]
pub(super) struct Subscriptions {
    slots: Arc<Semaphore>,
    max: usize,
    heartbeat: Duration,
}

impl Subscriptions {
    pub(super) fn new(max: usize, heartbeat: Duration) -> Self {
        Self { slots: Arc::new(Semaphore::new(max)), max, heartbeat }
    }
}

/// Set by [`super::serve`] on every request: becomes `true` when the server shuts down.
#[derive(Debug, Clone)]
pub(super) struct Closing(pub(super) watch::Receiver<bool>);

/// The query of `GET /subscribe`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct SubscribeQuery {
    consumer: String,
    stream_type: Option<String>,
    batch_size: Option<u32>,
    source: Option<Source>,
}

/// The `id` of a message, and what `Last-Event-ID` gives back: `<stream>@<position>`,
/// the stream name with `%`, control characters and non-ASCII bytes percent-encoded.
///
/// ```
/// use streamdoc_host::http::subscribe::EventId;
///
/// let id = EventId { stream: "order:eu@1\n".into(), position: 7 };
/// assert_eq!(id.to_string(), "order:eu@1%0A@7");
/// assert_eq!("order:eu@1%0A@7".parse::<EventId>(), Ok(id));
/// assert!("order:1".parse::<EventId>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventId {
    /// The stream.
    pub stream: String,
    /// The position of the last event the message carried.
    pub position: u64,
}

/// What the stream name of an [`EventId`] has percent-encoded (with every non-ASCII byte).
const ID_ESCAPED: &AsciiSet = &CONTROLS.add(b'%');

impl std::fmt::Display for EventId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", utf8_percent_encode(&self.stream, ID_ESCAPED), self.position)
    }
}

impl std::str::FromStr for EventId {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let expected = "expected `<stream>@<position>`, as the `id` of a message";
        let (stream, position) = text.rsplit_once('@').ok_or_else(|| format!("{text:?} has no `@`: {expected}"))?;
        let position = position
            .parse()
            .map_err(|_| format!("{position:?} is not a position (a non-negative integer): {expected}"))?;
        let stream = percent_encoding::percent_decode_str(stream)
            .decode_utf8()
            .map_err(|_| format!("{stream:?} is not UTF-8 once percent-decoded"))?;
        if stream.is_empty() {
            return Err(format!("{text:?} names no stream: {expected}"));
        }
        Ok(Self { stream: stream.into_owned(), position })
    }
}

/// What the subscriber hands to the response body.
enum Message {
    /// A batch's message; `taken` fires when the body has taken it.
    Batch { event: Event, taken: oneshot::Sender<()> },
    /// The subscription failed: the last message.
    Failed(Event),
}

/// The handler gave up: the response body is gone (the client disconnected).
#[derive(Debug)]
struct Disconnected;

/// `GET /subscribe`.
pub(super) async fn subscribe(
    State(store): State<Store>,
    closing: Option<Extension<Closing>>,
    query: Result<Query<SubscribeQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let Query(query) = query.map_err(|e| Problem::invalid_query(e.body_text()))?;
    let resume = last_event_id(&headers)?;
    let mut config = SubscriptionConfig::new(query.consumer);
    config.stream_type = query.stream_type;
    if let Some(events) = query.batch_size {
        config.batch_size = events;
    }
    if let Some(source) = query.source {
        config.source = source;
    }
    // What the subscription would refuse once running, refused before the answer
    // starts: the consumer name, the sizes, the stream type the storage needs.
    Subscription::new(store.context(), config.clone())?;
    if config.source == Source::ChangeStream && !has_change_streams(&store).await? {
        return Err(Error::Subscription(SubscriptionError::ChangeStreamsUnsupported {
            message: "source=changeStream was asked for; use source=polling or source=auto".into(),
        })
        .into());
    }
    let Ok(slot) = store.subscriptions.slots.clone().try_acquire_owned() else {
        let mut response = Problem::too_many_subscriptions(store.subscriptions.max).into_response();
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        return Ok(response);
    };
    let consumer = config.consumer.clone();
    let subscriber = store.subscriber(config);
    let (sender, receiver) = mpsc::channel(1);
    tokio::spawn(deliver(subscriber, consumer, sender, resume, slot));
    let body = futures_util::stream::unfold(
        (receiver, closing.map(|Extension(c)| c.0)),
        |(mut receiver, mut closing)| async move {
            let message = tokio::select! {
                message = receiver.recv() => message?,
                () = shut_down(closing.as_mut()) => return None,
            };
            let event = match message {
                Message::Batch { event, taken } => {
                    let _ = taken.send(());
                    event
                }
                Message::Failed(event) => event,
            };
            Some((Ok::<_, Infallible>(event), (receiver, closing)))
        },
    );
    let keep_alive = KeepAlive::new().interval(store.subscriptions.heartbeat).text(HEARTBEAT_TEXT);
    let mut response = Sse::new(body).keep_alive(keep_alive).into_response();
    // Proxies that buffer answers (nginx) would hold the messages back.
    response.headers_mut().insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// Whether the store's server has change streams.
async fn has_change_streams(store: &Store) -> Result<bool, Error> {
    Ok(crate::ChangeStreams::has_change_streams(store.executor()).await?)
}

/// Completes when the server shuts down; never without [`Closing`].
async fn shut_down(closing: Option<&mut watch::Receiver<bool>>) {
    match closing {
        // An error: the server's end is gone, which is a shutdown too.
        Some(closing) => drop(closing.wait_for(|closed| *closed).await),
        None => std::future::pending().await,
    }
}

/// The `Last-Event-ID` header, when there is one.
fn last_event_id(headers: &HeaderMap) -> Result<Option<EventId>, Problem> {
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| Problem::invalid_last_event_id("Last-Event-ID is not visible ASCII"))?;
    if text.is_empty() {
        // What `EventSource` sends before it has seen an id.
        return Ok(None);
    }
    text.parse().map(Some).map_err(Problem::invalid_last_event_id)
}

/// Runs the subscriber, handing each batch to the response body, until the body is
/// gone; holds `slot` as long as it runs.
async fn deliver(
    subscriber: Subscriber<StoreExecutor>,
    consumer: String,
    sender: mpsc::Sender<Message>,
    resume: Option<EventId>,
    slot: OwnedSemaphorePermit,
) {
    let stop = {
        let sender = sender.clone();
        async move { sender.closed().await }
    };
    let handler = |batch: Batch| {
        let batch = unsent(batch, resume.as_ref());
        let sender = sender.clone();
        async move {
            if batch.events.is_empty() {
                return Ok(());
            }
            let (taken, was_taken) = oneshot::channel();
            sender.send(Message::Batch { event: batch_event(&batch), taken }).await.map_err(|_| Disconnected)?;
            was_taken.await.map_err(|_| Disconnected)
        }
    };
    match subscriber.run(handler, stop).await {
        Ok(stats) => tracing::debug!(%consumer, ?stats, "subscription closed by its client"),
        Err(SubscribeError::Handler(Disconnected)) => {
            tracing::debug!(%consumer, "subscription closed by its client with a batch in flight");
        }
        Err(SubscribeError::Subscription(e)) => {
            tracing::warn!(%consumer, error = %e, "subscription failed");
            let problem = Problem::from(&e).to_json().to_string();
            let _ = sender.send(Message::Failed(Event::default().event("error").data(problem))).await;
        }
    }
    drop(slot);
}

/// `batch` without the events of `resume`'s stream at or before its position (the
/// client has them).
fn unsent(mut batch: Batch, resume: Option<&EventId>) -> Batch {
    if let Some(resume) = resume.filter(|r| r.stream == batch.stream && r.position > batch.after) {
        let sent = (resume.position - batch.after).min(batch.events.len() as u64);
        batch.events.drain(..sent as usize);
        batch.after += sent;
    }
    batch
}

/// A batch's message: `event: batch`, its [`EventId`], `{stream, after, events}`.
fn batch_event(batch: &Batch) -> Event {
    let id = EventId { stream: batch.stream.clone(), position: batch.last_position() };
    let data = json!({
        "stream": batch.stream,
        "after": batch.after,
        "events": batch.events.iter().map(json::event).collect::<Vec<_>>(),
    });
    Event::default().event("batch").id(id.to_string()).data(data.to_string())
}

#[cfg(test)]
mod tests {
    use bson::doc;
    use streamdoc_core::{NewEvent, StoreConfig};

    use super::*;

    fn batch(after: u64, events: u64) -> Batch {
        let store = crate::EventStore::in_memory(StoreConfig::new("t")).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let new = (0..after + events).map(|i| NewEvent::new(format!("E{i}"), doc! {})).collect();
        runtime.block_on(store.append_to_stream("order:1", new, streamdoc_core::ExpectedVersion::Any)).unwrap();
        let read = runtime.block_on(store.read_stream("order:1", streamdoc_core::ReadRange::all())).unwrap();
        Batch { stream: "order:1".into(), after, events: read.events[after as usize..].to_vec() }
    }

    #[test]
    fn last_event_id_leaves_out_what_the_client_has() {
        let at = |stream: &str, position| EventId { stream: stream.into(), position };
        let kept = |b: Batch| (b.after, b.events.iter().map(|e| e.metadata.stream_position).collect::<Vec<_>>());
        assert_eq!(kept(unsent(batch(2, 3), None)), (2, vec![3, 4, 5]));
        assert_eq!(kept(unsent(batch(2, 3), Some(&at("order:1", 3)))), (3, vec![4, 5]));
        assert_eq!(kept(unsent(batch(2, 3), Some(&at("order:1", 2)))), (2, vec![3, 4, 5]));
        assert_eq!(kept(unsent(batch(2, 3), Some(&at("order:1", 9)))), (5, vec![]));
        assert_eq!(kept(unsent(batch(2, 3), Some(&at("order:2", 9)))), (2, vec![3, 4, 5]));
    }

    /// The position of `consumer`'s checkpoint of `stream`.
    async fn checkpoint(store: &crate::AnyEventStore, consumer: &str, stream: &str) -> Option<i64> {
        let documents = store.executor().database_documents("t").await.unwrap();
        let doc = documents.get("t.streamdoc_checkpoints")?.iter().find(|d| {
            d.get_str("consumer").is_ok_and(|c| c == consumer) && d.get_str("streamName").is_ok_and(|s| s == stream)
        })?;
        doc.get_i64("position").ok()
    }

    /// A batch waiting in the channel, or taken but not yet written out, is not
    /// acknowledged, and nothing more is read meanwhile; once taken, it is.
    #[tokio::test]
    async fn a_batch_is_acknowledged_once_the_answer_took_it() {
        let store = crate::EventStore::in_memory(StoreConfig::new("t")).unwrap().into_any();
        let placed = || vec![NewEvent::new("Placed", doc! {})];
        store.append_to_stream("order:1", placed(), streamdoc_core::ExpectedVersion::NoStream).await.unwrap();
        let subscriber = store.subscriber(SubscriptionConfig::new("c").stream_type("order"));
        let (sender, mut receiver) = mpsc::channel(1);
        let slot = Arc::new(Semaphore::new(1)).try_acquire_owned().unwrap();
        let running = tokio::spawn(deliver(subscriber, "c".into(), sender, None, slot));

        let Some(Message::Batch { taken, .. }) = receiver.recv().await else { panic!("no batch") };
        store.append_to_stream("order:2", placed(), streamdoc_core::ExpectedVersion::NoStream).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert_eq!(checkpoint(&store, "c", "order:1").await, None, "acknowledged before the answer took it");
        assert!(receiver.try_recv().is_err(), "a second batch was read before the first was taken");

        taken.send(()).unwrap();
        let Some(Message::Batch { taken, .. }) = receiver.recv().await else { panic!("no second batch") };
        assert_eq!(checkpoint(&store, "c", "order:1").await, Some(1));
        taken.send(()).unwrap();
        drop(receiver);
        tokio::time::timeout(Duration::from_secs(10), running).await.expect("stops once the answer is gone").unwrap();
        assert_eq!(checkpoint(&store, "c", "order:2").await, Some(1));
    }

    #[test]
    fn event_ids_round_trip_any_stream_name() {
        for stream in ["order:1", "a:b@c", "x:100%", "é:ü\r\n", "t:\u{7f}"] {
            let id = EventId { stream: stream.into(), position: 42 };
            let text = id.to_string();
            assert!(text.bytes().all(|b| b.is_ascii_graphic()), "{text:?}");
            assert_eq!(text.parse::<EventId>(), Ok(id), "{text:?}");
        }
        for bad in ["", "@1", "order:1@", "order:1@-1", "order:1@x", "%FF@1"] {
            assert!(bad.parse::<EventId>().is_err(), "{bad:?}");
        }
    }
}
