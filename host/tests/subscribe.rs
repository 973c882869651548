//! `GET /subscribe` over a real bound port (127.0.0.1:0) on core's in-memory engine,
//! whose change feed gives it change streams: messages, reconnection, `Last-Event-ID`,
//! the bound on open subscriptions, refused queries, keep-alive comments, shutdown.
//!
//! The client is HTTP/1.1 over a `TcpStream`, reading the chunked answer as it comes,
//! as the HTTP suite's client (tests/tests/http.rs) does for whole answers.

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use streamdoc_core::StoreConfig;
use streamdoc_host::http::{self, ApiOptions};
use streamdoc_host::{EventStore, SharedEngine};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::{timeout, Instant};

/// How long anything a test waits for may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- harness

/// A server on the engine; the store is kept to look at the checkpoints.
struct Server {
    addr: SocketAddr,
    store: EventStore<SharedEngine>,
    stop: Option<oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(options: ApiOptions) -> Self {
        let store = EventStore::in_memory(StoreConfig::new("shop")).expect("a store");
        let app = http::router(store.clone(), &options);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("a local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(http::serve(listener, app, async {
            let _ = stopped.await;
        }));
        Self { addr, store, stop: Some(stop), served }
    }

    /// Appends through `POST /streams/{stream}`.
    async fn append(&self, stream: &str, types: &[&str]) {
        let events: Vec<Value> = types.iter().map(|t| json!({ "type": t, "data": { "t": t } })).collect();
        let body = json!({ "events": events }).to_string();
        let resp =
            request(self.addr, &format!("POST /streams/{stream}"), &[("content-type", "application/json")], &body)
                .await;
        assert_eq!(resp.status, 200, "append: {}", String::from_utf8_lossy(&resp.body));
    }

    /// The events of `GET /streams/{stream}`.
    async fn read_events(&self, stream: &str) -> Vec<Value> {
        let resp = request(self.addr, &format!("GET /streams/{stream}"), &[], "").await;
        assert_eq!(resp.status, 200);
        resp.json()["events"].as_array().expect("events").clone()
    }

    /// The position of `consumer`'s checkpoint of `stream`, as stored.
    fn checkpoint(&self, consumer: &str, stream: &str) -> Option<i64> {
        let documents = self.store.executor().database_documents("shop");
        let checkpoints = documents.get("shop.streamdoc_checkpoints")?;
        let doc = checkpoints.iter().find(|d| {
            d.get_str("consumer").is_ok_and(|c| c == consumer) && d.get_str("streamName").is_ok_and(|s| s == stream)
        })?;
        doc.get_i64("position").ok()
    }

    /// Waits until `consumer`'s checkpoint of `stream` is at `position`.
    async fn await_checkpoint(&self, consumer: &str, stream: &str, position: i64) {
        let deadline = Instant::now() + PATIENCE;
        while self.checkpoint(consumer, stream) != Some(position) {
            assert!(
                Instant::now() < deadline,
                "the checkpoint of {consumer} on {stream} is {:?}, not {position}",
                self.checkpoint(consumer, stream)
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Stops the server; fails if it does not stop (an open subscription holding it).
    async fn stop(mut self) {
        let _ = self.stop.take().expect("running").send(());
        timeout(PATIENCE, self.served).await.expect("the server stops").expect("the task").expect("the server");
    }
}

/// A response's headers, names in lower case.
type Headers = Vec<(String, String)>;

/// A whole response.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Headers,
    body: Vec<u8>,
}

impl Resp {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts an RFC 9457 problem of `status` and `slug`; returns its body.
    fn problem(&self, status: u16, slug: &str) -> Value {
        let body = self.json();
        assert_eq!(self.status, status, "{body}");
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{body}");
        assert_eq!(body["type"], format!("https://streamdoc.dev/problems/{slug}"), "{body}");
        assert_eq!(body["status"], status, "{body}");
        assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
        body
    }
}

/// The head of a request: `"GET /path"` and headers.
fn head(addr: SocketAddr, line: &str, headers: &[(&str, &str)], body: &str) -> String {
    let mut head = format!("{line} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if line.starts_with("POST") {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    head.push_str(body);
    head
}

/// One request on a fresh connection, read to its end.
async fn request(addr: SocketAddr, line: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head(addr, line, headers, body).as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    timeout(PATIENCE, stream.read_to_end(&mut raw)).await.expect("a whole answer").expect("read");
    let (status, headers, rest) = parse_head(&raw).expect("a complete head");
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { Chunks::default().decode(rest).0 } else { rest.to_vec() };
    Resp { status, headers, body }
}

/// The status, headers and what follows the head, once the head is complete.
fn parse_head(raw: &[u8]) -> Option<(u16, Headers, &[u8])> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Some((status, headers, &raw[split + 4..]))
}

/// A chunked body decoded as it arrives.
#[derive(Debug, Default)]
struct Chunks {
    raw: Vec<u8>,
    ended: bool,
}

impl Chunks {
    /// Takes `more` bytes; returns the body bytes now complete, and whether the last
    /// chunk came.
    fn decode(&mut self, more: &[u8]) -> (Vec<u8>, bool) {
        self.raw.extend_from_slice(more);
        let mut out = Vec::new();
        while let Some(eol) = self.raw.windows(2).position(|w| w == b"\r\n") {
            let size =
                usize::from_str_radix(String::from_utf8_lossy(&self.raw[..eol]).trim(), 16).expect("a chunk size");
            if size == 0 {
                self.ended = true;
                break;
            }
            if self.raw.len() < eol + 2 + size + 2 {
                break;
            }
            out.extend_from_slice(&self.raw[eol + 2..eol + 2 + size]);
            self.raw.drain(..eol + 2 + size + 2);
        }
        (out, self.ended)
    }
}

/// One Server-Sent Events message: its comments and fields.
#[derive(Debug, Default, Clone, PartialEq)]
struct Message {
    comments: Vec<String>,
    event: Option<String>,
    id: Option<String>,
    data: String,
}

impl Message {
    fn parse(block: &str) -> Self {
        let mut message = Message::default();
        for line in block.lines() {
            if let Some(comment) = line.strip_prefix(':') {
                message.comments.push(comment.trim().to_owned());
                continue;
            }
            let (field, value) =
                line.split_once(':').map_or((line, ""), |(f, v)| (f, v.strip_prefix(' ').unwrap_or(v)));
            match field {
                "event" => message.event = Some(value.to_owned()),
                "id" => message.id = Some(value.to_owned()),
                "data" => {
                    if !message.data.is_empty() {
                        message.data.push('\n');
                    }
                    message.data.push_str(value);
                }
                other => panic!("unexpected field {other:?} in {block:?}"),
            }
        }
        message
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or_else(|e| panic!("data is not JSON ({e}): {self:?}"))
    }

    /// The stream positions of a batch's events.
    fn positions(&self) -> Vec<u64> {
        let data = self.json();
        data["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["metadata"]["streamPosition"].as_u64().unwrap())
            .collect()
    }
}

/// An open `GET /subscribe`, read message by message.
struct Sse {
    stream: TcpStream,
    chunks: Chunks,
    text: String,
}

/// What `GET /subscribe` answered: a stream, or a whole refusal.
enum Opened {
    Stream(Sse, Headers),
    Refused(Resp),
}

impl Opened {
    fn stream(self) -> Sse {
        match self {
            Opened::Stream(sse, _) => sse,
            Opened::Refused(resp) => panic!("refused: {} {}", resp.status, String::from_utf8_lossy(&resp.body)),
        }
    }

    fn refused(self) -> Resp {
        match self {
            Opened::Stream(..) => panic!("a subscription was opened"),
            Opened::Refused(resp) => resp,
        }
    }
}

async fn subscribe(addr: SocketAddr, query: &str, headers: &[(&str, &str)]) -> Opened {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head(addr, &format!("GET /subscribe?{query}"), headers, "").as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some((status, headers, rest)) = parse_head(&raw) {
            let rest = rest.to_vec();
            if status != 200 {
                let mut more = rest;
                timeout(PATIENCE, stream.read_to_end(&mut more)).await.expect("a whole refusal").expect("read");
                let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
                let body = if chunked { Chunks::default().decode(&more).0 } else { more };
                return Opened::Refused(Resp { status, headers, body });
            }
            let mut sse = Sse { stream, chunks: Chunks::default(), text: String::new() };
            sse.take(&rest);
            return Opened::Stream(sse, headers);
        }
        let n = tokio::time::timeout_at(deadline, stream.read(&mut buf)).await.expect("an answer").expect("read");
        assert!(n > 0, "the connection closed before the head: {:?}", String::from_utf8_lossy(&raw));
        raw.extend_from_slice(&buf[..n]);
    }
}

impl Sse {
    fn take(&mut self, raw: &[u8]) {
        let (body, _) = self.chunks.decode(raw);
        self.text.push_str(std::str::from_utf8(&body).expect("UTF-8"));
    }

    /// The next message or comment, or `None` when the answer ended.
    async fn next(&mut self, wait: Duration) -> Option<Message> {
        let deadline = Instant::now() + wait;
        let mut buf = [0u8; 4096];
        loop {
            if let Some(end) = self.text.find("\n\n") {
                let block: String = self.text.drain(..end + 2).collect();
                return Some(Message::parse(block.trim_end_matches('\n')));
            }
            if self.chunks.ended {
                return None;
            }
            let n = tokio::time::timeout_at(deadline, self.stream.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("nothing within {wait:?}; so far {:?}", self.text))
                .expect("read");
            if n == 0 {
                return None;
            }
            self.take(&buf[..n]);
        }
    }

    /// The next `batch` message, skipping keep-alive comments.
    async fn batch(&mut self) -> Message {
        loop {
            let message = self.next(PATIENCE).await.expect("a message before the answer ends");
            if message.event.is_some() {
                assert_eq!(message.event.as_deref(), Some("batch"), "{message:?}");
                return message;
            }
            assert_eq!(message.comments, ["keep-alive"], "{message:?}");
        }
    }

    /// Asserts that no batch comes within `quiet` (keep-alive comments may).
    async fn nothing_within(&mut self, quiet: Duration) {
        let deadline = Instant::now() + quiet;
        let mut buf = [0u8; 4096];
        while let Ok(read) = tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await {
            let n = read.expect("read");
            assert!(n > 0, "the answer ended");
            self.take(&buf[..n]);
        }
        let comments_only = self.text.split("\n\n").filter(|b| !b.is_empty()).all(|b| b.starts_with(':'));
        assert!(comments_only, "something came: {:?}", self.text);
    }
}

fn options() -> ApiOptions {
    ApiOptions { subscription_heartbeat: Duration::from_millis(200), ..ApiOptions::default() }
}

// ---------------------------------------------------------------- tests

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_arrives_as_one_batch_message() {
    let server = Server::start(options()).await;
    let Opened::Stream(mut sse, headers) = subscribe(server.addr, "consumer=c&streamType=order", &[]).await else {
        panic!("refused");
    };
    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(header("content-type"), Some("text/event-stream"));
    assert_eq!(header("cache-control"), Some("no-cache"));
    let addr = server.addr;
    let appended = tokio::spawn(async move {
        let body = json!({ "events": [{ "type": "Placed", "data": { "total": 42 } }, { "type": "Paid" }] }).to_string();
        request(addr, "POST /streams/order:1", &[("content-type", "application/json")], &body).await.status
    });
    let message = sse.batch().await;
    assert_eq!(appended.await.unwrap(), 200);
    assert_eq!(message.id.as_deref(), Some("order:1@2"));
    let data = message.json();
    assert_eq!((data["stream"].clone(), data["after"].clone()), (json!("order:1"), json!(0)));
    // The events exactly as the read route gives them.
    assert_eq!(data["events"], Value::Array(server.read_events("order:1").await));
    assert_eq!(data["events"][0]["data"], json!({ "total": 42 }));
    // Streams of other types are not this subscription's.
    server.append("cart:1", &["Added"]).await;
    server.append("order:2", &["Placed"]).await;
    let next = sse.batch().await;
    assert_eq!((next.id.as_deref(), next.positions()), (Some("order:2@1"), vec![1]));
    drop(sse);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_consumer_gets_only_new_events() {
    let server = Server::start(options()).await;
    server.append("order:1", &["A", "B"]).await;
    let mut first = subscribe(server.addr, "consumer=c&streamType=order", &[]).await.stream();
    assert_eq!(first.batch().await.id.as_deref(), Some("order:1@2"));
    // Taken by the answer, so checkpointed (the checkpoint never moves before that).
    server.await_checkpoint("c", "order:1", 2).await;
    drop(first);

    server.append("order:1", &["C"]).await;
    let mut again = subscribe(server.addr, "consumer=c&streamType=order", &[]).await.stream();
    let message = again.batch().await;
    assert_eq!((message.id.as_deref(), message.json()["after"].clone()), (Some("order:1@3"), json!(2)));
    assert_eq!(message.positions(), [3]);
    again.nothing_within(Duration::from_millis(300)).await;
    drop(again);

    // Two consumers: each from its own checkpoints; a new one from the start.
    let mut other = subscribe(server.addr, "consumer=d&streamType=order", &[]).await.stream();
    assert_eq!(other.batch().await.positions(), [1, 2, 3]);
    drop(other);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_event_id_holds_back_what_the_client_has() {
    let server = Server::start(options()).await;
    server.append("order:1", &["A", "B", "C"]).await;
    server.append("order:2", &["X"]).await;
    // A consumer without checkpoints, resuming after order:1's second event: the third
    // comes alone; order:2, which the id does not name, whole.
    let mut sse =
        subscribe(server.addr, "consumer=late&streamType=order", &[("last-event-id", "order:1@2")]).await.stream();
    let mut seen = vec![];
    for _ in 0..2 {
        let message = sse.batch().await;
        seen.push((message.id.clone().unwrap(), message.json()["after"].as_u64().unwrap(), message.positions()));
    }
    seen.sort();
    assert_eq!(seen, [("order:1@3".into(), 2, vec![3]), ("order:2@1".into(), 0, vec![1])]);
    server.await_checkpoint("late", "order:1", 3).await;
    drop(sse);

    // An id past everything: nothing of order:1 is sent, and its checkpoint moves past
    // the events held back, as if sent.
    let mut sse =
        subscribe(server.addr, "consumer=later&streamType=order", &[("last-event-id", "order:1@3")]).await.stream();
    assert_eq!(sse.batch().await.id.as_deref(), Some("order:2@1"));
    server.await_checkpoint("later", "order:1", 3).await;
    drop(sse);
    server.append("order:1", &["D"]).await;
    // Reconnected without the id, it resumes from the checkpoints.
    let mut sse = subscribe(server.addr, "consumer=later&streamType=order", &[]).await.stream();
    let message = sse.batch().await;
    assert_eq!((message.id.as_deref(), message.positions()), (Some("order:1@4"), vec![4]));
    drop(sse);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_the_bound_a_subscription_is_a_503_until_a_slot_frees() {
    let server = Server::start(ApiOptions { max_subscriptions: 1, ..options() }).await;
    // Refusals take no slot.
    subscribe(server.addr, "consumer=", &[]).await.refused().problem(400, "invalid-subscription");
    let mut first = subscribe(server.addr, "consumer=a&streamType=order", &[]).await.stream();
    let refused = subscribe(server.addr, "consumer=b&streamType=order", &[]).await.refused();
    let body = refused.problem(503, "too-many-subscriptions");
    assert_eq!(body["limit"], 1);
    let retry: u64 = refused.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!(retry >= 1, "{retry}");
    // The first still works.
    server.append("order:1", &["A"]).await;
    assert_eq!(first.batch().await.id.as_deref(), Some("order:1@1"));
    drop(first);
    // Its slot frees once the server sees the disconnection (at the latest at the next
    // keep-alive comment).
    let deadline = Instant::now() + PATIENCE;
    let mut next = loop {
        match subscribe(server.addr, "consumer=b&streamType=order", &[]).await {
            Opened::Stream(sse, _) => break sse,
            Opened::Refused(resp) => {
                resp.problem(503, "too-many-subscriptions");
                assert!(Instant::now() < deadline, "the slot never freed");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    assert_eq!(next.batch().await.id.as_deref(), Some("order:1@1"));
    drop(next);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_are_typed_400_problems() {
    let server = Server::start(options()).await;
    let addr = server.addr;
    let refused = |query: &'static str| async move { subscribe(addr, query, &[]).await.refused() };
    let detail = |body: &Value| body["detail"].as_str().unwrap().to_owned();

    let body = refused("streamType=order").await.problem(400, "invalid-query");
    assert!(detail(&body).contains("consumer"), "{body}");
    let body = refused("consumer=c&streamType=order&from=3").await.problem(400, "invalid-query");
    assert!(detail(&body).contains("from"), "{body}");
    let body = refused("consumer=c&consumer=d&streamType=order").await.problem(400, "invalid-query");
    assert!(detail(&body).contains("consumer"), "{body}");
    let body = refused("consumer=c&streamType=order&batchSize=many").await.problem(400, "invalid-query");
    assert!(detail(&body).contains("batchSize") || detail(&body).contains("invalid digit"), "{body}");
    let body = refused("consumer=c&streamType=order&source=sometimes").await.problem(400, "invalid-query");
    assert!(detail(&body).contains("changeStream"), "{body}");

    let body = refused("consumer=c&streamType=order&batchSize=0").await.problem(400, "invalid-subscription");
    assert_eq!(body["reason"], "invalidConfig", "{body}");
    let body = refused("consumer=&streamType=order").await.problem(400, "invalid-subscription");
    assert_eq!(body["reason"], "invalidConfig", "{body}");
    // The engine keeps a collection per stream type: a subscription must name one.
    let body = refused("consumer=c").await.problem(400, "invalid-subscription");
    assert_eq!(body["reason"], "streamTypeRequired", "{body}");
    let body = refused("consumer=c&streamType=a%24b").await;
    assert_eq!(body.status, 400, "{}", String::from_utf8_lossy(&body.body));

    for bad in ["order:1", "order:1@x", "@3"] {
        let resp = subscribe(server.addr, "consumer=c&streamType=order", &[("last-event-id", bad)]).await.refused();
        resp.problem(400, "invalid-last-event-id");
    }
    // The valid forms are accepted: every source, a batch size, an empty id.
    for query in ["source=polling&batchSize=1", "source=changeStream", "source=auto"] {
        let sse =
            subscribe(server.addr, &format!("consumer=c&streamType=order&{query}"), &[("last-event-id", "")]).await;
        drop(sse.stream());
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_subscription_sends_keep_alive_comments() {
    let server = Server::start(ApiOptions { subscription_heartbeat: Duration::from_millis(100), ..options() }).await;
    let mut sse = subscribe(server.addr, "consumer=c&streamType=order", &[]).await.stream();
    let started = Instant::now();
    for _ in 0..2 {
        let message = sse.next(Duration::from_secs(2)).await.expect("a comment");
        assert_eq!(message, Message { comments: vec!["keep-alive".into()], ..Message::default() });
    }
    assert!(started.elapsed() >= Duration::from_millis(150), "{:?}", started.elapsed());
    drop(sse);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_batch_size_splits_a_stream_and_polling_delivers_too() {
    let server = Server::start(options()).await;
    server.append("order:1", &["A", "B", "C"]).await;
    let mut sse = subscribe(server.addr, "consumer=c&streamType=order&batchSize=2&source=polling", &[]).await.stream();
    let first = sse.batch().await;
    let second = sse.batch().await;
    assert_eq!((first.id.as_deref(), first.positions()), (Some("order:1@2"), vec![1, 2]));
    assert_eq!((second.id.as_deref(), second.positions()), (Some("order:1@3"), vec![3]));
    assert_eq!(second.json()["after"], 2);
    drop(sse);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutting_down_ends_the_open_subscriptions() {
    let server = Server::start(options()).await;
    let mut sse = subscribe(server.addr, "consumer=c&streamType=order", &[]).await.stream();
    // `stop` fails unless the server finishes while the subscription is open.
    server.stop().await;
    loop {
        match sse.next(PATIENCE).await {
            None => break,
            Some(message) => assert_eq!(message.comments, ["keep-alive"], "{message:?}"),
        }
    }
    assert!(sse.chunks.ended, "the answer ended with its last chunk");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_guards_subscriptions() {
    let server = Server::start(ApiOptions { token: Some("s3cret".into()), ..options() }).await;
    subscribe(server.addr, "consumer=c&streamType=order", &[]).await.refused().problem(401, "unauthorized");
    let auth = [("authorization", "Bearer s3cret")];
    drop(subscribe(server.addr, "consumer=c&streamType=order", &auth).await.stream());
    server.stop().await;
}
