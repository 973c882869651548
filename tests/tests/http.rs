//! The HTTP API of `streamdoc serve` over a real bound port (127.0.0.1:0), on core's
//! in-memory engine AND on the live server of the test run (`MONGODB_URI`; see
//! `streamdoc_tests::live`): every route, every precondition, every bad input — and
//! after each bad input, the stored document is byte-for-byte what it was. The command
//! endpoint (`--command-endpoint`) runs core's appends command by command on both.
//!
//! The client is a few lines of HTTP/1.1 over a `TcpStream`, so that requests can be
//! exactly as malformed as a test needs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use bson::{Bson, Document};
use serde_json::{json, Value};
use streamdoc_core::ops::{Operation, Step};
use streamdoc_core::projection::{EvolveError, InlineProjection};
use streamdoc_core::{
    driver, wire, Command, Error, Executor, ExecutorError, ExpectedVersion, NewEvent, Reply, SeededIds, SteppingClock,
    StoreConfig, StoreContext,
};
use streamdoc_host::http::{self, ApiOptions};
use streamdoc_host::{AnyEventStore, EventStore, RandomIds, ServerInfo, SharedEngine, SystemClock};
use streamdoc_tests::live::{self, Live};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::runtime::{Handle, Runtime};
use tokio::sync::oneshot;

// ---------------------------------------------------------------- harness

fn engine_runtime() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a tokio runtime")
    })
}

fn live_server() -> Option<&'static Live> {
    static LIVE: OnceLock<Option<Live>> = OnceLock::new();
    LIVE.get_or_init(|| live::connect("http")).as_ref()
}

/// A response.
#[derive(Debug)]
struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
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
        assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
        assert!(body["detail"].as_str().is_some_and(|t| !t.is_empty()), "{body}");
        body
    }
}

/// A running API on one store.
struct Api {
    store: &'static str,
    ferretdb: bool,
    mongo_java_server: bool,
    addr: std::net::SocketAddr,
    handle: Handle,
    stop: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Api {
    /// The API on `store`; `server`, when it is a live one, says which deviations apply.
    fn start(
        handle: &Handle,
        store: impl Into<AnyEventStore>,
        options: &ApiOptions,
        server: Option<&ServerInfo>,
    ) -> Self {
        let ferretdb = server.is_some_and(ServerInfo::is_ferretdb);
        let mongo_java_server = server.is_some_and(ServerInfo::is_mongo_java_server);
        let store = store.into();
        let kind = store.executor().kind();
        let app = http::router(store, options);
        let listener = handle.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("a local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let served = handle.spawn(http::serve(listener, app, async {
            let _ = stopped.await;
        }));
        Self {
            store: kind,
            ferretdb,
            mongo_java_server,
            addr,
            handle: handle.clone(),
            stop: Some(stop),
            served: Some(served),
        }
    }

    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        self.handle.block_on(request(self.addr, method, path, headers, body))
    }

    fn get(&self, path: &str) -> Resp {
        self.send("GET", path, &[], b"")
    }

    fn post(&self, path: &str, headers: &[(&str, &str)], body: &Value) -> Resp {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send("POST", path, &all, body.to_string().as_bytes())
    }

    /// The stored document, or `None` (404).
    fn document(&self, stream: &str) -> Option<Value> {
        let resp = self.get(&format!("/streams/{stream}/document"));
        match resp.status {
            200 => Some(resp.json()),
            404 => None,
            other => panic!("document of {stream}: {other} {}", String::from_utf8_lossy(&resp.body)),
        }
    }

    /// Stops the server and waits for it (graceful shutdown).
    fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let (Some(stop), Some(served)) = (self.stop.take(), self.served.take()) {
            let _ = stop.send(());
            self.handle.block_on(served).expect("the server task").expect("the server");
        }
    }
}

