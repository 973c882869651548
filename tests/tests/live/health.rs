//! `GET /health` on a MongoDB store: 200 while the server answers its ping, a 503
//! problem as soon as it does not; and the store's own `ping`, which `/health` asks.

use std::net::SocketAddr;
use std::time::Duration;

use streamdoc_host::http::{router, serve, ApiOptions};
use streamdoc_tests::live;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::executor::proxied;
use crate::proxy::Lose;

/// One `GET` over a fresh connection: the status code and the body.
async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connects to the API");
    let request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("sends");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("reads");
    let status = response.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    (status, body)
}

#[test]
fn health_is_a_503_problem_when_the_server_stops_answering() {
    let Some(live) = live::connect("health") else { return };
    let scratch = live.scratch("health");
    let Some((proxy, store)) = proxied(&live, scratch.name(), None) else { return };
    let app = router(store, &ApiOptions::default());
    let listener = live.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("binds");
    let addr = listener.local_addr().expect("an address");
    live.runtime().spawn(serve(listener, app, std::future::pending()));

    let (status, body) = live.block_on(get(addr, "/health"));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"store\":\"mongodb\""), "{body}");

    // The server's connection drops before it answers the next ping.
    proxy.arm("ping", Lose::Drop);
    let (status, body) = live.block_on(get(addr, "/health"));
    assert_eq!(status, 503, "{body}");
    assert_eq!(proxy.lost(), 1, "the ping's reply was the one lost");
    let problem: serde_json::Value = serde_json::from_str(&body).expect("a problem+json body");
    assert_eq!(problem["status"], 503);
    assert_eq!(problem["store"], "mongodb");
    assert!(problem["type"].as_str().is_some_and(|t| t.starts_with("https://")), "{problem}");

    // The server answers again: healthy again.
    let (status, body) = live.block_on(get(addr, "/health"));
    assert_eq!(status, 200, "{body}");
}

#[test]
fn the_store_ping_fails_while_the_server_does_not_answer() {
    let Some(live) = live::connect("health") else { return };
    let scratch = live.scratch("health_ping");
    let limit = Duration::from_secs(1);
    let Some((proxy, store)) = proxied(&live, scratch.name(), Some(limit)) else { return };
    assert_eq!(live.block_on(store.ping()), Ok(()));

    // The connection drops before the server's answer arrives.
    proxy.arm("ping", Lose::Drop);
    let dropped = live.block_on(store.ping()).expect_err("no answer, no health");
    assert!(dropped.message.starts_with("ping failed: "), "{dropped}");
    assert!(!dropped.outcome_unknown, "a ping writes nothing: {dropped}");
    assert_eq!(proxy.lost(), 1);

    // The answer never comes: the ping gives up after the command timeout.
    proxy.arm("ping", Lose::Stall);
    let started = std::time::Instant::now();
    let stalled = live.block_on(store.ping()).expect_err("no answer, no health");
    assert_eq!(stalled.message, format!("no answer to ping within {limit:?}"));
    assert!(started.elapsed() < limit * 10, "{:?}", started.elapsed());
    assert_eq!(proxy.lost(), 2);

    // The server answers again.
    assert_eq!(live.block_on(store.ping()), Ok(()));
    live.block_on(store.close());
}
