//! Interop with Emmett (`@event-driven-io/emmett-mongodb` 0.42.4, installed from npm into
//! a temporary folder): Emmett appends a stream, streamdoc (the Emmett layout preset)
//! reads it and appends to it, Emmett reads streamdoc's events back, and the other way
//! round. The Node side is `emmett_interop.mjs`.
//!
//! Where Emmett's own behaviour is the obstacle the test says so and asserts around it:
//! - its `fromStreamName` splits on every colon, so a stream `shopping_cart:eu:8` it
//!   creates gets `metadata.streamId: "eu"` (streamdoc stores `eu:8`); both find the
//!   stream by its full `streamName`, which is all either reads by;
//! - when a writer races between its read and its write, Emmett passes the unique
//!   index's E11000 on raw rather than as a concurrency error (streamdoc reports the
//!   same race as a typed `ConcurrencyConflict`).
//!
//! Emmett 0.42.4 declares `@event-driven-io/emmett@0.42.4` as a peer, which the npm
//! registry reachable here does not serve (it stops at 0.42.0). The package bundles
//! Emmett's core and imports only `mongodb`, `uuid` and `async-retry`, so those are
//! installed and the peer is skipped (`--legacy-peer-deps`).

use std::path::{Path, PathBuf};
use std::process::Command;

use bson::doc;
use serde_json::{json, Value};
use streamdoc_core::{Error, ExpectedVersion, Layout, NewEvent, ReadRange, StoreConfig};
use streamdoc_host::EventStore;
use streamdoc_tests::live;

const PACKAGES: &[&str] =
    &["@event-driven-io/emmett-mongodb@0.42.4", "mongodb@^6.10.0", "uuid@^10.0.0", "async-retry@^1.3.3"];
const SCRIPT: &str = include_str!("emmett_interop.mjs");

/// A temporary folder, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("streamdoc-emmett-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn available(tool: &str) -> bool {
    Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success())
}