impl Drop for Api {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.shutdown();
        }
    }
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`).
async fn request(addr: std::net::SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    let mut head = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.expect("write the head");
    // The server may answer (413) before reading the whole body; a refused write is fine.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> Resp {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or_else(|| {
        panic!("no complete response head in {:?}", String::from_utf8_lossy(raw));
    });
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body);
    }
    Resp { status, headers, body }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..eol]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[eol + 4 + size..];
    }
    out
}

/// Runs `test` against an API on the engine, then on the live server (when there is
/// one; see `streamdoc_tests::live` for when it is skipped).
fn on_each_store(options: ApiOptions, test: impl Fn(&Api)) {
    let engine = EventStore::in_memory(StoreConfig::new("streamdoc")).expect("an engine store");
    let api = Api::start(engine_runtime().handle(), engine, &options, None);
    test(&api);
    api.stop();

    let Some(live) = live_server() else { return };
    let scratch = live.scratch("streamdoc_http");
    let store = live
        .block_on(EventStore::connect(live.uri(), StoreConfig::new(scratch.name())))
        .unwrap_or_else(|e| panic!("connecting to the live server: {e}"));
    let api = Api::start(live.runtime().handle(), store.clone(), &options, Some(live.server()));
    test(&api);
    api.stop();
    live.block_on(store.close());
}

fn events(types: &[&str]) -> Value {
    json!({ "events": types.iter().map(|t| json!({ "type": t, "data": { "t": t } })).collect::<Vec<_>>() })
}

// ---------------------------------------------------------------- routes

#[test]
fn append_then_read_round_trips() {
    on_each_store(ApiOptions::default(), |api| {
        let created = api.post("/streams/order:1", &[], &events(&["Placed", "Paid"]));
        assert_eq!(created.status, 200, "{}", api.store);
        assert_eq!(created.header("etag"), Some("\"2\""));
        assert_eq!(created.json(), json!({ "nextExpectedStreamVersion": 2, "createdNewStream": true }));

        let more = api.post("/streams/order:1", &[], &json!({ "events": [{
            "type": "Shipped", "id": "e-3", "data": { "n": 1, "big": 5_000_000_000_i64, "f": 1.5, "s": "x", "l": [1, null] },
            "metadata": { "by": "alice" } }] }));
        assert_eq!(more.json(), json!({ "nextExpectedStreamVersion": 3, "createdNewStream": false }));

        let read = api.get("/streams/order:1");
        assert_eq!(read.status, 200);
        assert_eq!(read.header("etag"), Some("\"3\""));
        assert_eq!(read.header("content-type"), Some("application/json"));
        let body = read.json();
        assert_eq!(body["streamName"], "order:1");
        assert_eq!(body["currentStreamVersion"], 3);
        assert_eq!(body["streamExists"], true);
        let all = body["events"].as_array().unwrap();
        assert_eq!(all.len(), 3);
        for (i, event) in all.iter().enumerate() {
            assert_eq!(event["metadata"]["streamPosition"], i + 1);
            assert_eq!(event["metadata"]["streamName"], "order:1");
            // Relaxed Extended JSON: a datetime is `{"$date": "<RFC 3339>"}`.
            assert!(event["metadata"]["recordedAt"]["$date"].as_str().is_some_and(|t| t.ends_with('Z')), "{event}");
        }
        assert_eq!(all[0]["type"], "Placed");
        assert_eq!(all[2]["data"], json!({ "n": 1, "big": 5_000_000_000_i64, "f": 1.5, "s": "x", "l": [1, null] }));
        assert_eq!(all[2]["metadata"]["by"], "alice");
        assert_eq!(all[2]["metadata"]["eventId"], "e-3");

        // The stored document, canonical Extended JSON.
        let doc = api.document("order:1").unwrap();
        assert!(doc["_id"]["$oid"].is_string(), "{doc}");
        assert_eq!(doc["streamName"], "order:1");
        assert_eq!(doc["metadata"]["streamPosition"], json!({ "$numberLong": "3" }));
        assert_eq!(doc["metadata"]["streamType"], "order");
        assert_eq!(doc["events"][2]["data"]["big"], json!({ "$numberLong": "5000000000" }));
        assert_eq!(doc["events"][2]["data"]["n"], json!({ "$numberInt": "1" }));
    });
}

/// The HTTP API returns events in core's one recorded-event shape, as the scenario
/// runners do: the same store read through HTTP and through core's read, given by the
/// runner, are the same events (the HTTP API in relaxed Extended JSON, the runner in
/// canonical).
#[test]
fn reads_return_the_runners_event_shape() {
    let store = EventStore::in_memory(StoreConfig::new("streamdoc")).expect("an engine store");
    let api = Api::start(engine_runtime().handle(), store.clone(), &ApiOptions::default(), None);
    let body = json!({ "events": [
        { "id": "e-1", "type": "Placed", "data": { "n": 1, "big": 5_000_000_000_i64, "f": 0.5 }, "metadata": { "by": "ann" } },
        { "id": "e-2", "type": "Paid" },
    ] });
    assert_eq!(api.post("/streams/order:1", &[], &body).status, 200);
    let served = api.get("/streams/order:1").json();
    api.stop();
    let read =
        engine_runtime().block_on(store.read_stream("order:1", streamdoc_core::ReadRange::all())).expect("reads");
    let runner = streamdoc_tests::runner::output_json(&streamdoc_core::OpOutput::Read(read));
    let relaxed: Vec<Value> = runner["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| bson::Bson::try_from(e.clone()).expect("canonical Extended JSON").into_relaxed_extjson())
        .collect();
    assert_eq!(served["events"], Value::Array(relaxed));
    let first = &served["events"][0];
    assert_eq!(first.as_object().unwrap().keys().collect::<Vec<_>>(), ["type", "data", "metadata"]);
    let metadata = first["metadata"].as_object().unwrap().keys().collect::<Vec<_>>();
    assert_eq!(metadata, ["by", "eventId", "streamName", "streamPosition", "recordedAt"]);
}

#[test]
fn reads_take_ranges_and_unknown_streams_are_404() {
    on_each_store(ApiOptions::default(), |api| {
        api.post("/streams/cart:r", &[], &events(&["A", "B", "C", "D", "E"]));
        let positions = |query: &str| -> Vec<u64> {
            let resp = api.get(&format!("/streams/cart:r{query}"));
            assert_eq!(resp.status, 200, "{query}");
            assert_eq!(resp.json()["currentStreamVersion"], 5);
            resp.json()["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["metadata"]["streamPosition"].as_u64().unwrap())
                .collect()
        };
        assert_eq!(positions(""), [1, 2, 3, 4, 5]);
        assert_eq!(positions("?from=2&to=4"), [2, 3, 4]);
        assert_eq!(positions("?from=0&maxCount=2"), [1, 2]);
        assert_eq!(positions("?from=4"), [4, 5]);
        assert_eq!(positions("?from=9"), Vec::<u64>::new());
        assert_eq!(positions("?maxCount=0"), Vec::<u64>::new());

        let backwards = api.get("/streams/cart:r?from=4&to=2").problem(400, "invalid-range");
        assert_eq!((backwards["from"].as_u64(), backwards["to"].as_u64()), (Some(4), Some(2)));
        for query in ["?from=-1", "?from=x", "?maxCount=1.5", "?limit=3", "?to=99999999999999999999999"] {
            api.get(&format!("/streams/cart:r{query}")).problem(400, "invalid-query");
        }

        let missing = api.get("/streams/cart:none").problem(404, "stream-not-found");
        assert_eq!(missing["stream"], "cart:none");
        api.get("/streams/cart:none/document").problem(404, "stream-not-found");
        api.get("/streams/no-colon").problem(400, "invalid-stream-name");
        api.get("/streams/no-colon/document").problem(400, "invalid-stream-name");
    });
}

#[test]
fn preconditions_are_expected_versions_and_a_conflict_is_a_412() {
    on_each_store(ApiOptions::default(), |api| {
        let path = "/streams/order:p";
        // If-Match: * on a missing stream.
        let missing = api.post(path, &[("if-match", "*")], &events(&["A"])).problem(412, "concurrency-conflict");
        assert_eq!((missing["expected"].clone(), missing["actual"].clone()), (json!("streamExists"), Value::Null));
        assert_eq!(api.document("order:p"), None);

        let created = api.post(path, &[("if-none-match", "*")], &events(&["A"]));
        assert_eq!((created.status, created.header("etag")), (200, Some("\"1\"")));
        let again = api.post(path, &[("if-none-match", "*")], &events(&["A"])).problem(412, "concurrency-conflict");
        assert_eq!((again["expected"].clone(), again["actual"].clone()), (json!("noStream"), json!(1)));

        let exact = api.post(path, &[("if-match", "\"1\"")], &events(&["B"]));
        assert_eq!((exact.status, exact.header("etag")), (200, Some("\"2\"")));
        let before = api.document("order:p");
        let stale = api.post(path, &[("if-match", "\"1\"")], &events(&["C"])).problem(412, "concurrency-conflict");
        assert_eq!((stale["expected"].clone(), stale["actual"].clone()), (json!(1), json!(2)));
        assert_eq!(stale["kind"], "ConcurrencyConflict");
        assert_eq!(stale["stream"], "order:p");
        assert_eq!(api.document("order:p"), before, "a failed precondition changed the stream");

        let exists = api.post(path, &[("if-match", "*")], &events(&["C"]));
        assert_eq!((exists.status, exists.header("etag")), (200, Some("\"3\"")));
        // The ETag of a read is the If-Match of the next append.
        let etag = api.get(path).header("etag").unwrap().to_owned();
        assert_eq!(api.post(path, &[("if-match", &etag)], &events(&["D"])).status, 200);
    });
}

#[test]
fn if_match_makes_a_read_conditional_and_a_stale_read_is_a_412() {
    on_each_store(ApiOptions::default(), |api| {
        let path = "/streams/order:r";
        let read = |headers: &[(&str, &str)]| api.send("GET", path, headers, b"");
        // Nothing there yet: If-Match * is a conflict, not a 404.
        let missing = read(&[("if-match", "*")]).problem(412, "concurrency-conflict");
        assert_eq!((missing["expected"].clone(), missing["actual"].clone()), (json!("streamExists"), Value::Null));
        assert_eq!(api.post(path, &[], &events(&["A", "B"])).status, 200);

        let current = read(&[("if-match", "\"2\"")]);
        assert_eq!((current.status, current.header("etag")), (200, Some("\"2\"")));
        assert_eq!(current.json()["events"].as_array().map(Vec::len), Some(2));
        assert_eq!(read(&[("if-match", "*")]).status, 200);
        let stale = read(&[("if-match", "\"1\"")]).problem(412, "concurrency-conflict");
        assert_eq!((stale["expected"].clone(), stale["actual"].clone()), (json!(1), json!(2)));
        // With a range, the check is on the stream's version, not the range's end.
        assert_eq!(api.send("GET", &format!("{path}?to=1"), &[("if-match", "\"2\"")], b"").status, 200);

        read(&[("if-none-match", "*")]).problem(400, "invalid-precondition");
        read(&[("if-match", "W/\"2\"")]).problem(400, "invalid-precondition");
    });
}

#[test]
fn stream_names_are_one_percent_decoded_segment() {
    on_each_store(ApiOptions::default(), |api| {
        for (path, name) in [
            ("order:eu:42", "order:eu:42"),
            ("order%3Aeu%3A43", "order:eu:43"),
            ("order:a%2Fb", "order:a/b"),
            ("order:with%20space", "order:with space"),
            ("order:%C3%A9t%C3%A9", "order:été"),
        ] {
            let resp = api.post(&format!("/streams/{path}"), &[], &events(&["A"]));
            assert_eq!(resp.status, 200, "{path}: {}", String::from_utf8_lossy(&resp.body));
            let read = api.get(&format!("/streams/{path}")).json();
            assert_eq!(read["streamName"], name);
            assert_eq!(read["events"][0]["metadata"]["streamName"], name);
            assert_eq!(api.document(path).unwrap()["streamName"], name);
        }
        api.get("/streams/order:%FF").problem(400, "invalid-stream-name");
        api.post("/streams/%3Aid", &[], &events(&["A"])).problem(400, "invalid-stream-name");
        api.post("/streams/order:", &[], &events(&["A"])).problem(400, "invalid-stream-name");
        api.post("/streams/order:nul%00", &[], &events(&["A"])).problem(400, "invalid-stream-name");
        api.post("/streams/bad$type:1", &[], &events(&["A"])).problem(400, "invalid-stream-name");
        let long = format!("/streams/order:{}", "x".repeat(1000));
        api.post(&long, &[], &events(&["A"])).problem(400, "invalid-stream-name");
        // Two segments are another route.
        api.get("/streams/order/1").problem(404, "not-found");
    });
}

// ---------------------------------------------------------------- bad input

/// What a bad append is, its headers and body, and the status and problem slug expected.
type BadAppend<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<u8>, u16, &'a str);

#[test]
fn bad_input_is_a_4xx_problem_and_changes_nothing() {
    let options = ApiOptions { max_body: 4096, ..ApiOptions::default() };
    on_each_store(options, |api| {
        let path = "/streams/order:bad";
        assert_eq!(api.post(path, &[], &events(&["Placed"])).status, 200);
        let before = api.document("order:bad").expect("the stream exists");
        let json = [("content-type", "application/json")];
        let cases: Vec<BadAppend<'_>> = vec![
            ("malformed JSON", json.to_vec(), b"{\"events\": [".to_vec(), 400, "malformed-json"),
            ("not JSON at all", json.to_vec(), b"events=1".to_vec(), 400, "malformed-json"),
            ("an empty body", json.to_vec(), Vec::new(), 400, "malformed-json"),
            (
                "text/plain",
                vec![("content-type", "text/plain")],
                events(&["A"]).to_string().into_bytes(),
                415,
                "unsupported-media-type",
            ),
            ("no content type", vec![], events(&["A"]).to_string().into_bytes(), 415, "unsupported-media-type"),
            (
                "form data",
                vec![("content-type", "application/x-www-form-urlencoded")],
                b"a=1".to_vec(),
                415,
                "unsupported-media-type",
            ),
            ("no events field", json.to_vec(), b"{}".to_vec(), 400, "invalid-body"),
            ("events not an array", json.to_vec(), br#"{"events": {"type": "A"}}"#.to_vec(), 400, "invalid-body"),
            ("a top-level array", json.to_vec(), br#"[{"type": "A"}]"#.to_vec(), 400, "invalid-body"),
            ("empty events", json.to_vec(), br#"{"events": []}"#.to_vec(), 400, "empty-append"),
            ("a missing type", json.to_vec(), br#"{"events": [{"data": {}}]}"#.to_vec(), 400, "invalid-body"),
            (
                "a type that is not a string",
                json.to_vec(),
                br#"{"events": [{"type": 3}]}"#.to_vec(),
                400,
                "invalid-body",
            ),
            ("an empty type", json.to_vec(), br#"{"events": [{"type": ""}]}"#.to_vec(), 400, "invalid-event"),
            (
                "data an array",
                json.to_vec(),
                br#"{"events": [{"type": "A", "data": [1]}]}"#.to_vec(),
                400,
                "invalid-body",
            ),
            (
                "data a string",
                json.to_vec(),
                br#"{"events": [{"type": "A", "data": "x"}]}"#.to_vec(),
                400,
                "invalid-body",
            ),
            (
                "data a number",
                json.to_vec(),
                br#"{"events": [{"type": "A", "data": 1}]}"#.to_vec(),
                400,
                "invalid-body",
            ),
            (
                "metadata not an object",
                json.to_vec(),
                br#"{"events": [{"type": "A", "metadata": 1}]}"#.to_vec(),
                400,
                "invalid-body",
            ),
            (
                "a reserved metadata key",
                json.to_vec(),
                br#"{"events": [{"type": "A", "metadata": {"streamPosition": 9}}]}"#.to_vec(),
                400,
                "invalid-event",
            ),
            ("an empty id", json.to_vec(), br#"{"events": [{"type": "A", "id": ""}]}"#.to_vec(), 400, "invalid-event"),
            (
                "a duplicate id",
                json.to_vec(),
                br#"{"events": [{"type": "A", "id": "x"}, {"type": "B", "id": "x"}]}"#.to_vec(),
                400,
                "invalid-event",
            ),
            (
                "an unknown field",
                json.to_vec(),
                br#"{"events": [{"type": "A", "payload": {}}]}"#.to_vec(),
                400,
                "invalid-body",
            ),
            (
                "a good event after a bad one",
                json.to_vec(),
                br#"{"events": [{"type": "A"}, {"type": ""}]}"#.to_vec(),
                400,
                "invalid-event",
            ),
            (
                "a body over --max-body",
                json.to_vec(),
                format!(r#"{{"events": [{{"type": "A", "data": {{"s": "{}"}}}}]}}"#, "x".repeat(5000)).into_bytes(),
                413,
                "body-too-large",
            ),
        ];
        let bad_preconditions = [
            ("if-match", "3"),
            ("if-match", "\"-1\""),
            ("if-match", "W/\"1\""),
            ("if-match", "\"abc\""),
            ("if-match", "\"1\", \"2\""),
            ("if-match", "\"\""),
            ("if-match", "\"18446744073709551616\""),
            ("if-none-match", "\"1\""),
            ("if-none-match", "W/*"),
        ];
        for (what, headers, body, status, slug) in cases {
            let resp = api.send("POST", path, &headers, &body);
            let problem = resp.problem(status, slug);
            assert_eq!(api.document("order:bad").as_ref(), Some(&before), "{what} changed the stream: {problem}");
        }
        for (header, value) in bad_preconditions {
            let resp = api.post(path, &[(header, value)], &events(&["A"]));
            resp.problem(400, "invalid-precondition");
            assert_eq!(api.document("order:bad").as_ref(), Some(&before), "{header}: {value} changed the stream");
        }
        let both = api.post(path, &[("if-match", "\"1\""), ("if-none-match", "*")], &events(&["A"]));
        both.problem(400, "invalid-precondition");
        // Refused appends create nothing either.
        api.post("/streams/order:new", &[], &json!({ "events": [] })).problem(400, "empty-append");
        api.post("/streams/no-colon", &[], &events(&["A"])).problem(400, "invalid-stream-name");
        assert_eq!(api.document("order:new"), None);
        assert_eq!(api.document("order:bad").as_ref(), Some(&before));
    });
}

#[test]
fn keys_with_dollars_and_dots_are_data() {
    on_each_store(ApiOptions::default(), |api| {
        let data =
            json!({ "$set": { "a": 1 }, "price.eur": 3, "nested": { "$in": [1], "x.y": true }, "$oid": "not an id" });
        let resp = api.post("/streams/odd:1", &[], &json!({ "events": [{ "type": "Odd", "data": data }] }));
        if api.ferretdb {
            // FerretDB refuses such keys (tests/DEVIATIONS.md, ferretdb-dollar-and-dotted-keys).
            let problem = resp.problem(422, "refused-by-server");
            assert_eq!(problem["code"], 2, "{problem}");
            assert_eq!(api.document("odd:1"), None, "a refused append stored something");
            return;
        }
        assert_eq!(resp.status, 200, "{}: {}", api.store, String::from_utf8_lossy(&resp.body));
        assert_eq!(api.get("/streams/odd:1").json()["events"][0]["data"], data);
        let stored = &api.document("odd:1").unwrap()["events"][0]["data"];
        assert_eq!(stored["$oid"], "not an id");
        assert_eq!(stored["price.eur"], json!({ "$numberInt": "3" }));
        assert_eq!(stored["nested"]["x.y"], true);
    });
}

#[test]
fn a_stream_past_16_mib_is_refused_and_unchanged() {
    let options = ApiOptions { max_body: 10 * 1024 * 1024, ..ApiOptions::default() };
    on_each_store(options, |api| {
        let big = |t: &str| json!({ "events": [{ "type": t, "data": { "blob": "x".repeat(9 * 1024 * 1024) } }] });
        assert_eq!(api.post("/streams/big:1", &[], &big("First")).status, 200);
        let before = api.get("/streams/big:1").header("etag").map(str::to_owned);
        let resp = api.post("/streams/big:1", &[], &big("Second"));
        if (api.ferretdb || api.mongo_java_server) && resp.status == 200 {
            // Neither enforces the limit (tests/DEVIATIONS.md, ferretdb-no-16-mib-limit,
            // mongo-java-server-no-16-mib-limit).
            return;
        }
        if api.mongo_java_server && resp.status == 503 {
            // It drops the connection instead (mongo-java-server-drops-oversized-commands):
            // the outcome is unknown, and said so.
            assert!(resp.json()["detail"].as_str().unwrap().contains("I/O error"), "{}", resp.json());
            return;
        }
        let problem = resp.problem(422, "stream-too-large");
        assert_eq!(problem["limitBytes"], 16 * 1024 * 1024);
        assert!(problem["detail"].as_str().unwrap().contains("16777216"), "{problem}");
        let after = api.get("/streams/big:1?maxCount=0");
        assert_eq!(after.header("etag").map(str::to_owned), before);
        assert_eq!(after.json()["currentStreamVersion"], 1);
    });
}

// ---------------------------------------------------------------- archive and close

/// Archiving and closing the books answer alike on the engine and on the live server:
/// the same results, the same 409 `stream-archived` for a late append, the archive read,
/// the statuses, and a close into an existing successor refused with nothing archived.
#[test]
fn archive_close_and_status_answer_alike_on_each_store() {
    on_each_store(ApiOptions::default(), |api| {
        let status = |stream: &str| {
            let resp = api.get(&format!("/streams/{stream}/status"));
            assert_eq!(resp.status, 200, "{}: {}", api.store, String::from_utf8_lossy(&resp.body));
            resp.json()
        };
        assert_eq!(api.post("/streams/order:1", &[], &events(&["Placed", "Paid"])).status, 200);
        let archive = |headers: &[(&str, &str)]| api.send("POST", "/streams/order:1/archive", headers, b"");
        for headers in [&[("if-match", "\"2\"")][..], &[]] {
            let archived = archive(headers);
            assert_eq!((archived.status, archived.json()), (200, json!({ "streamPosition": 2 })), "{}", api.store);
        }
        let late = api.post("/streams/order:1", &[], &events(&["Shipped"]));
        let body = late.problem(409, "stream-archived");
        assert_eq!((body["position"].clone(), body["successor"].clone()), (json!(2), Value::Null));
        let late = api.post("/streams/order:1", &[("if-match", "\"2\"")], &events(&["Shipped"]));
        assert_eq!(late.problem(409, "stream-archived")["position"], 2);
        api.get("/streams/order:1").problem(409, "stream-archived");
        let read = api.get("/streams/order:1?fromArchive=true").json();
        let types: Vec<&str> = read["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(types, ["Placed", "Paid"], "{}", api.store);
        assert_eq!(status("order:1"), json!({ "state": "archived", "streamPosition": 2 }));

        let close = |stream: &str, successor: &str| {
            let body = json!({ "successor": successor, "summary": { "type": "Opened", "data": { "balance": 12 } } });
            api.post(&format!("/streams/{stream}/close"), &[], &body)
        };
        assert_eq!(api.post("/streams/account:1", &[], &events(&["Deposited"])).status, 200);
        assert_eq!(api.post("/streams/account:3", &[], &events(&["Opened"])).status, 200);
        let before = api.document("account:1");
        let refused = close("account:1", "account:3").problem(412, "concurrency-conflict");
        assert_eq!((refused["stream"].clone(), refused["actual"].clone()), (json!("account:3"), json!(1)));
        assert_eq!(api.document("account:1"), before, "{}: nothing was sealed", api.store);
        assert_eq!(status("account:1")["state"], "live");

        let closed = close("account:1", "account:2");
        assert_eq!(closed.status, 200, "{}: {}", api.store, String::from_utf8_lossy(&closed.body));
        assert_eq!(closed.json(), json!({ "closedAt": 1, "successor": "account:2", "nextExpectedStreamVersion": 1 }));
        assert_eq!(status("account:1"), json!({ "state": "archived", "streamPosition": 1, "successor": "account:2" }));
        assert_eq!(
            status("account:2"),
            json!({ "state": "live", "streamPosition": 1,
                    "predecessor": { "streamName": "account:1", "streamPosition": 1 } })
        );
        let next = api.get("/streams/account:2").json();
        assert_eq!(next["events"][0]["data"], json!({ "balance": 12 }), "{}", api.store);
        let late = api.post("/streams/account:1", &[], &events(&["Deposited"])).problem(409, "stream-archived");
        assert_eq!(late["successor"], "account:2");
    });
}

// ---------------------------------------------------------------- the rest

#[test]
fn the_token_guards_the_stream_routes_only() {
    let options = ApiOptions { token: Some("s3cret-token".into()), ..ApiOptions::default() };
    on_each_store(options, |api| {
        let body = events(&["A"]).to_string();
        let post = |auth: Option<&str>| {
            let mut headers = vec![("content-type", "application/json")];
            if let Some(a) = auth {
                headers.push(("authorization", a));
            }
            api.send("POST", "/streams/sec:1", &headers, body.as_bytes())
        };
        for auth in [
            None,
            Some("Bearer wrong"),
            Some("Bearer s3cret-toke"),
            Some("Basic czNjcmV0LXRva2Vu"),
            Some("s3cret-token"),
        ] {
            let resp = post(auth);
            resp.problem(401, "unauthorized");
            assert_eq!(resp.header("www-authenticate"), Some("Bearer"));
        }
        assert_eq!(post(Some("Bearer s3cret-token")).status, 200);
        assert_eq!(post(Some("bearer s3cret-token")).status, 200);
        api.get("/streams/sec:1").problem(401, "unauthorized");
        api.get("/streams/sec:1/document").problem(401, "unauthorized");
        for path in ["/streams/sec:1/projections/p", "/projections/sec/p", "/projections/sec/p/count"] {
            api.get(path).problem(401, "unauthorized");
        }
        for path in ["/streams/sec:1/projections/rebuild", "/projections/sec/rebuild"] {
            api.send("POST", path, &[], b"").problem(401, "unauthorized");
        }
        let auth = [("authorization", "Bearer s3cret-token")];
        assert_eq!(api.send("GET", "/projections/sec/p/count", &auth, b"").json()["count"], 0);
        assert_eq!(api.send("GET", "/streams/sec:1", &auth, b"").json()["currentStreamVersion"], 2);
        assert_eq!(api.send("GET", "/streams/sec:1/document", &auth, b"").status, 200);
        assert_eq!(api.get("/health").status, 200);
        assert_eq!(api.get("/openapi.json").status, 200);
    });
}

#[test]
fn health_reports_the_store() {
    on_each_store(ApiOptions::default(), |api| {
        let resp = api.get("/health");
        assert_eq!(resp.status, 200);
        let body = resp.json();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["store"], api.store);
        if api.store == "mongodb" {
            assert!(body["server"].as_str().is_some_and(|s| !s.is_empty()), "{body}");
            assert_eq!(body["warning"].is_string(), api.ferretdb, "{body}");
        }
    });
}

#[test]
fn the_openapi_document_matches_the_real_routes() {
    on_each_store(ApiOptions::default(), |api| {
        let doc = api.get("/openapi.json").json();
        assert_eq!(doc["openapi"], "3.1.0");
        let documented = http::openapi::operations(&doc);
        let mut routes: Vec<(String, String)> = http::ROUTES.iter().map(|(m, p)| ((*m).into(), (*p).into())).collect();
        routes.sort();
        assert_eq!(documented, routes);
        // Every documented operation is answered by its route (not the fallback), and
        // every other method on a documented path is a 405 problem.
        let concrete = |path: &str| {
            path.replace("{streamName}", "doc:1")
                .replace("{database}", "scratch_doc")
                .replace("{streamType}", "doc")
                .replace("{projection}", "summary")
        };
        for (method, path) in &documented {
            let resp = api.send(
                method,
                &concrete(path),
                &[("content-type", "application/json")],
                b"{\"events\":[{\"type\":\"A\"}]}",
            );
            assert!(
                resp.status < 300 || resp.header("content-type") == Some("application/problem+json"),
                "{method} {path}"
            );
            if resp.status >= 300 {
                let slug = resp.json()["type"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
                assert!(slug != "not-found" && slug != "method-not-allowed", "{method} {path}: {slug}");
            }
        }
        for path in documented.iter().map(|(_, p)| p).collect::<std::collections::BTreeSet<_>>() {
            for method in ["GET", "POST", "PUT", "DELETE", "PATCH"] {
                if !documented.iter().any(|(m, p)| m == method && p == path) {
                    api.send(method, &concrete(path), &[], b"").problem(405, "method-not-allowed");
                }
            }
        }
        api.get("/no/such/route").problem(404, "not-found");
        api.get("/").problem(404, "not-found");
    });
}

#[test]
fn static_files_are_served_and_cors_is_opt_in() {
    let dir = std::env::temp_dir().join(format!("streamdoc-http-web-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("pkg")).unwrap();
    std::fs::write(dir.join("index.html"), "<!doctype html><title>playground</title>").unwrap();
    std::fs::write(dir.join("app.js"), "export const x = 1;").unwrap();
    std::fs::write(dir.join("pkg/m.wasm"), b"\0asm\x01\0\0\0").unwrap();
    let token = Some("t".to_owned());
    let handle = engine_runtime().handle();
    let memory = || EventStore::in_memory(StoreConfig::new("streamdoc")).unwrap();

    let api =
        Api::start(handle, memory(), &ApiOptions { web_dir: Some(dir.clone()), token, ..ApiOptions::default() }, None);
    let index = api.get("/");
    assert_eq!(index.status, 200);
    assert!(index.header("content-type").unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&index.body).contains("playground"));
    assert!(api.get("/app.js").header("content-type").unwrap().contains("javascript"));
    assert_eq!(api.get("/pkg/m.wasm").header("content-type"), Some("application/wasm"));
    api.get("/missing.js").problem(404, "not-found");
    // Every answer says a streamdoc host gave it: a page can ask its own address.
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(api.send("HEAD", "/", &[], b"").header(http::HOST_HEADER), Some(version));
    assert_eq!(api.get("/missing.js").header(http::HOST_HEADER), Some(version));
    assert_eq!(api.get("/health").header(http::HOST_HEADER), Some(version));
    // No CORS headers without --cors-origin.
    let plain = api.send("GET", "/health", &[("origin", "https://elsewhere.example")], b"");
    assert_eq!(plain.header("access-control-allow-origin"), None);
    api.stop();

    let origin = "https://app.example";
    let options = ApiOptions { cors_origins: vec![origin.into()], ..ApiOptions::default() };
    let api = Api::start(handle, memory(), &options, None);
    let preflight = api.send(
        "OPTIONS",
        "/streams/order:1",
        &[
            ("origin", origin),
            ("access-control-request-method", "POST"),
            ("access-control-request-headers", "if-match"),
        ],
        b"",
    );
    assert_eq!(preflight.header("access-control-allow-origin"), Some(origin));
    assert!(preflight.header("access-control-allow-headers").unwrap().contains("if-match"));
    let other = api.send("GET", "/health", &[("origin", "https://elsewhere.example")], b"");
    assert_eq!(other.header("access-control-allow-origin"), None);
    api.stop();
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn shutdown_finishes_the_request_in_flight() {
    let handle = engine_runtime().handle();
    let store = EventStore::in_memory(StoreConfig::new("streamdoc")).unwrap();
    // The router, wrapped to say when a request has reached it: from then on the
    // request is in flight.
    let (arrived, mut arrivals) = tokio::sync::mpsc::unbounded_channel::<()>();
    let app = http::router(store, &ApiOptions::default()).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            let _ = arrived.send(());
            next.run(request)
        },
    ));
    let listener = handle.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let served = handle.spawn(http::serve(listener, app, async {
        let _ = stopped.await;
    }));

    let body = events(&["InFlight"]).to_string();
    let (first, rest) = body.as_bytes().split_at(10);
    let mut conn = handle.block_on(async {
        let mut conn = TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "POST /streams/order:s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        conn.write_all(head.as_bytes()).await.unwrap();
        conn.write_all(first).await.unwrap();
        arrivals.recv().await.expect("the request reaches the router");
        conn
    });
    // The request is in flight, its body half sent. Stop the server, and wait until it
    // no longer accepts connections.
    stop.send(()).unwrap();
    handle.block_on(async {
        while TcpStream::connect(addr).await.is_ok() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    });
    // The request in flight still completes, and the server then stops.
    let raw = handle.block_on(async {
        conn.write_all(rest).await.unwrap();
        let mut raw = Vec::new();
        conn.read_to_end(&mut raw).await.unwrap();
        raw
    });
    let resp = parse_response(&raw);
    assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
    assert_eq!(resp.json()["nextExpectedStreamVersion"], 1);
    handle.block_on(served).unwrap().unwrap();
}

// ---------------------------------------------------------------- the command endpoint

fn command_endpoint() -> ApiOptions {
    ApiOptions { command_endpoint: true, ..ApiOptions::default() }
}

/// A scratch database of its own for one test (the live server is shared), dropped
/// through the endpoint when the test is done.
struct ScratchDatabase<'a> {
    api: &'a Api,
    name: String,
}

impl<'a> ScratchDatabase<'a> {
    fn new(api: &'a Api) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!("scratch_http_{:x}z{:x}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        let scratch = Self { api, name };
        scratch.drop_database();
        scratch
    }

    fn drop_database(&self) -> Resp {
        self.api.send("DELETE", &format!("/commands/databases/{}", self.name), &[], b"")
    }

    /// `GET /commands/documents` of the database.
    fn documents(&self) -> Value {
        let resp = self.api.get(&format!("/commands/documents?database={}", self.name));
        assert_eq!(resp.status, 200, "{}", String::from_utf8_lossy(&resp.body));
        resp.json()
    }
}

impl Drop for ScratchDatabase<'_> {
    fn drop(&mut self) {
        let _ = self.drop_database();
    }
}

/// Core's commands through `POST /commands`, as the playground's host executor sends
/// them; every command and reply in the wire form is kept.
struct HttpExecutor<'a> {
    api: &'a Api,
    log: Vec<(Value, Value)>,
}

impl HttpExecutor<'_> {
    /// Posts one command in the wire form; its reply, which must be a 200.
    fn post(&mut self, command: Value) -> Value {
        let resp = self.api.post("/commands", &[], &command);
        assert_eq!(resp.status, 200, "{command}: {}", String::from_utf8_lossy(&resp.body));
        assert_eq!(resp.header("content-type"), Some("application/json"));
        let reply = resp.json();
        self.log.push((command, reply.clone()));
        reply
    }

    /// The replies to the commands of `kind` since the log was last taken.
    fn replies_to(&mut self, kind: &str) -> Vec<Value> {
        let log = std::mem::take(&mut self.log);
        log.into_iter().filter(|(command, _)| command["kind"] == kind).map(|(_, reply)| reply).collect()
    }
}

impl Executor for HttpExecutor<'_> {
    fn execute(&mut self, command: &Command) -> Result<Reply, ExecutorError> {
        let reply = self.post(wire::command_to_json(command));
        Ok(wire::reply_from_json(&reply).unwrap_or_else(|e| panic!("{reply}: {e}")))
    }
}

fn context(database: &str, seed: u64) -> StoreContext {
    StoreContext::new(StoreConfig::new(database), SteppingClock::new(1_700_000_000_000, 1), SeededIds::new(seed))
        .expect("a store context")
}

fn one(event_type: &str) -> Vec<NewEvent> {
    vec![NewEvent::new(event_type, bson::doc! { "n": 1 })]
}

#[test]
fn the_command_endpoint_is_off_without_the_flag() {
    on_each_store(ApiOptions::default(), |api| {
        // The probe route answers 200 either way, so a page can ask without an error.
        let status = api.get("/commands");
        assert_eq!(status.status, 200);
        assert_eq!(
            status.json(),
            json!({ "enabled": false, "scratchPrefix": "scratch", "tokenRequired": false,
                    "kinds": ["createIndex", "findOne", "find", "count", "updateOne", "insertOne", "deleteOne"] })
        );
        let find = json!({ "kind": "findOne", "database": "scratch_off", "collection": "c", "filter": {} });
        let off = api.post("/commands", &[], &find).problem(404, "command-endpoint-off");
        assert_eq!(off["flag"], "--command-endpoint");
        assert!(off["detail"].as_str().unwrap().contains("--command-endpoint"), "{off}");
        api.get("/commands/documents?database=scratch_off").problem(404, "command-endpoint-off");
        api.send("DELETE", "/commands/databases/scratch_off", &[], b"").problem(404, "command-endpoint-off");
    });
}

/// The playground's way of running an append on the server: core's operation in the
/// page, each of its commands posted to the endpoint — a create, an append, a stale
/// append (nothing matched), and two racing creates (a duplicate key).
#[test]
fn an_append_runs_command_by_command_through_the_endpoint() {
    on_each_store(command_endpoint(), |api| {
        let scratch = ScratchDatabase::new(api);
        let db = scratch.name.as_str();
        let mut http = HttpExecutor { api, log: Vec::new() };
        let (a, stale) = (context(db, 1), context(db, 2));

        let created =
            driver::run(&mut a.append("order:1", one("Placed"), ExpectedVersion::NoStream).unwrap(), &mut http);
        assert!(
            created.as_ref().is_ok_and(|r| r.created_new_stream && r.next_expected_stream_version == 1),
            "{created:?}"
        );
        assert_eq!(http.log[0].1, json!({ "kind": "acknowledged" }), "the unique index first");
        let upserts = http.replies_to("updateOne");
        assert_eq!(upserts.len(), 1, "{upserts:?}");
        assert_eq!(
            (&upserts[0]["kind"], &upserts[0]["matchedCount"], &upserts[0]["modifiedCount"]),
            (&json!("updated"), &json!(0), &json!(0))
        );
        assert!(upserts[0]["upsertedId"]["$oid"].is_string(), "{}", upserts[0]);

        let appended =
            driver::run(&mut a.append("order:1", one("Paid"), ExpectedVersion::Exact(1)).unwrap(), &mut http);
        assert_eq!(appended.map(|r| r.next_expected_stream_version), Ok(2));
        assert_eq!(
            http.replies_to("updateOne"),
            [json!({ "kind": "updated", "matchedCount": 1, "modifiedCount": 1, "upsertedId": null })]
        );

        // A client that saw the stream at 1: its conditional update matches nothing.
        let late =
            driver::run(&mut stale.append("order:1", one("Late"), ExpectedVersion::Exact(1)).unwrap(), &mut http);
        assert!(matches!(late, Err(Error::ConcurrencyConflict { actual: Some(2), .. })), "{late:?}");
        assert_eq!(
            http.replies_to("updateOne"),
            [json!({ "kind": "updated", "matchedCount": 0, "modifiedCount": 0, "upsertedId": null })]
        );

        // Two clients create the same stream, their commands interleaved: the second
        // upsert hits the unique index, and its reply is still a 200.
        let (c, d) = (context(db, 3), context(db, 4));
        let mut ops = [
            c.append("order:2", one("Opened"), ExpectedVersion::NoStream).unwrap(),
            d.append("order:2", one("Opened"), ExpectedVersion::NoStream).unwrap(),
        ];
        let mut results = [None, None];
        while results.iter().any(Option::is_none) {
            for (op, result) in ops.iter_mut().zip(results.iter_mut()).filter(|(_, r)| r.is_none()) {
                match op.next() {
                    Step::Done(done) => *result = Some(done),
                    Step::Send(command) => op.feed(http.execute(&command).unwrap()),
                }
            }
        }
        assert!(matches!(&results[0], Some(Ok(r)) if r.created_new_stream), "{results:?}");
        assert!(matches!(&results[1], Some(Err(Error::ConcurrencyConflict { .. }))), "{results:?}");
        let raced = http.replies_to("updateOne");
        assert_eq!(raced.len(), 2, "{raced:?}");
        assert!(raced[0]["upsertedId"]["$oid"].is_string(), "{raced:?}");
        assert_eq!(raced[1]["kind"], "duplicateKey", "{raced:?}");
        assert!(raced[1]["message"].is_string(), "{raced:?}");

        // The server's documents, beside the page's: the two streams, exactly as a
        // findOne gives them.
        let stored = scratch.documents();
        let namespace = format!("{db}.order");
        assert_eq!(stored.as_object().unwrap().keys().collect::<Vec<_>>(), [&namespace], "{stored}");
        let docs = stored[&namespace].as_array().unwrap();
        assert_eq!(docs.len(), 2);
        for stream in ["order:1", "order:2"] {
            let filter = json!({ "streamName": stream });
            let found =
                http.post(json!({ "kind": "findOne", "database": db, "collection": "order", "filter": filter }));
            let document = &found["document"];
            assert!(docs.contains(document), "{stream}: {found} not in {stored}");
        }
        let first = docs.iter().find(|d| d["streamName"] == "order:1").unwrap();
        assert_eq!(first["metadata"]["streamPosition"], json!({ "$numberLong": "2" }));
        assert_eq!(first["events"].as_array().unwrap().len(), 2);

        // The other kinds, and a server error, which is a 200 too.
        let insert = json!({ "kind": "insertOne", "database": db, "collection": "misc",
                             "document": { "_id": { "$numberInt": "1" }, "f": { "$numberDouble": "1.5" } } });
        assert_eq!(http.post(insert.clone()), json!({ "kind": "inserted", "insertedId": { "$numberInt": "1" } }));
        assert_eq!(http.post(insert)["kind"], "duplicateKey");
        let projected = http.post(json!({ "kind": "findOne", "database": db, "collection": "misc",
                                          "filter": { "_id": 1 }, "projection": { "_id": 0 } }));
        assert_eq!(projected, json!({ "kind": "found", "document": { "f": { "$numberDouble": "1.5" } } }));
        let bad_update = json!({ "kind": "updateOne", "database": db, "collection": "misc", "filter": {},
                                 "update": { "$frobnicate": { "f": 1 } }, "upsert": false });
        let refused = http.post(bad_update);
        assert_eq!(refused["kind"], "serverError", "{refused}");
        assert!(refused["code"].is_i64() && refused["message"].is_string(), "{refused}");
        let delete = json!({ "kind": "deleteOne", "database": db, "collection": "misc", "filter": { "_id": 1 } });
        assert_eq!(http.post(delete), json!({ "kind": "deleted", "deletedCount": 1 }));
        assert_eq!(scratch.documents().as_object().unwrap().len(), 1, "an empty collection is left out");

        let dropped = scratch.drop_database();
        assert_eq!(dropped.status, 204, "{}", String::from_utf8_lossy(&dropped.body));
        assert_eq!(scratch.documents(), json!({}));
        // The store's own streams were never touched.
        assert_eq!(api.document("order:1"), None);
    });
}

#[test]
fn the_command_endpoint_refuses_what_is_not_a_scratch_command() {
    let options = ApiOptions { max_body: 4096, ..command_endpoint() };
    on_each_store(options, |api| {
        assert_eq!(api.post("/streams/order:mine", &[], &events(&["Placed"])).status, 200);
        let before = api.document("order:mine");
        let command =
            |database: &str| json!({ "kind": "deleteOne", "database": database, "collection": "order", "filter": {} });
        for database in ["streamdoc", "admin", "local", "Scratch_x", "my_scratch"] {
            let refused = api.post("/commands", &[], &command(database)).problem(403, "not-a-scratch-database");
            assert_eq!((&refused["database"], &refused["scratchPrefix"]), (&json!(database), &json!("scratch")));
            assert!(refused["detail"].as_str().unwrap().contains("`scratch`"), "{refused}");
            api.get(&format!("/commands/documents?database={database}")).problem(403, "not-a-scratch-database");
            api.send("DELETE", &format!("/commands/databases/{database}"), &[], b"")
                .problem(403, "not-a-scratch-database");
        }
        for database in ["scratch.x", "scratch/x", "scratch x", &format!("scratch{}", "x".repeat(60))] {
            api.post("/commands", &[], &command(database)).problem(400, "invalid-database");
        }
        api.send("DELETE", "/commands/databases/scratch%2Ex", &[], b"").problem(400, "invalid-database");
        let json = [("content-type", "application/json")];
        let drop = json!({ "kind": "dropDatabase", "database": "scratch_x", "collection": "c" });
        let unknown = api.post("/commands", &[], &drop).problem(400, "invalid-command");
        assert_eq!(unknown["reason"], "unknownKind", "{unknown}");
        assert!(unknown["detail"].as_str().unwrap().contains("createIndex, findOne"), "{unknown}");
        let missing = json!({ "kind": "findOne", "database": "scratch_x", "collection": "c" });
        let problem = api.post("/commands", &[], &missing).problem(400, "invalid-command");
        assert_eq!((&problem["reason"], &problem["field"]), (&json!("missingField"), &json!("filter")));
        let wrong =
            json!({ "kind": "updateOne", "database": "scratch_x", "collection": "c", "filter": {}, "update": [] });
        assert_eq!(api.post("/commands", &[], &wrong).problem(400, "invalid-command")["reason"], "wrongType");
        for body in [&b"[]"[..], b"\"findOne\"", b"{}"] {
            api.send("POST", "/commands", &json, body).problem(400, "invalid-command");
        }
        api.send("POST", "/commands", &json, b"{\"kind\": ").problem(400, "malformed-json");
        api.send("POST", "/commands", &json, b"").problem(400, "malformed-json");
        let text = [("content-type", "text/plain")];
        api.send("POST", "/commands", &text, command("scratch_x").to_string().as_bytes())
            .problem(415, "unsupported-media-type");
        let big = json!({ "kind": "insertOne", "database": "scratch_x", "collection": "c",
                          "document": { "s": "x".repeat(5000) } });
        api.post("/commands", &[], &big).problem(413, "body-too-large");
        api.get("/commands/documents").problem(400, "invalid-query");
        api.get("/commands/documents?database=scratch_x&collection=c").problem(400, "invalid-query");
        assert_eq!(api.document("order:mine"), before, "a refused command changed the store");
    });
}

/// Even a store whose own database has the scratch prefix is out of the endpoint's reach.
#[test]
fn the_stores_own_database_is_refused_whatever_its_name() {
    let store = EventStore::in_memory(StoreConfig::new("scratch_store")).expect("an engine store");
    let api = Api::start(engine_runtime().handle(), store, &command_endpoint(), None);
    assert_eq!(api.post("/streams/order:1", &[], &events(&["Placed"])).status, 200);
    let delete = json!({ "kind": "deleteOne", "database": "scratch_store", "collection": "order", "filter": {} });
    let refused = api.post("/commands", &[], &delete).problem(403, "not-a-scratch-database");
    assert!(refused["detail"].as_str().unwrap().contains("own store"), "{refused}");
    api.get("/commands/documents?database=scratch_store").problem(403, "not-a-scratch-database");
    api.send("DELETE", "/commands/databases/scratch_store", &[], b"").problem(403, "not-a-scratch-database");
    assert!(api.document("order:1").is_some());
    api.stop();
}

#[test]
fn the_command_endpoint_requires_the_token() {
    let options = ApiOptions { token: Some("s3cret-token".into()), ..command_endpoint() };
    on_each_store(options, |api| {
        let status = api.get("/commands");
        assert_eq!(status.status, 200, "the status needs no token");
        assert_eq!(
            (status.json()["enabled"].clone(), status.json()["tokenRequired"].clone()),
            (json!(true), json!(true))
        );
        let database = format!("scratch_token_{:x}", std::process::id());
        let find = json!({ "kind": "findOne", "database": database, "collection": "c", "filter": {} });
        let documents = format!("/commands/documents?database={database}");
        let dropped = format!("/commands/databases/{database}");
        api.post("/commands", &[], &find).problem(401, "unauthorized");
        api.post("/commands", &[("authorization", "Bearer wrong")], &find).problem(401, "unauthorized");
        api.get(&documents).problem(401, "unauthorized");
        api.send("DELETE", &dropped, &[], b"").problem(401, "unauthorized");
        let auth = [("authorization", "Bearer s3cret-token")];
        let found = api.post("/commands", &auth, &find);
        assert_eq!((found.status, found.json()), (200, json!({ "kind": "found", "document": null })));
        assert_eq!(api.send("GET", &documents, &auth, b"").json(), json!({}));
        assert_eq!(api.send("DELETE", &dropped, &auth, b"").status, 204);
    });
}

// ---------------------------------------------------------------- read models

/// The carts' read model: the total of their items' prices, how many there are, the
/// status, and a discount once one is given (so that some read models lack the field).
/// `Forget` deletes the read model; `Poison` makes the projection fail.
fn summary() -> InlineProjection {
    let handles = ["ItemAdded", "DiscountGiven", "Closed", "Forget", "Poison"];
    InlineProjection::new("summary", handles, |state: Option<Document>, event| {
        let mut state = state.unwrap_or_else(|| bson::doc! { "total": 0_i64, "items": 0, "status": "open" });
        let number = |key: &str| match event.data.get(key) {
            Some(Bson::Int32(n)) => i64::from(*n),
            Some(Bson::Int64(n)) => *n,
            _ => 0,
        };
        match event.event_type.as_str() {
            "ItemAdded" => {
                let total = state.get_i64("total").unwrap_or(0) + number("price");
                let items = state.get_i32("items").unwrap_or(0) + 1;
                state.insert("total", total);
                state.insert("items", items);
            }
            "DiscountGiven" => {
                state.insert("discount", number("percent"));
            }
            "Closed" => {
                state.insert("status", "closed");
            }
            "Forget" => return Ok(None),
            _ => return Err(EvolveError(format!("cannot fold {}", event.event_type))),
        }
        Ok(Some(state))
    })
    .for_stream_types(["cart"])
}

/// Two APIs on the same streams, on the engine and then on the live server: `app`'s
/// store defines the `summary` projection (an application built on the library),
/// `serve`'s defines none (as `streamdoc serve`, which has no projection code). An
/// append through `serve` leaves the read models as they were.
fn on_each_store_with_projections(test: impl Fn(&Api, &Api)) {
    let options = ApiOptions::default();
    let with = |database: &str| StoreConfig::new(database).with_projection(summary());
    let context = |config: StoreConfig| StoreContext::new(config, SystemClock, RandomIds).expect("a store context");
    let engine = SharedEngine::new(0);
    let handle = engine_runtime().handle();
    let app = Api::start(handle, EventStore::new(context(with("streamdoc")), engine.clone()), &options, None);
    let serve = Api::start(handle, EventStore::new(context(StoreConfig::new("streamdoc")), engine), &options, None);
    test(&app, &serve);
    app.stop();
    serve.stop();

    let Some(live) = live_server() else { return };
    let scratch = live.scratch("streamdoc_http");
    let client = live.executor().client().clone();
    let store = |config| live.block_on(EventStore::with_client(client.clone(), config)).expect("a live store");
    let handle = live.runtime().handle();
    let app = Api::start(handle, store(with(scratch.name())), &options, Some(live.server()));
    let serve = Api::start(handle, store(StoreConfig::new(scratch.name())), &options, Some(live.server()));
    test(&app, &serve);
    app.stop();
    serve.stop();
}

fn item(price: i64) -> Value {
    json!({ "type": "ItemAdded", "data": { "price": price } })
}

fn append(api: &Api, stream: &str, events: Vec<Value>) {
    let resp = api.post(&format!("/streams/{stream}"), &[], &json!({ "events": events }));
    assert_eq!(resp.status, 200, "{stream}: {}", String::from_utf8_lossy(&resp.body));
}

/// Every byte but the unreserved ones percent-encoded, as a query parameter's value.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The stream names of a query's answer, in order.
fn stream_names(body: &Value) -> Vec<String> {
    let models = body["readModels"].as_array().unwrap_or_else(|| panic!("no readModels in {body}"));
    models.iter().map(|m| m["streamName"].as_str().expect("a stream name").to_owned()).collect()
}

/// The read model of `stream`, or the problem's status.
fn read_model(api: &Api, stream: &str) -> Result<Value, u16> {
    let resp = api.get(&format!("/streams/{stream}/projections/summary"));
    match resp.status {
        200 => Ok(resp.json()),
        _ => Err(resp.problem(404, "read-model-not-found")["status"].as_u64().unwrap_or(0) as u16),
    }
}

#[test]
fn appends_through_the_api_write_the_read_models() {
    on_each_store_with_projections(|app, serve| {
        append(app, "cart:1", vec![item(10), item(5)]);
        let resp = app.get("/streams/cart:1/projections/summary");
        assert_eq!((resp.status, resp.header("content-type")), (200, Some("application/json")));
        let expected = json!({ "total": 15, "items": 2, "status": "open",
            "_metadata": { "streamId": "1", "name": "summary", "schemaVersion": 1, "streamPosition": 2 } });
        assert_eq!(resp.json(), expected);
        // In the stream document, beside the events, with its BSON types.
        let stored = &app.document("cart:1").unwrap()["projections"]["summary"];
        assert_eq!(stored["total"], json!({ "$numberLong": "15" }));
        assert_eq!(stored["_metadata"]["streamPosition"], json!({ "$numberLong": "2" }));
        // A store without the projection reads it all the same.
        assert_eq!(serve.get("/streams/cart:1/projections/summary").json(), expected);

        // Nothing to find: no stream, no such projection, a type the projection skips.
        append(app, "order:1", vec![item(1)]);
        for path in ["cart:none/projections/summary", "cart:1/projections/other", "order:1/projections/summary"] {
            let missing = app.get(&format!("/streams/{path}")).problem(404, "read-model-not-found");
            assert!(missing["stream"].is_string() && missing["projection"].is_string(), "{missing}");
        }
        app.get("/streams/no-colon/projections/summary").problem(400, "invalid-stream-name");
        for name in ["%24x", "a.b"] {
            let bad = app.get(&format!("/streams/cart:1/projections/{name}")).problem(400, "invalid-read-model-query");
            assert_eq!(bad["reason"], "invalidProjectionName", "{bad}");
        }
        serve.get("/streams/cart:1/projections/a.b").problem(400, "invalid-read-model-query");

        // A projection that cannot fold an event refuses the append: nothing is written.
        let before = app.document("cart:1");
        let poison = json!({ "events": [item(1), { "type": "Poison" }] });
        let failed = app.post("/streams/cart:1", &[], &poison).problem(422, "projection-failed");
        assert_eq!(
            (&failed["kind"], &failed["projection"], &failed["stream"]),
            (&json!("Projection"), &json!("summary"), &json!("cart:1"))
        );
        assert!(failed["message"].as_str().unwrap().contains("cannot fold Poison"), "{failed}");
        assert_eq!(app.document("cart:1"), before, "a failed projection changed the stream");

        // One that deletes its read model: gone, while the stream goes on.
        append(app, "cart:1", vec![json!({ "type": "Forget" })]);
        assert_eq!(read_model(app, "cart:1"), Err(404));
        assert_eq!(app.get("/streams/cart:1").json()["currentStreamVersion"], 3);
        append(app, "cart:1", vec![item(4)]);
        assert_eq!(read_model(app, "cart:1").unwrap()["total"], 4, "started again from the initial state");
    });
}

#[test]
fn read_models_are_queried_filtered_sorted_paged_and_counted() {
    on_each_store_with_projections(|app, serve| {
        let discount = |percent: i64| json!({ "type": "DiscountGiven", "data": { "percent": percent } });
        append(app, "cart:a", vec![item(10)]);
        append(app, "cart:b", vec![item(30), discount(5)]);
        append(app, "cart:c", vec![item(20), json!({ "type": "Closed" })]);
        append(app, "cart:d", vec![item(10), item(20)]);
        append(app, "cart:e", vec![item(5), discount(10)]);
        append(app, "cart:x,y", vec![item(1), json!({ "type": "Closed" })]);
        append(app, "order:a", vec![item(99)]);
        let query = |api: &Api, params: &[(&str, &str)]| -> Value {
            let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={}", encoded(v))).collect();
            let resp = api.get(&format!("/projections/cart/summary?{}", query.join("&")));
            assert_eq!(resp.status, 200, "{params:?}: {}", String::from_utf8_lossy(&resp.body));
            resp.json()
        };
        let names = |params: &[(&str, &str)]| stream_names(&query(app, params));

        // The whole answer: every read model of the type, by stream name.
        let all = query(app, &[]);
        assert_eq!((&all["streamType"], &all["projection"]), (&json!("cart"), &json!("summary")));
        let models = all["readModels"].as_array().unwrap();
        assert_eq!(models.len(), 6, "{all}");
        assert_eq!(
            models[1],
            json!({ "streamName": "cart:b", "readModel": { "total": 30, "items": 1, "status": "open",
            "discount": 5, "_metadata": { "streamId": "b", "name": "summary", "schemaVersion": 1, "streamPosition": 2 } } })
        );
        assert_eq!(query(serve, &[]), all, "queries need no registered projection");

        assert_eq!(names(&[("filter", r#"{"status":"open"}"#)]), ["cart:a", "cart:b", "cart:d", "cart:e"]);
        assert_eq!(names(&[("filter", r#"{"total":{"$gte":20}}"#)]), ["cart:b", "cart:c", "cart:d"]);
        assert_eq!(
            names(&[("filter", r#"{"$or":[{"status":"closed"},{"discount":{"$exists":true}}]}"#)]),
            ["cart:b", "cart:c", "cart:e", "cart:x,y"]
        );
        // Sorted, ties by stream name; missing fields first ascending, last descending.
        assert_eq!(
            names(&[("sort", r#"{"total":-1}"#)]),
            ["cart:b", "cart:d", "cart:c", "cart:a", "cart:e", "cart:x,y"]
        );
        assert_eq!(
            names(&[("sort", r#"{"discount":1}"#)]),
            ["cart:a", "cart:c", "cart:d", "cart:x,y", "cart:b", "cart:e"]
        );
        assert_eq!(
            names(&[("sort", r#"{"discount":-1}"#)]),
            ["cart:e", "cart:b", "cart:a", "cart:c", "cart:d", "cart:x,y"]
        );
        assert_eq!(
            names(&[("sort", r#"{"status":1,"items":-1}"#)]),
            ["cart:c", "cart:x,y", "cart:d", "cart:a", "cart:b", "cart:e"]
        );
        // Paged after the sort; a limit of 0 is none.
        let page = [("filter", r#"{"status":"open"}"#), ("sort", r#"{"total":-1}"#), ("skip", "1"), ("limit", "2")];
        assert_eq!(names(&page), ["cart:d", "cart:a"]);
        assert_eq!(names(&[("skip", "5"), ("limit", "0")]), ["cart:x,y"]);
        assert_eq!(names(&[("skip", "9")]), Vec::<String>::new());
        // Named streams: comma separated, repeated, `%2C` a comma inside a name.
        let resp =
            app.get("/projections/cart/summary?streams=cart:a,cart:c&streams=cart:x%2Cy&streams=cart:zz,order:a");
        assert_eq!(stream_names(&resp.json()), ["cart:a", "cart:c", "cart:x,y"]);
        assert_eq!(names(&[("streams", "")]), Vec::<String>::new(), "given but empty: none");
        assert_eq!(app.get("/projections/cart/other").json()["readModels"], json!([]));
        assert_eq!(
            app.get("/projections/order/summary").json()["readModels"],
            json!([]),
            "order streams have no summary"
        );

        // Counts, their skip and limit applied.
        let count = |params: &str| -> Value {
            let resp = app.get(&format!("/projections/cart/summary/count{params}"));
            assert_eq!(resp.status, 200, "{params}: {}", String::from_utf8_lossy(&resp.body));
            resp.json()
        };
        assert_eq!(count(""), json!({ "streamType": "cart", "projection": "summary", "count": 6 }));
        let open = format!("filter={}", encoded(r#"{"status":"open"}"#));
        assert_eq!(count(&format!("?{open}"))["count"], 4);
        assert_eq!(count(&format!("?{open}&skip=1&limit=2"))["count"], 2);
        assert_eq!(count(&format!("?{open}&skip=3&limit=0"))["count"], 1);
        assert_eq!(count("?streams=cart:a,cart:b,cart:nope")["count"], 2);
        assert_eq!(serve.get("/projections/cart/summary/count").json()["count"], 6);

        // Query strings that cannot be read.
        for bad in [
            "filter=%7B",
            "filter=%5B1%5D",
            "filter=1",
            "sort=x",
            "skip=-1",
            "limit=1.5",
            "from=1",
            "skip=1&skip=2",
            "filter=%FF",
        ] {
            app.get(&format!("/projections/cart/summary?{bad}")).problem(400, "invalid-query");
        }
        app.get("/projections/cart/summary/count?sort=%7B%7D").problem(400, "invalid-query");
        // Queries core refuses before sending anything.
        let refused = |params: &str| {
            app.get(&format!("/projections/cart/summary?{params}")).problem(400, "invalid-read-model-query")
        };
        let r#where = refused(&format!("filter={}", encoded(r#"{"$where":"this.total > 1"}"#)));
        assert_eq!(
            (&r#where["kind"], &r#where["reason"], &r#where["operator"]),
            (&json!("InvalidQuery"), &json!("unsupportedOperator"), &json!("$where"))
        );
        assert_eq!(refused(&format!("filter={}", encoded(r#"{"$expr":{"$gt":["$total",1]}}"#)))["operator"], "$expr");
        assert_eq!(refused(&format!("filter={}", encoded(r#"{"$or":[]}"#)))["reason"], "invalidLogicalOperator");
        assert_eq!(refused(&format!("sort={}", encoded(r#"{"total":2}"#)))["reason"], "invalidSortDirection");
        assert_eq!(refused(&format!("sort={}", encoded(r#"{"$total":1}"#)))["reason"], "invalidPath");
        assert_eq!(
            app.get("/projections/cart/%24p/count").problem(400, "invalid-read-model-query")["reason"],
            "invalidProjectionName"
        );
        app.get("/projections/bad$type/summary").problem(400, "invalid-stream-name");
        // A query the server refuses is the caller's (400), not a failing server.
        let frob = app.get(&format!("/projections/cart/summary?filter={}", encoded(r#"{"total":{"$frob":1}}"#)));
        let frob = frob.problem(400, "refused-query");
        assert_eq!(frob["code"], 2, "{frob}");
        let regex = app.get(&format!("/projections/cart/summary?filter={}", encoded(r#"{"status":{"$regex":"^cl"}}"#)));
        if app.store == "memory" {
            // The engine has no $regex (core's engine/filter.rs).
            assert_eq!(regex.problem(501, "query-operator-unsupported")["code"], 238);
        } else {
            assert_eq!(stream_names(&regex.json()), ["cart:c", "cart:x,y"]);
        }
    });
}

#[test]
fn read_models_are_rebuilt_from_their_events() {
    on_each_store_with_projections(|app, serve| {
        // Events appended by a store without the projection: no read model yet.
        append(serve, "cart:r", vec![item(7)]);
        assert_eq!(read_model(app, "cart:r"), Err(404));
        let rebuild = |api: &Api, stream: &str, body: Option<&Value>| match body {
            Some(body) => api.post(&format!("/streams/{stream}/projections/rebuild"), &[], body),
            None => api.send("POST", &format!("/streams/{stream}/projections/rebuild"), &[], b""),
        };
        let rebuilt = rebuild(app, "cart:r", None);
        assert_eq!(rebuilt.status, 200, "{}", String::from_utf8_lossy(&rebuilt.body));
        assert_eq!(rebuilt.json(), json!({ "streamName": "cart:r", "streamExists": true, "streamPosition": 1 }));
        let model = read_model(app, "cart:r").unwrap();
        assert_eq!((&model["total"], &model["_metadata"]["streamPosition"]), (&json!(7), &json!(1)));

        // More events the read model does not know of, then a rebuild of that projection.
        append(serve, "cart:r", vec![item(3), json!({ "type": "Closed" })]);
        assert_eq!(read_model(app, "cart:r").unwrap()["_metadata"]["streamPosition"], 1, "stale");
        let named = rebuild(app, "cart:r", Some(&json!({ "projection": "summary" })));
        assert_eq!(named.json(), json!({ "streamName": "cart:r", "streamExists": true, "streamPosition": 3 }));
        let model = read_model(app, "cart:r").unwrap();
        assert_eq!(
            (&model["total"], &model["status"], &model["_metadata"]["streamPosition"]),
            (&json!(10), &json!("closed"), &json!(3))
        );
        assert_eq!(rebuild(app, "cart:r", Some(&json!({}))).json()["streamPosition"], 3);
        assert_eq!(rebuild(app, "cart:r", Some(&json!({ "projection": null }))).status, 200);

        // Nothing to rebuild from, or nothing to rebuild with.
        rebuild(app, "cart:none", None).problem(404, "stream-not-found");
        let unknown =
            rebuild(app, "cart:r", Some(&json!({ "projection": "other" }))).problem(422, "unknown-projection");
        assert_eq!((&unknown["kind"], &unknown["reason"]), (&json!("InvalidConfig"), &json!("invalidProjection")));
        append(app, "order:r", vec![item(1)]);
        rebuild(app, "order:r", None).problem(422, "unknown-projection");
        rebuild(serve, "cart:r", None).problem(422, "unknown-projection");
        rebuild(app, "no-colon", None).problem(400, "invalid-stream-name");
        // Bodies of the wrong kind.
        rebuild(app, "cart:r", Some(&json!({ "projection": 1 }))).problem(400, "invalid-body");
        rebuild(app, "cart:r", Some(&json!({ "projections": "summary" }))).problem(400, "invalid-body");
        rebuild(app, "cart:r", Some(&json!(["summary"]))).problem(400, "invalid-body");
        let json_type = [("content-type", "application/json")];
        app.send("POST", "/streams/cart:r/projections/rebuild", &json_type, b"{").problem(400, "malformed-json");
        let text = [("content-type", "text/plain")];
        app.send("POST", "/streams/cart:r/projections/rebuild", &text, b"summary")
            .problem(415, "unsupported-media-type");

        // Every stream of the type.
        append(serve, "cart:s1", vec![item(1)]);
        append(serve, "cart:s2", vec![item(2), item(2)]);
        assert_eq!(read_model(app, "cart:s2"), Err(404));
        let rebuild_all = |api: &Api, stream_type: &str, body: Option<&Value>| match body {
            Some(body) => api.post(&format!("/projections/{stream_type}/rebuild"), &[], body),
            None => api.send("POST", &format!("/projections/{stream_type}/rebuild"), &[], b""),
        };
        let all = rebuild_all(app, "cart", None);
        assert_eq!(all.status, 200, "{}", String::from_utf8_lossy(&all.body));
        assert_eq!(all.json(), json!({ "streamType": "cart", "streams": 3 }));
        assert_eq!(read_model(app, "cart:s1").unwrap()["total"], 1);
        assert_eq!(read_model(app, "cart:s2").unwrap()["total"], 4);
        assert_eq!(rebuild_all(app, "cart", Some(&json!({ "projection": "summary" }))).json()["streams"], 3);
        rebuild_all(app, "cart", Some(&json!({ "projection": "other" }))).problem(422, "unknown-projection");
        rebuild_all(app, "order", None).problem(422, "unknown-projection");
        rebuild_all(serve, "cart", None).problem(422, "unknown-projection");
        rebuild_all(app, "bad$type", None).problem(400, "invalid-stream-name");
        rebuild_all(app, "cart", Some(&json!({ "x": 1 }))).problem(400, "invalid-body");

        // An event the projection cannot fold: the rebuild fails and writes nothing.
        append(serve, "cart:s3", vec![item(1), json!({ "type": "Poison" })]);
        let before = app.document("cart:s3");
        let failed = rebuild(app, "cart:s3", None).problem(422, "projection-failed");
        assert_eq!(failed["stream"], "cart:s3");
        rebuild_all(app, "cart", None).problem(422, "projection-failed");
        assert_eq!(app.document("cart:s3"), before);
        assert_eq!(read_model(app, "cart:s3"), Err(404));
    });
}
