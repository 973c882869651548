//! A small order service on streamdoc: each order is one event stream (`order:{id}`),
//! kept as one document.
//!
//! It places an order, adds a line at the version it knows, shows a second clerk with a
//! stale view of the order being refused with a typed conflict and retrying at the
//! actual version, and reads the order back, and its item count from an inline
//! projection kept in the same document. Every line it prints is checked: any other
//! outcome ends it with a non-zero exit code.
//!
//! ```text
//! cargo run -p streamdoc-host --example service                       # the in-memory engine
//! MONGODB_URI=mongodb://127.0.0.1:27017 cargo run -p streamdoc-host --example service
//! ```
//!
//! On MongoDB it works in a database of its own, `streamdoc_example_<pid>`, and drops it
//! at the end.

use std::process::ExitCode;

use bson::{doc, Bson, Document};
use streamdoc_core::projection::{InlineProjection, ProjectionQuery};
use streamdoc_core::{Error, ExpectedVersion, NewEvent, ReadRange, StoreConfig};
use streamdoc_host::{AnyEventStore, EventStore, StoreExecutor};

/// The order service: its commands append events, its queries read them.
struct Orders {
    store: AnyEventStore,
}

impl Orders {
    fn stream(order: &str) -> String {
        format!("order:{order}")
    }

    /// Places a new order; a conflict when the order already exists.
    async fn place(&self, order: &str, customer: &str) -> Result<u64, Error> {
        let placed = NewEvent::new("OrderPlaced", doc! { "customer": customer });
        let r = self.store.append_to_stream(&Self::stream(order), vec![placed], ExpectedVersion::NoStream).await?;
        Ok(r.next_expected_stream_version)
    }

    /// Adds a line to an order the caller last saw at `seen`; a conflict when the order
    /// has changed since.
    async fn add_line(&self, order: &str, sku: &str, quantity: i32, seen: u64) -> Result<u64, Error> {
        let line = NewEvent::new("LineAdded", doc! { "sku": sku, "quantity": quantity });
        let r = self.store.append_to_stream(&Self::stream(order), vec![line], ExpectedVersion::Exact(seen)).await?;
        Ok(r.next_expected_stream_version)
    }

    /// The order's item count and version, folded from its events.
    async fn items(&self, order: &str) -> Result<(i64, u64), Error> {
        let count = |items: i64, event: &streamdoc_core::RecordedEvent| match event.event_type.as_str() {
            "LineAdded" => items + i64::from(event.data.get_i32("quantity").unwrap_or(0)),
            _ => items,
        };
        let folded = self.store.aggregate_stream(&Self::stream(order), 0, count).await?;
        Ok((folded.state, folded.current_stream_version))
    }
}

/// Fails the run with `what` unless `ok`.
fn check(ok: bool, what: impl FnOnce() -> String) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

