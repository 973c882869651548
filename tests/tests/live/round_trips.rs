//! Round trips, counted with the driver's command monitoring: an append with a known
//! expected position (`Exact`, `NoStream`) sends exactly one command once its
//! collection has its index, and a read sends one — two on servers without `$slice`
//! projections (FerretDB), where a range read falls back to the whole document.
//! (Emmett's append sends two: see the Emmett interop test, which counts them.) With
//! inline projections the same holds while the store knows the read models at the
//! expected position; otherwise it reads them first.

use std::sync::{Arc, Mutex};

use bson::doc;
use streamdoc_core::projection::InlineProjection;
use streamdoc_core::{ExpectedVersion, NewEvent, ReadRange, StoreConfig};
use streamdoc_host::mongodb::event::command::CommandEvent;
use streamdoc_host::mongodb::event::EventHandler;
use streamdoc_host::EventStore;
use streamdoc_tests::live;

/// The commands started on one database, by name, in order.
#[derive(Clone, Default)]
struct Monitor(Arc<Mutex<Vec<(String, String)>>>);

impl Monitor {
    /// The names of the commands sent to `db` since the last call.
    fn take(&self, db: &str) -> Vec<String> {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        seen.drain(..).filter(|(d, _)| d == db).map(|(_, name)| name).collect()
    }
}

/// A server connection whose commands `monitor` sees.
fn monitored(what: &str, monitor: &Monitor) -> Option<live::Live> {
    let sink = monitor.clone();
    live::connect_with(what, move |options| {
        options.command_event_handler = Some(EventHandler::callback(move |event| {
            if let CommandEvent::Started(started) = event {
                sink.0.lock().unwrap_or_else(|p| p.into_inner()).push((started.db, started.command_name));
            }
        }));
    })
}

#[test]
fn known_positions_append_in_one_command_and_reads_take_one() {
    let monitor = Monitor::default();
    let Some(live) = monitored("round trips", &monitor) else { return };
    let scratch = live.scratch("round_trips");
    let db = scratch.name();
    let store = live
        .block_on(EventStore::with_client(live.executor().client().clone(), StoreConfig::new(db)))
        .expect("a store");
    let event = |id: &str| vec![NewEvent::new("E", doc! { "n": 1 }).with_id(id)];
    let _ = monitor.take(db);

    // The collection's first use by this store creates its unique index first.
    live.block_on(store.append_to_stream("order:1", event("a"), ExpectedVersion::NoStream)).expect("creates");
    assert_eq!(monitor.take(db), ["createIndexes", "update"]);

    // From then on an append whose position is known is one update.
    live.block_on(store.append_to_stream("order:1", event("b"), ExpectedVersion::Exact(1))).expect("appends");
    assert_eq!(monitor.take(db), ["update"], "Exact(n)");
    live.block_on(store.append_to_stream("order:2", event("c"), ExpectedVersion::NoStream)).expect("creates");
    assert_eq!(monitor.take(db), ["update"], "NoStream");
    live.block_on(store.append_to_stream("order:2", event("d"), ExpectedVersion::Exact(1))).expect("appends");
    assert_eq!(monitor.take(db), ["update"], "Exact(n) on the second stream");

    // `Any` first tries the position where this store last saw the stream: one update
    // while nobody else has appended.
    live.block_on(store.append_to_stream("order:1", event("e"), ExpectedVersion::Any)).expect("appends");
    assert_eq!(monitor.take(db), ["update"], "Any on a stream this store left at 2");

    // A whole-stream read, an existence check and a fold are one find each.
    let whole = live.block_on(store.read_stream("order:1", ReadRange::all())).expect("reads");
    assert_eq!(whole.events.len(), 3);
    assert_eq!(monitor.take(db), ["find"], "whole read");
    assert!(live.block_on(store.stream_exists("order:2")).expect("exists"));
    assert_eq!(monitor.take(db), ["find"], "exists");

    // A range read projects with `$slice`; a server without it answers 238 and the
    // read fetches the whole document and slices it itself.
    let range = ReadRange { from: Some(2), to: Some(2), max_count: None };
    let read = live.block_on(store.read_stream("order:1", range)).expect("reads a range");
    assert_eq!(read.events.iter().map(|e| e.metadata.event_id.as_str()).collect::<Vec<_>>(), ["b"]);
    let expected: &[&str] = if live.server().is_ferretdb() { &["find", "find"] } else { &["find"] };
    assert_eq!(monitor.take(db), expected, "range read on {}", live.server());

    // A second store is a second client of the collection: it ensures the index once.
    let other = live
        .block_on(EventStore::with_client(live.executor().client().clone(), StoreConfig::new(db)))
        .expect("a store");
    live.block_on(other.append_to_stream("order:1", event("f"), ExpectedVersion::Exact(3))).expect("appends");
    live.block_on(other.append_to_stream("order:1", event("g"), ExpectedVersion::Exact(4))).expect("appends");
    assert_eq!(monitor.take(db), ["createIndexes", "update", "update"]);

    // The first store's guess is now stale: its update matches nothing, then it reads
    // the position and appends there.
    live.block_on(store.append_to_stream("order:1", event("h"), ExpectedVersion::Any)).expect("appends");
    assert_eq!(monitor.take(db), ["update", "find", "update"], "Any after another store appended");
    let read = live.block_on(store.read_stream("order:1", ReadRange::all())).expect("reads");
    let ids: Vec<&str> = read.events.iter().map(|e| e.metadata.event_id.as_str()).collect();
    assert_eq!(ids, ["a", "b", "e", "f", "g", "h"]);
    let _ = monitor.take(db);

    // On a stream this store has never seen, `Any` reads the position first.
    live.block_on(other.append_to_stream("order:3", event("i"), ExpectedVersion::NoStream)).expect("creates");
    let _ = monitor.take(db);
    live.block_on(store.append_to_stream("order:3", event("j"), ExpectedVersion::Any)).expect("appends");
    assert_eq!(monitor.take(db), ["find", "update"], "Any on a stream this store has not seen");
}