fn npm_install(dir: &Path) {
    std::fs::write(dir.join("package.json"), r#"{ "private": true, "type": "module" }"#).expect("package.json");
    std::fs::write(dir.join("emmett_interop.mjs"), SCRIPT).expect("the script");
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--legacy-peer-deps"])
        .args(PACKAGES)
        .current_dir(dir)
        .output()
        .expect("npm runs");
    assert!(out.status.success(), "npm install failed:\n{}", String::from_utf8_lossy(&out.stderr));
}

fn node(dir: &Path, uri: &str, database: &str, step: &str) -> Value {
    let out = Command::new("node")
        .args(["emmett_interop.mjs", uri, database, step])
        .current_dir(dir)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "the Emmett script failed at step {step}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("step {step} printed no JSON ({e})"))
}

fn bigint(n: u64) -> Value {
    json!({ "$bigint": n.to_string() })
}

#[test]
fn streamdoc_and_emmett_read_and_extend_each_others_streams() {
    let Some(live) = live::connect("emmett interop") else { return };
    if !available("node") || !available("npm") {
        assert!(std::env::var_os("CI").is_none(), "the Emmett interop test needs node and npm, which CI must have");
        streamdoc_tests::report!("emmett interop: SKIPPED — node or npm is not installed");
        return;
    }
    let dir = TempDir::new();
    npm_install(&dir.0);
    let scratch = live.scratch("emmett_interop");
    let db = scratch.name();

    // Emmett writes.
    let written = node(&dir.0, live.uri(), db, "write");
    assert_eq!(written["created"], json!({ "nextExpectedStreamVersion": bigint(2), "createdNewStream": true }));
    // Emmett's append reads the position, then writes: two commands (streamdoc's
    // append with a known position is one; see round_trips.rs).
    assert_eq!(written["second"]["commands"], json!(["find", "update"]));

    // streamdoc reads Emmett's stream...
    let config = StoreConfig::new(db).with_layout(Layout::Emmett);
    let store = live.block_on(EventStore::with_client(live.executor().client().clone(), config)).expect("a store");
    let read =
        live.block_on(store.read_stream("shopping_cart:emm-1", ReadRange::all())).expect("reads Emmett's stream");
    assert_eq!(read.current_stream_version, 3);
    let types: Vec<&str> = read.events.iter().map(|e| e.event_type.as_str()).collect();
    assert_eq!(types, ["ProductItemAdded", "ProductItemAdded", "DiscountApplied"]);
    assert_eq!(read.events.iter().map(|e| e.metadata.stream_position).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(read.events[0].data, doc! { "productId": "p-1", "quantity": 2 });
    assert!(
        read.events.iter().all(|e| e.metadata.event_id.len() == 36 && e.metadata.recorded_at.is_none()),
        "Emmett's uuid message ids, no recordedAt"
    );

    // ... extends it, and is told when it is behind.
    let confirmed = NewEvent::new("ShoppingCartConfirmed", doc! { "by": "streamdoc" }).with_id("sd-confirm");
    let r = live
        .block_on(store.append_to_stream("shopping_cart:emm-1", vec![confirmed], ExpectedVersion::Exact(3)))
        .expect("appends");
    assert_eq!((r.next_expected_stream_version, r.created_new_stream), (4, false));
    let stale = live.block_on(store.append_to_stream(
        "shopping_cart:emm-1",
        vec![NewEvent::new("Late", doc! {})],
        ExpectedVersion::Exact(3),
    ));
    assert!(matches!(stale, Err(Error::ConcurrencyConflict { actual: Some(4), .. })), "{stale:?}");

    // streamdoc creates a stream for Emmett to read.
    let added = NewEvent::new("ProductItemAdded", doc! { "productId": "p-9", "quantity": 5 }).with_id("sd-add");
    live.block_on(store.append_to_stream("shopping_cart:sd-1", vec![added], ExpectedVersion::NoStream))
        .expect("creates");

    // Emmett's colon handling: it stored a truncated streamId; streamdoc reads the
    // stream by its full name all the same.
    let colon = live.block_on(store.read_stream("shopping_cart:eu:8", ReadRange::all())).expect("reads");
    assert_eq!(colon.events.len(), 1);
    let documents = live.dump(db).expect("dump");
    let stored = |name: &str| {
        documents
            .get(&format!("{db}.emt:shopping_cart"))
            .and_then(|docs| docs.iter().find(|d| d.get_str("streamName").ok() == Some(name)))
            .cloned()
            .unwrap_or_else(|| panic!("no document for {name}"))
    };
    let emmett_doc = stored("shopping_cart:eu:8");
    let stream_id = emmett_doc.get_document("metadata").and_then(|m| m.get_str("streamId")).ok();
    assert_eq!(stream_id, Some("eu"), "Emmett truncates ids at their first colon");

    // Documents written by either have the same shape.
    let ours = stored("shopping_cart:sd-1");
    let theirs = stored("shopping_cart:emm-1");
    let keys = |d: &bson::Document| d.keys().cloned().collect::<std::collections::BTreeSet<_>>();
    assert_eq!(keys(&ours), keys(&theirs), "top-level fields");
    let meta = |d: &bson::Document| d.get_document("metadata").map(keys).unwrap_or_default();
    assert_eq!(meta(&ours), meta(&theirs), "stream metadata fields");
    assert!(matches!(ours.get_document("metadata").map(|m| m.get("streamPosition")), Ok(Some(bson::Bson::Int64(1)))));
    assert!(matches!(theirs.get_document("metadata").map(|m| m.get("streamPosition")), Ok(Some(bson::Bson::Int64(4)))));

    // Emmett reads streamdoc's events back, and appends after them.
    let back = node(&dir.0, live.uri(), db, "read");
    let emm1 = &back["emm1"];
    assert_eq!(emm1["currentStreamVersion"], bigint(4));
    let last = &emm1["events"][3];
    assert_eq!(last["type"], "ShoppingCartConfirmed");
    assert_eq!(last["messageId"], "sd-confirm");
    assert_eq!(last["streamPosition"], bigint(4));
    assert_eq!(last["positionIsBigInt"], true, "streamdoc's Int64 positions read as BigInt");
    assert_eq!(last["data"], json!({ "by": "streamdoc" }));
    assert_eq!(back["sd1"]["events"][0]["messageId"], "sd-add");
    assert_eq!(back["sd1"]["events"][0]["data"], json!({ "productId": "p-9", "quantity": 5 }));
    assert_eq!(back["sd1Exists"], true);
    assert_eq!(back["appendToSd1"], json!({ "nextExpectedStreamVersion": bigint(2), "createdNewStream": false }));
    // Emmett's typed concurrency error (its error code 412) for a stale expectation...
    assert_eq!(back["stale"]["errorCode"], 412, "{}", back["stale"]);
    // ... but its raw E11000, not a concurrency error, when a writer races it
    // (streamdoc reports that race as a typed ConcurrencyConflict).
    assert_eq!(back["raced"]["code"], 11000, "{}", back["raced"]);
    assert_eq!(back["raced"]["errorCode"], Value::Null, "{}", back["raced"]);
    let race_types: Vec<&str> =
        back["race"]["events"].as_array().into_iter().flatten().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(race_types, ["Opened", "Rival"], "the raced append wrote nothing");

    // And streamdoc reads what Emmett appended to its stream.
    let sd1 = live.block_on(store.read_stream("shopping_cart:sd-1", ReadRange::all())).expect("reads");
    assert_eq!(sd1.events.iter().map(|e| e.event_type.as_str()).collect::<Vec<_>>(), ["ProductItemAdded", "Emptied"]);
    assert_eq!(sd1.current_stream_version, 2);
}
