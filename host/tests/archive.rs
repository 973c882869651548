//! Archiving, closing the books and a stream's status over a real bound port
//! (127.0.0.1:0) on core's in-memory engine: `POST /streams/{name}/archive`,
//! `POST /streams/{name}/close`, `GET /streams/{name}/status`,
//! `GET /streams/{name}?fromArchive=true`, and what an archived stream answers to an
//! append or a live read. After every refused request, the stored documents are checked
//! to be what they were.
//!
//! The client is HTTP/1.1 over a `TcpStream`, as in `subscribe.rs` and the HTTP suite.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use bson::Document;
use serde_json::{json, Value};
use streamdoc_core::StoreConfig;
use streamdoc_host::http::{self, ApiOptions};
use streamdoc_host::{EventStore, SharedEngine};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::timeout;

const PATIENCE: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- harness

struct Server {
    addr: SocketAddr,
    store: EventStore<SharedEngine>,
    stop: Option<oneshot::Sender<()>>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start() -> Self {
        Self::with_config(StoreConfig::new("shop")).await
    }

    async fn with_config(config: StoreConfig) -> Self {
        let store = EventStore::in_memory(config).expect("a store");
        let app = http::router(store.clone(), &ApiOptions::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("a local address");
        let (stop, stopped) = oneshot::channel::<()>();
        let served = tokio::spawn(http::serve(listener, app, async {
            let _ = stopped.await;
        }));
        Self { addr, store, stop: Some(stop), served }
    }

    async fn send(&self, line: &str, headers: &[(&str, &str)], body: &str) -> Resp {
        request(self.addr, line, headers, body).await
    }

    async fn get(&self, path: &str) -> Resp {
        self.send(&format!("GET {path}"), &[], "").await
    }

    async fn post_json(&self, path: &str, headers: &[(&str, &str)], body: &Value) -> Resp {
        let mut all = vec![("content-type", "application/json")];
        all.extend_from_slice(headers);
        self.send(&format!("POST {path}"), &all, &body.to_string()).await
    }

    /// Appends events of these types; asserts a 200.
    async fn append(&self, stream: &str, types: &[&str]) -> Value {
        let resp = self.post_json(&format!("/streams/{stream}"), &[], &events(types)).await;
        assert_eq!(resp.status, 200, "append: {}", resp.text());
        resp.json()
    }

    async fn archive(&self, stream: &str, headers: &[(&str, &str)]) -> Resp {
        self.send(&format!("POST /streams/{stream}/archive"), headers, "").await
    }

    async fn status(&self, stream: &str) -> Value {
        let resp = self.get(&format!("/streams/{stream}/status")).await;
        assert_eq!(resp.status, 200, "{}", resp.text());
        assert_eq!(resp.header("content-type"), Some("application/json"));
        resp.json()
    }

    /// Every stored document of the store's database, by namespace.
    fn documents(&self) -> BTreeMap<String, Vec<Document>> {
        self.store.executor().database_documents("shop")
    }

    async fn stop(mut self) {
        let _ = self.stop.take().expect("running").send(());
        timeout(PATIENCE, self.served).await.expect("the server stops").expect("the task").expect("the server");
    }
}

fn events(types: &[&str]) -> Value {
    json!({ "events": types.iter().map(|t| json!({ "type": t, "data": { "t": t } })).collect::<Vec<_>>() })
}

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

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
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

async fn request(addr: SocketAddr, line: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut head = format!("{line} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if line.starts_with("POST") {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    head.push_str(body);
    let mut stream = TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    timeout(PATIENCE, stream.read_to_end(&mut raw)).await.expect("a whole answer").expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    let text = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("a status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked { dechunk(rest) } else { rest.to_vec() };
    Resp { status, headers, body }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..end]).trim(), 16).expect("a chunk size");
        if size == 0 {
            break;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[end + 2 + size + 2..];
    }
    out
}