#[test]
fn with_projections_a_known_position_append_whose_read_models_are_known_is_one_command() {
    let monitor = Monitor::default();
    let Some(live) = monitored("round trips with projections", &monitor) else { return };
    let scratch = live.scratch("round_trips_projections");
    let db = scratch.name();
    let count = InlineProjection::new("count", ["E"], |state: Option<bson::Document>, _| {
        let n = state.and_then(|s| s.get_i32("n").ok()).unwrap_or(0);
        Ok(Some(doc! { "n": n + 1 }))
    });
    let config = || StoreConfig::new(db).with_projection(count.clone());
    let store = live.block_on(EventStore::with_client(live.executor().client().clone(), config())).expect("a store");
    let event = |id: &str| vec![NewEvent::new("E", doc! {}).with_id(id)];
    let _ = monitor.take(db);

    live.block_on(store.append_to_stream("tally:1", event("a"), ExpectedVersion::NoStream)).expect("creates");
    assert_eq!(monitor.take(db), ["createIndexes", "update"], "a new stream's read models start from scratch");
    live.block_on(store.append_to_stream("tally:1", event("b"), ExpectedVersion::Exact(1))).expect("appends");
    assert_eq!(monitor.take(db), ["update"], "the store wrote the read model at 1");
    live.block_on(store.append_to_stream("tally:1", event("c"), ExpectedVersion::Any)).expect("appends");
    assert_eq!(monitor.take(db), ["update"], "Any at the position and read model last seen");

    // Another store knows nothing of the read model: it reads it once, with the position.
    let other = live.block_on(EventStore::with_client(live.executor().client().clone(), config())).expect("a store");
    live.block_on(other.append_to_stream("tally:1", event("d"), ExpectedVersion::Exact(3))).expect("appends");
    assert_eq!(monitor.take(db), ["createIndexes", "find", "update"]);
    live.block_on(other.append_to_stream("tally:1", event("e"), ExpectedVersion::Exact(4))).expect("appends");
    assert_eq!(monitor.take(db), ["update"]);
    let model = live.block_on(other.read_model("tally:1", "count")).expect("reads").expect("a read model");
    assert_eq!(model.state(), doc! { "n": 5 });
    assert_eq!(monitor.take(db), ["find"], "a read model is one find");
}