async fn run(orders: &Orders) -> Result<(), String> {
    let unexpected = |what: &str, e: Error| format!("{what}: unexpected error: {e}");

    let v1 = orders.place("42", "ann").await.map_err(|e| unexpected("placing order 42", e))?;
    check(v1 == 1, || format!("placing order 42 left it at version {v1}, not 1"))?;
    println!("placed order:42 for ann (a new stream, version {v1})");

    // Two clerks open the order at version 1.
    let (clerk_a, clerk_b) = (v1, v1);
    let v2 = orders.add_line("42", "tea", 2, clerk_a).await.map_err(|e| unexpected("clerk A's line", e))?;
    check(v2 == 2, || format!("clerk A's line left the order at version {v2}, not 2"))?;
    println!("clerk A added 2 x tea at version {clerk_a}: now version {v2}");

    // Clerk B still believes the order is at version 1: the store refuses, and says
    // where the order actually is.
    let actual = match orders.add_line("42", "cake", 1, clerk_b).await {
        Err(Error::ConcurrencyConflict { expected: ExpectedVersion::Exact(1), actual: Some(actual), .. }) => actual,
        other => return Err(format!("clerk B's stale line: expected a concurrency conflict, got {other:?}")),
    };
    check(actual == v2, || format!("the conflict reports version {actual}, not {v2}"))?;
    println!("clerk B, still at version {clerk_b}: refused, the order is at version {actual}");

    // Clerk B looks again (here: takes the actual version) and retries.
    let v3 = orders.add_line("42", "cake", 1, actual).await.map_err(|e| unexpected("clerk B's retry", e))?;
    check(v3 == 3, || format!("clerk B's retry left the order at version {v3}, not 3"))?;
    println!("clerk B retried at version {actual}: now version {v3}");

    let stream = Orders::stream("42");
    let read = orders.store.read_stream(&stream, ReadRange::all()).await.map_err(|e| unexpected("reading", e))?;
    let types: Vec<&str> = read.events.iter().map(|e| e.event_type.as_str()).collect();
    check(types == ["OrderPlaced", "LineAdded", "LineAdded"], || format!("read back {types:?}"))?;
    check(read.current_stream_version == 3, || format!("read back at version {}", read.current_stream_version))?;
    println!("{stream} reads back {} events at version {}:", read.events.len(), read.current_stream_version);
    for (position, event) in (1..).zip(&read.events) {
        println!("  {position}. {} {}", event.event_type, Bson::Document(event.data.clone()).into_relaxed_extjson());
    }
    check(read.events[2].data == doc! { "sku": "cake", "quantity": 1 }, || "clerk B's line is not last".into())?;

    let (items, version) = orders.items("42").await.map_err(|e| unexpected("folding", e))?;
    check((items, version) == (3, 3), || format!("folded {items} items at version {version}, not 3 at 3"))?;
    println!("order:42 has {items} items");

    // The same count, kept by the append itself in the stream document.
    let model = orders.store.read_model(&stream, "items").await.map_err(|e| unexpected("reading the read model", e))?;
    let model = model.ok_or("order:42 has no items read model")?;
    let (kept, at) = (model.state().get_i32("count").unwrap_or(-1), model.metadata().stream_position);
    check((kept, at) == (3, 3), || format!("the read model counts {kept} items at position {at}, not 3 at 3"))?;
    println!("its items read model, written with the events: {kept} items at position {at}");
    let query = ProjectionQuery::new("order", "items").filter(doc! { "count": { "$gte": 2 } });
    let found = orders.store.find_read_models(query).await.map_err(|e| unexpected("querying the read models", e))?;
    let names: Vec<&str> = found.iter().map(|m| m.stream_name.as_str()).collect();
    check(names == [stream.as_str()], || format!("orders with 2 items or more: {names:?}"))?;
    println!("orders with 2 items or more: {names:?}");

    let stored = orders.store.stream_document(&stream).await.map_err(|e| unexpected("fetching the document", e))?;
    let stored = stored.ok_or("the stream has no document")?;
    let events = stored.get_array("events").map(Vec::len).unwrap_or(0);
    let position = stored.get_document("metadata").and_then(|m| m.get_i64("streamPosition")).unwrap_or(-1);
    check((events, position) == (3, 3), || format!("stored document: {events} events at {position}: {stored}"))?;
    println!("stored as one document: {events} events, metadata.streamPosition {position}");
    Ok(())
}

/// The store's configuration: the orders' item count as an inline projection, kept in
/// each order's document at `projections.items`.
fn config(database: &str) -> StoreConfig {
    let items = InlineProjection::new("items", ["LineAdded"], |state: Option<Document>, event| {
        let count = state.and_then(|s| s.get_i32("count").ok()).unwrap_or(0);
        Ok(Some(doc! { "count": count + event.data.get_i32("quantity").unwrap_or(0) }))
    })
    .for_stream_types(["order"]);
    StoreConfig::new(database).with_projection(items)
}

/// The store: MongoDB when `MONGODB_URI` is set, else the embedded engine; and the
/// database to drop at the end, on MongoDB.
async fn open() -> Result<(AnyEventStore, Option<String>), String> {
    let Some(uri) = std::env::var("MONGODB_URI").ok().filter(|u| !u.is_empty()) else {
        let store = EventStore::in_memory(config("shop")).map_err(|e| e.to_string())?;
        println!("store: the embedded in-memory engine (set MONGODB_URI to run on MongoDB)");
        return Ok((store.into(), None));
    };
    let database = format!("streamdoc_example_{}", std::process::id());
    let store = EventStore::connect(&uri, config(&database)).await.map_err(|e| e.to_string())?;
    println!("store: {}, database {database}", store.executor().server());
    if let Some(warning) = store.executor().server().concurrency_warning() {
        println!("note: {warning}");
    }
    Ok((store.into(), Some(database)))
}

/// Drops the example's database (MongoDB only).
async fn drop_database(store: &AnyEventStore, database: &str) -> Result<(), String> {
    let StoreExecutor::Mongo(mongo) = store.executor() else { return Ok(()) };
    mongo.client().database(database).drop().await.map_err(|e| format!("dropping {database}: {e}"))
}

#[tokio::main]
async fn main() -> ExitCode {
    let (store, database) = match open().await {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("service: cannot open the store: {e}");
            return ExitCode::FAILURE;
        }
    };
    let orders = Orders { store };
    let mut result = run(&orders).await;
    if let Some(database) = &database {
        let dropped = drop_database(&orders.store, database).await;
        result = result.and(dropped);
    }
    orders.store.close().await;
    match result {
        Ok(()) => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("service: {e}");
            ExitCode::FAILURE
        }
    }
}