fn types(read: &Value) -> Vec<String> {
    read["events"].as_array().expect("events").iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

// ---------------------------------------------------------------- archive

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archived_stream_refuses_appends_and_is_read_from_the_archive() {
    let server = Server::start().await;
    server.append("order:1", &["Placed", "Paid"]).await;

    let archived = server.archive("order:1", &[("if-match", "\"2\"")]).await;
    assert_eq!(archived.status, 200, "{}", archived.text());
    assert_eq!(archived.json(), json!({ "streamPosition": 2 }));
    // The same archive again: the same answer, with or without the precondition.
    for headers in [&[("if-match", "\"2\"")][..], &[]] {
        let again = server.archive("order:1", headers).await;
        assert_eq!((again.status, again.json()), (200, json!({ "streamPosition": 2 })), "{headers:?}");
    }
    let tombstone = server.documents();
    assert_eq!(tombstone["shop.order_archive"].len(), 1, "{tombstone:?}");

    // An append, conditional or not, is a 409 naming where the stream was archived.
    for headers in [&[("if-match", "\"2\"")][..], &[], &[("if-match", "*")]] {
        let late = server.post_json("/streams/order:1", headers, &events(&["Shipped"])).await;
        let body = late.problem(409, "stream-archived");
        assert_eq!((body["kind"].clone(), body["stream"].clone()), (json!("StreamArchived"), json!("order:1")));
        assert_eq!(body["position"], 2, "{body}");
        assert_eq!(body["successor"], Value::Null, "{body}");
    }
    // A live read too; the archive has the events.
    let body = server.get("/streams/order:1").await.problem(409, "stream-archived");
    assert_eq!(body["position"], 2, "{body}");
    let read = server.get("/streams/order:1?fromArchive=true").await;
    assert_eq!(read.status, 200, "{}", read.text());
    assert_eq!(read.header("etag"), Some("\"2\""));
    let read = read.json();
    assert_eq!((read["streamName"].clone(), read["currentStreamVersion"].clone()), (json!("order:1"), json!(2)));
    assert_eq!(types(&read), ["Placed", "Paid"]);
    assert_eq!(read["events"][1]["data"], json!({ "t": "Paid" }));
    assert_eq!(read["events"][1]["metadata"]["streamPosition"], 2);
    // The archive read takes the read's range.
    let ranged = server.get("/streams/order:1?fromArchive=true&from=2").await.json();
    assert_eq!(types(&ranged), ["Paid"]);
    assert_eq!(server.documents(), tombstone, "the refused appends changed nothing");

    let status = server.status("order:1").await;
    assert_eq!(status, json!({ "state": "archived", "streamPosition": 2 }));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_takes_if_match_and_a_missing_stream_is_404_or_412() {
    let server = Server::start().await;
    server.append("order:1", &["Placed", "Paid"]).await;
    let before = server.documents();

    let stale = server.archive("order:1", &[("if-match", "\"1\"")]).await.problem(412, "concurrency-conflict");
    assert_eq!((stale["expected"].clone(), stale["actual"].clone()), (json!(1), json!(2)));
    server.archive("order:1", &[("if-none-match", "*")]).await.problem(400, "invalid-precondition");
    server.archive("order:1", &[("if-match", "2")]).await.problem(400, "invalid-precondition");
    server.archive("no-colon", &[]).await.problem(400, "invalid-stream-name");
    assert_eq!(server.documents(), before, "a refused archive changes nothing");
    assert_eq!(server.status("order:1").await["state"], "live");

    let missing = server.archive("order:9", &[]).await.problem(404, "stream-not-found");
    assert_eq!(missing["stream"], "order:9");
    let missing = server.archive("order:9", &[("if-match", "*")]).await.problem(412, "concurrency-conflict");
    assert_eq!(missing["actual"], Value::Null);
    // Reading the archive of a live or a missing stream: not in the archive.
    for stream in ["order:1", "order:9"] {
        let body = server.get(&format!("/streams/{stream}?fromArchive=true")).await.problem(404, "stream-not-found");
        assert_eq!(body["fromArchive"], true, "{body}");
    }
    // `fromArchive=false` is the live read; a precondition with the archive read, or a
    // value that is not a boolean, is refused.
    assert_eq!(types(&server.get("/streams/order:1?fromArchive=false").await.json()), ["Placed", "Paid"]);
    let conditional = server.send("GET /streams/order:1?fromArchive=true", &[("if-match", "\"2\"")], "").await;
    conditional.problem(400, "invalid-precondition");
    server.get("/streams/order:1?fromArchive=yes").await.problem(400, "invalid-query");
    // GET on the archive route is not a read: the read is the query parameter.
    server.get("/streams/order:1/archive").await.problem(405, "method-not-allowed");
    assert_eq!(server.documents(), before);
    server.stop().await;
}

// ---------------------------------------------------------------- close

fn close_body(successor: &str) -> Value {
    json!({
        "successor": successor,
        "summary": { "type": "OpeningBalance", "data": { "balance": 12 }, "metadata": { "by": "year-end" } }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_the_books_starts_the_successor_with_the_summary() {
    let server = Server::start().await;
    server.append("account:2026", &["Deposited", "Deposited", "Withdrawn"]).await;

    let closed =
        server.post_json("/streams/account:2026/close", &[("if-match", "\"3\"")], &close_body("account:2027")).await;
    assert_eq!(closed.status, 200, "{}", closed.text());
    assert_eq!(closed.json(), json!({ "closedAt": 3, "successor": "account:2027", "nextExpectedStreamVersion": 1 }));

    let next = server.get("/streams/account:2027").await.json();
    assert_eq!(types(&next), ["OpeningBalance"]);
    assert_eq!(next["events"][0]["data"], json!({ "balance": 12 }));
    assert_eq!(next["events"][0]["metadata"]["by"], "year-end");
    assert_eq!(next["events"][0]["metadata"]["eventId"], "closed:account:2026@3", "the default summary id");

    assert_eq!(
        server.status("account:2026").await,
        json!({ "state": "archived", "streamPosition": 3, "successor": "account:2027" })
    );
    assert_eq!(
        server.status("account:2027").await,
        json!({ "state": "live", "streamPosition": 1,
                "predecessor": { "streamName": "account:2026", "streamPosition": 3 } })
    );
    assert_eq!(types(&server.get("/streams/account:2026?fromArchive=true").await.json()).len(), 3);

    // The closed stream names its successor to a late writer.
    let late = server.post_json("/streams/account:2026", &[], &events(&["Deposited"])).await;
    let body = late.problem(409, "stream-archived");
    assert_eq!((body["position"].clone(), body["successor"].clone()), (json!(3), json!("account:2027")));
    // A plain archive of it now is a 409 too (it was closed into a successor).
    let body = server.archive("account:2026", &[]).await.problem(409, "stream-archived");
    assert_eq!(body["successor"], "account:2027");
    // The same close again finishes (and answers) as the first did.
    let again = server.post_json("/streams/account:2026/close", &[], &close_body("account:2027")).await;
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["closedAt"], 3);
    assert_eq!(types(&server.get("/streams/account:2027").await.json()), ["OpeningBalance"]);
    // Into another successor: the stream is archived already.
    let other = server.post_json("/streams/account:2026/close", &[], &close_body("account:2028")).await;
    assert_eq!(other.problem(409, "stream-archived")["successor"], "account:2027");
    assert_eq!(server.status("account:2028").await["state"], "missing");

    // The successor takes appends at the version the close gave.
    let appended = server.post_json("/streams/account:2027", &[("if-match", "\"1\"")], &events(&["Deposited"])).await;
    assert_eq!(appended.status, 200, "{}", appended.text());
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_whose_successor_exists_is_a_412_and_archives_nothing() {
    let server = Server::start().await;
    server.append("account:2026", &["Deposited"]).await;
    server.append("account:2027", &["Opened"]).await;
    let before = server.documents();

    let refused = server.post_json("/streams/account:2026/close", &[], &close_body("account:2027")).await;
    let body = refused.problem(412, "concurrency-conflict");
    assert_eq!(body["stream"], "account:2027", "{body}");
    assert_eq!((body["expected"].clone(), body["actual"].clone()), (json!("noStream"), json!(1)));
    assert_eq!(server.documents(), before, "nothing was sealed, archived or appended");
    assert_eq!(server.status("account:2026").await, json!({ "state": "live", "streamPosition": 1 }));
    assert_eq!(server.status("account:2027").await, json!({ "state": "live", "streamPosition": 1 }));
    // The stream still takes appends.
    let appended = server.post_json("/streams/account:2026", &[("if-match", "\"1\"")], &events(&["Deposited"])).await;
    assert_eq!(appended.status, 200, "{}", appended.text());

    // A stale precondition is a 412 on the stream itself, and a missing stream a 404.
    let before = server.documents();
    let stale =
        server.post_json("/streams/account:2026/close", &[("if-match", "\"1\"")], &close_body("account:3000")).await;
    let body = stale.problem(412, "concurrency-conflict");
    assert_eq!((body["stream"].clone(), body["actual"].clone()), (json!("account:2026"), json!(2)));
    let missing = server.post_json("/streams/account:1999/close", &[], &close_body("account:2000")).await;
    missing.problem(404, "stream-not-found");
    assert_eq!(server.documents(), before);
    assert_eq!(server.status("account:3000").await["state"], "missing");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_close_bodies_are_typed_400s_and_change_nothing() {
    let server = Server::start().await;
    server.append("account:2026", &["Deposited"]).await;
    let before = server.documents();
    let path = "/streams/account:2026/close";
    let post = |body: &'static str| {
        server.send("POST /streams/account:2026/close", &[("content-type", "application/json")], body)
    };

    post("{\"successor\":").await.problem(400, "malformed-json");
    for (body, needle) in [
        ("{}", "missing field `successor`"),
        ("{\"successor\":\"account:2027\"}", "missing field `summary`"),
        ("{\"successor\":\"account:2027\",\"summary\":{}}", "missing field `type`"),
        ("{\"successor\":7,\"summary\":{\"type\":\"S\"}}", "expected a string"),
        ("{\"successor\":\"account:2027\",\"summary\":{\"type\":\"S\",\"data\":[1]}}", "map"),
        ("{\"successor\":\"account:2027\",\"summary\":{\"type\":\"S\"},\"expected\":1}", "unknown field `expected`"),
        ("{\"successor\":\"account:2027\",\"summary\":{\"type\":\"S\",\"extra\":true}}", "unknown field `extra`"),
        ("[]", "not a JSON object"),
        ("[\"account:2027\",{\"type\":\"S\"}]", "the body is not a JSON object"),
        ("{\"successor\":\"account:2027\",\"summary\":[\"S\"]}", "`summary` is not a JSON object"),
    ] {
        let problem = post(body).await.problem(400, "invalid-body");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(needle), "{body}: {detail}");
        assert!(detail.contains("\"successor\": string"), "{body}: the expected shape is named: {detail}");
    }
    let body = post("{\"successor\":\"account:2026\",\"summary\":{\"type\":\"S\"}}").await;
    let body = body.problem(400, "invalid-successor");
    assert_eq!(body["successor"], "account:2026");
    post("{\"successor\":\"no-colon\",\"summary\":{\"type\":\"S\"}}").await.problem(400, "invalid-stream-name");
    post("{\"successor\":\"account:2027\",\"summary\":{\"type\":\"\"}}").await.problem(400, "invalid-event");
    let reserved = "{\"successor\":\"account:2027\",\"summary\":{\"type\":\"S\",\"metadata\":{\"streamName\":\"x\"}}}";
    post(reserved).await.problem(400, "invalid-event");
    let no_json = server.send(&format!("POST {path}"), &[("content-type", "text/plain")], "{}").await;
    no_json.problem(415, "unsupported-media-type");
    let none_match = server.post_json(path, &[("if-none-match", "*")], &close_body("account:2027")).await;
    let body = none_match.problem(400, "invalid-precondition");
    assert!(body["detail"].as_str().unwrap().contains("a close"), "{body}");

    // Nor is an append read from arrays where its objects belong.
    for (body, needle) in [("[[{\"type\":\"A\"}]]", "the body"), ("{\"events\":[[\"A\"]]}", "`events[0]`")] {
        let resp = server.send("POST /streams/account:2026", &[("content-type", "application/json")], body).await;
        let problem = resp.problem(400, "invalid-body");
        assert!(problem["detail"].as_str().unwrap().contains(needle), "{body}: {problem}");
    }
    assert_eq!(server.documents(), before, "a refused close or append changes nothing");
    let fine = "{\"events\":[{\"type\":\"A\"}]}";
    let fine = server.send("POST /streams/account:9", &[("content-type", "application/json")], fine).await;
    assert_eq!(fine.status, 200, "{}", fine.text());
    assert_eq!(server.status("account:2026").await["state"], "live");
    assert_eq!(server.status("account:2027").await["state"], "missing");
    server.stop().await;
}

// ---------------------------------------------------------------- status, configuration, OpenAPI

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_status_of_a_missing_and_a_live_stream() {
    let server = Server::start().await;
    assert_eq!(server.status("order:1").await, json!({ "state": "missing", "streamPosition": 0 }));
    server.append("order:1", &["Placed", "Paid"]).await;
    assert_eq!(server.status("order:1").await, json!({ "state": "live", "streamPosition": 2 }));
    server.get("/streams/no-colon/status").await.problem(400, "invalid-stream-name");
    server.send("POST /streams/order:1/status", &[], "").await.problem(405, "method-not-allowed");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_archive_goes_where_the_store_config_says() {
    let cold = streamdoc_core::layout::ArchiveStorage::Database("shop_cold".into());
    let server = Server::with_config(StoreConfig::new("shop").with_archive(cold)).await;
    server.append("order:1", &["Placed"]).await;
    assert_eq!(server.archive("order:1", &[]).await.status, 200);
    let archived = server.store.executor().database_documents("shop_cold");
    let docs: Vec<_> = archived.values().flatten().collect();
    assert_eq!(docs.len(), 1, "{archived:?}");
    assert_eq!(docs[0].get_str("streamName").unwrap(), "order:1");
    assert!(!server.documents().contains_key("shop.order_archive"));
    assert_eq!(types(&server.get("/streams/order:1?fromArchive=true").await.json()), ["Placed"]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segmented_store_cannot_archive_and_says_so() {
    let server = Server::with_config(StoreConfig::new("shop").with_segments(1_000)).await;
    let archive = server.archive("order:1", &[]).await;
    let body = archive.problem(501, "unsupported-by-store");
    assert_eq!((body["kind"].clone(), body["option"].clone()), (json!("InvalidConfig"), json!("segments")));
    let close = server.post_json("/streams/order:1/close", &[], &close_body("order:2")).await;
    close.problem(501, "unsupported-by-store");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_new_routes() {
    let server = Server::start().await;
    let doc = server.get("/openapi.json").await.json();
    let operations = http::openapi::operations(&doc);
    for (method, path) in [
        ("POST", "/streams/{streamName}/archive"),
        ("POST", "/streams/{streamName}/close"),
        ("GET", "/streams/{streamName}/status"),
    ] {
        assert!(operations.contains(&(method.to_owned(), path.to_owned())), "{method} {path}");
        assert!(http::ROUTES.contains(&(method, path)), "{method} {path} is a route");
    }
    let paths = &doc["paths"];
    let codes = |path: &str, method: &str| -> Vec<String> {
        paths[path][method]["responses"].as_object().expect("responses").keys().cloned().collect()
    };
    assert_eq!(
        codes("/streams/{streamName}/archive", "post"),
        ["200", "400", "401", "404", "409", "412", "422", "501", "503"]
    );
    assert_eq!(
        codes("/streams/{streamName}/close", "post"),
        ["200", "400", "401", "404", "409", "412", "413", "415", "422", "501", "503"]
    );
    assert_eq!(codes("/streams/{streamName}/status", "get"), ["200", "400", "401", "503"]);
    assert!(codes("/streams/{streamName}", "post").contains(&"409".to_owned()));
    assert!(codes("/streams/{streamName}", "get").contains(&"409".to_owned()));
    let read_params = paths["/streams/{streamName}"]["get"]["parameters"].as_array().unwrap();
    assert!(read_params.iter().any(|p| p["name"] == "fromArchive" && p["schema"]["type"] == "boolean"));

    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["CloseRequest"]["required"], json!(["successor", "summary"]));
    assert_eq!(schemas["CloseRequest"]["additionalProperties"], false);
    assert_eq!(schemas["CloseResult"]["required"], json!(["closedAt", "successor", "nextExpectedStreamVersion"]));
    assert_eq!(schemas["ArchiveResult"]["required"], json!(["streamPosition"]));
    assert_eq!(
        schemas["StreamStatus"]["properties"]["state"]["enum"],
        json!(["missing", "live", "sealed", "archived"])
    );
    // Every reference resolves, the new ones included.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"").skip(1) {
        let target = reference.split('"').next().unwrap();
        assert!(doc.pointer(target.strip_prefix('#').unwrap()).is_some(), "dangling {target}");
    }
    server.stop().await;
}
