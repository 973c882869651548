//! Subscriptions on the live server: the host's `Subscriber` (core's machine on tokio)
//! delivering every event at least once, in stream order, from durable conditional
//! checkpoints — by polling on any server, on a change stream where the server has one.
//!
//! What each server offers (tests/DEVIATIONS.md): FerretDB has no change streams (the
//! `$changeStream` stage is "not implemented", code 238, reported as
//! `ChangeStreamsUnsupported`); mongo-java-server has them but its change events carry no
//! `ns` and its update events no `updateDescription` and no `_id` in `documentKey`
//! (`mongo-java-server-change-events`), so each notice only says that something changed
//! and a forced change stream there polls once per burst of notices; a real
//! replica set (`hello` names a `setName`) runs the change-stream cases, and any other
//! server says that they were skipped and why.
//!
//! The checker ([`check`]) compares what the handlers were handed with what the streams
//! hold: lost events (never handled to completion), reordered batches (starting past
//! everything handled before on their stream, from the checkpoint that existed), and
//! duplicates beyond redelivery (an event handed twice when the first hand was not the
//! batch a consumer held when it was killed).

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bson::{doc, Bson, Document};
use streamdoc_core::subscription::{Batch, Source, SubscriptionConfig, SubscriptionStats, POLLING_INDEX};
use streamdoc_core::{Error, ExpectedVersion, NewEvent, ReadRange, StoreConfig};
use streamdoc_host::{EventStore, MongoExecutor, SubscribeError};
use streamdoc_tests::live::{self, Live};
use streamdoc_tests::report;
use tokio::sync::oneshot;

type Store = EventStore<MongoExecutor>;
type RunResult = Result<SubscriptionStats, SubscribeError<Infallible>>;

const CHECKPOINTS: &str = "streamdoc_checkpoints";
/// How long a test waits for a consumer to catch up before it fails.
const CATCH_UP: Duration = Duration::from_secs(45);

fn store(live: &Live, db: &str) -> Store {
    live.block_on(EventStore::with_client(live.executor().client().clone(), StoreConfig::new(db))).expect("a store")
}

/// What the live server offers for change streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    FerretDb,
    MongoJavaServer,
    /// `hello` names a replica set (or a mongos).
    ReplicaSet,
    /// A MongoDB without change streams (a standalone).
    Standalone,
}

fn kind(live: &Live) -> Kind {
    if live.server().is_ferretdb() {
        return Kind::FerretDb;
    }
    if live.server().is_mongo_java_server() {
        return Kind::MongoJavaServer;
    }
    let hello = live.block_on(live.executor().client().database("admin").run_command(doc! { "hello": 1 }));
    match hello {
        Ok(h) if h.contains_key("setName") || h.get_str("msg").is_ok_and(|m| m == "isdbgrid") => Kind::ReplicaSet,
        _ => Kind::Standalone,
    }
}

/// The sources a property test runs on here: polling everywhere, a change stream on a
/// replica set and on mongo-java-server (whose notices only say that something changed,
/// so the subscription polls for each burst of them). Says why it is left out elsewhere.
fn sources(live: &Live, test: &str) -> Vec<Source> {
    match kind(live) {
        Kind::ReplicaSet | Kind::MongoJavaServer => vec![Source::Polling, Source::ChangeStream],
        other => {
            report!(
                "{test}: the change-stream case is SKIPPED on {}: {}",
                live.server(),
                match other {
                    Kind::FerretDb => "FerretDB has no change streams ($changeStream: 238 NotImplemented)",
                    _ => "hello names no replica set (setName): not a replica set, no change streams",
                }
            );
            vec![Source::Polling]
        }
    }
}

/// One hand of a batch to a handler.
#[derive(Debug, Clone, PartialEq)]
struct Hand {
    /// Which consumer process (a run of an instance) was handed it.
    run: usize,
    stream: String,
    after: u64,
    last: u64,
    /// The handler finished it (returned `Ok`); false: the consumer was killed holding it.
    completed: bool,
}

/// What the checker counts.
#[derive(Debug, Default, PartialEq, Eq)]
struct Verdict {
    /// Events at or below the stream's position, above its initial checkpoint, that no
    /// completed hand held.
    lost: u64,
    /// Hands starting past everything completed before them on their stream (and past
    /// the checkpoint that existed when the history began): a gap.
    reordered: u64,
    /// Events handed again when no earlier hand of them was one a killed consumer held.
    duplicated: u64,
    /// Events handed again after a kill interrupted their hand (allowed: at least once).
    redelivered: u64,
    /// Hands holding positions other than `after + 1 ..= last`, or past the stream's end.
    malformed: u64,
}

/// Compares `hands` (in the order they were handed) with the streams' final positions
/// `ends` and the checkpoints that existed before the history began, `initial`.
fn check(hands: &[Hand], initial: &BTreeMap<String, u64>, ends: &BTreeMap<String, u64>) -> Verdict {
    let mut v = Verdict::default();
    let mut per_stream: BTreeMap<&str, Vec<&Hand>> = BTreeMap::new();
    for h in hands {
        per_stream.entry(h.stream.as_str()).or_default().push(h);
    }
    for (stream, &end) in ends {
        let start = initial.get(stream).copied().unwrap_or(0);
        let mut high = start;
        // Per position: how it was last handed (completed or not), if at all.
        let mut handed: BTreeMap<u64, bool> = BTreeMap::new();
        let mut done: BTreeSet<u64> = BTreeSet::new();
        for h in per_stream.get(stream.as_str()).map(Vec::as_slice).unwrap_or_default() {
            if h.last <= h.after || h.last > end {
                v.malformed += 1;
            }
            if h.after > high {
                v.reordered += 1;
            }
            for p in h.after + 1..=h.last {
                match handed.get(&p) {
                    Some(false) => v.redelivered += 1,
                    Some(true) => v.duplicated += 1,
                    None if p <= start => v.duplicated += 1,
                    None => {}
                }
                handed.insert(p, h.completed);
                if h.completed {
                    done.insert(p);
                }
            }
            if h.completed {
                high = high.max(h.last);
            }
        }
        v.lost += (start + 1..=end).filter(|p| !done.contains(p)).count() as u64;
    }
    v.malformed += per_stream.keys().filter(|s| !ends.contains_key(**s)).count() as u64;
    v
}

#[test]
fn the_checker_counts_what_it_claims() {
    let hand = |run, stream: &str, after, last, completed| Hand { run, stream: stream.into(), after, last, completed };
    let ends = BTreeMap::from([("a".to_owned(), 6), ("b".to_owned(), 2)]);
    let none = BTreeMap::new();
    // Clean: a: 1..3, 4..6; b: 1..2.
    let clean = [hand(0, "a", 0, 3, true), hand(0, "b", 0, 2, true), hand(0, "a", 3, 6, true)];
    assert_eq!(check(&clean, &none, &ends), Verdict::default());
    // A kill holding a: 4..6, redelivered after the restart: allowed, counted.
    let killed =
        [hand(0, "a", 0, 3, true), hand(0, "a", 3, 6, false), hand(1, "a", 3, 6, true), hand(1, "b", 0, 2, true)];
    assert_eq!(check(&killed, &none, &ends), Verdict { redelivered: 3, ..Verdict::default() });
    // The held batch never redelivered: lost, even though it was handed.
    let unfinished = [hand(0, "a", 0, 3, true), hand(0, "a", 3, 6, false), hand(1, "b", 0, 2, true)];
    assert_eq!(check(&unfinished, &none, &ends), Verdict { lost: 3, ..Verdict::default() });
    // A completed batch handed again is a duplicate; a gap is a reorder and loses 4.
    let bad = [hand(0, "a", 0, 3, true), hand(0, "a", 2, 3, true), hand(0, "a", 4, 6, true), hand(0, "b", 0, 2, true)];
    assert_eq!(check(&bad, &none, &ends), Verdict { lost: 1, reordered: 1, duplicated: 1, ..Verdict::default() });
    // Relative to a checkpoint that existed: a starts at 3; handing 1..3 again duplicates,
    // nothing of 1..3 is lost, and a batch from 4 is a gap.
    let initial = BTreeMap::from([("a".to_owned(), 3)]);
    let again = [hand(0, "a", 0, 3, true), hand(0, "a", 3, 6, true), hand(0, "b", 0, 2, true)];
    assert_eq!(check(&again, &initial, &ends), Verdict { duplicated: 3, ..Verdict::default() });
    let gap = [hand(0, "a", 4, 6, true), hand(0, "b", 0, 2, true)];
    assert_eq!(check(&gap, &initial, &ends), Verdict { lost: 1, reordered: 1, ..Verdict::default() });
    // Hands of unknown streams or past the end are malformed.
    let odd = [hand(0, "a", 0, 7, true), hand(0, "c", 0, 1, true), hand(0, "b", 0, 2, true)];
    assert_eq!(check(&odd, &none, &ends).malformed, 2);
}

/// The hands of every run of a test, shared with the handlers.
#[derive(Debug, Clone, Default)]
struct Journal(Arc<Mutex<Vec<(Hand, Batch, Instant)>>>);

impl Journal {
    fn hands(&self) -> Vec<Hand> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|(h, ..)| h.clone()).collect()
    }

    /// Records a hand (not yet completed); its index.
    fn handed(&self, run: usize, batch: &Batch) -> usize {
        let positions: Vec<u64> = batch.events.iter().map(|e| e.metadata.stream_position).collect();
        let expected: Vec<u64> = (batch.after + 1..=batch.last_position()).collect();
        assert_eq!(positions, expected, "a batch holds contiguous positions right after its checkpoint");
        assert!(batch.events.iter().all(|e| e.metadata.stream_name == batch.stream), "one stream per batch");
        let hand = Hand {
            run,
            stream: batch.stream.clone(),
            after: batch.after,
            last: batch.last_position(),
            completed: false,
        };
        let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
        all.push((hand, batch.clone(), Instant::now()));
        all.len() - 1
    }

    fn completed(&self, index: usize) {
        self.0.lock().unwrap_or_else(|p| p.into_inner())[index].0.completed = true;
    }

    fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// A consumer running on the live runtime, stopped gracefully by [`Running::stop`].
struct Running {
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<RunResult>,
}

impl Running {
    fn stop(mut self, live: &Live) -> RunResult {
        let _ = self.stop.take().map(|s| s.send(()));
        live.block_on(async { tokio::time::timeout(Duration::from_secs(20), self.task).await })
            .expect("a consumer stops within 20 s of being told")
            .expect("the consumer task did not panic")
    }
}

/// Starts `config` as consumer run `run`, every hand journaled. When `hang_at` is
/// `Some((n, tell))`, the handler's `n`th hand (from 1) never completes: it tells `tell`,
/// then awaits forever (until the task is aborted).
fn start(
    live: &Live,
    store: &Store,
    config: SubscriptionConfig,
    run: usize,
    journal: &Journal,
    hang_at: Option<(usize, oneshot::Sender<()>)>,
) -> Running {
    let subscriber = store.subscriber(config).poll_interval(Duration::from_millis(20));
    let journal = journal.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    let mut hang = hang_at.map(|(n, tell)| (n, Some(tell)));
    let mut count = 0;
    let task = live.runtime().spawn(async move {
        subscriber
            .run(
                move |batch: Batch| {
                    count += 1;
                    let index = journal.handed(run, &batch);
                    let held = match &mut hang {
                        Some((n, tell)) if *n == count => tell.take(),
                        _ => None,
                    };
                    let journal = journal.clone();
                    async move {
                        if let Some(tell) = held {
                            let _ = tell.send(());
                            std::future::pending::<()>().await;
                        }
                        // A handler that takes a moment, so that kills and rivals meet it.
                        tokio::task::yield_now().await;
                        journal.completed(index);
                        Ok::<_, Infallible>(())
                    }
                },
                async move {
                    let _ = stopped.await;
                },
            )
            .await
    });
    Running { stop: Some(stop), task }
}

/// The consumer's checkpoint documents: per stream (the token's, `""`, left out) every
/// document's position, to see duplicates.
fn checkpoints(live: &Live, db: &str, consumer: &str) -> BTreeMap<String, Vec<Bson>> {
    let docs = read_all(live, db, CHECKPOINTS, doc! { "consumer": consumer });
    let mut out: BTreeMap<String, Vec<Bson>> = BTreeMap::new();
    for d in docs {
        let stream = d.get_str("streamName").expect("a checkpoint names its stream").to_owned();
        if !stream.is_empty() {
            out.entry(stream).or_default().push(d.get("position").cloned().unwrap_or(Bson::Null));
        }
    }
    out
}

fn read_all(live: &Live, db: &str, collection: &str, filter: Document) -> Vec<Document> {
    let coll = live.executor().client().database(db).collection::<Document>(collection);
    live.block_on(async {
        let mut cursor = coll.find(filter).await.expect("find");
        let mut out = Vec::new();
        while cursor.advance().await.expect("cursor") {
            out.push(cursor.deserialize_current().expect("a document"));
        }
        out
    })
}

/// Exactly one checkpoint document per stream of `ends`, each at the stream's position
/// (an Int64, as core writes it), and none of other streams.
fn assert_checkpoints_at(live: &Live, db: &str, consumer: &str, ends: &BTreeMap<String, u64>) {
    let expected: BTreeMap<String, Vec<Bson>> =
        ends.iter().map(|(s, p)| (s.clone(), vec![Bson::Int64(*p as i64)])).collect();
    assert_eq!(checkpoints(live, db, consumer), expected, "one checkpoint per stream, at its position");
}

/// Waits until every stream of `ends` has its checkpoint at its end.
fn wait_for_checkpoints(live: &Live, db: &str, consumer: &str, ends: &BTreeMap<String, u64>, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let now = checkpoints(live, db, consumer);
        let caught_up = ends.iter().all(|(s, p)| now.get(s).is_some_and(|v| v.contains(&Bson::Int64(*p as i64))));
        if caught_up {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{consumer} did not catch up within {within:?}: checkpoints {now:?}, streams at {ends:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Appends `n` events to `stream` (one append), returning its new position.
fn append(live: &Live, store: &Store, stream: &str, n: usize) -> u64 {
    let events = (0..n).map(|i| NewEvent::new("Noted", doc! { "i": i as i32 })).collect();
    live.block_on(store.append_to_stream(stream, events, ExpectedVersion::Any))
        .unwrap_or_else(|e| panic!("appending to {stream}: {e}"))
        .next_expected_stream_version
}

/// Streams `order:0` .. `order:{count - 1}`, `events(i)` events in the `i`th: their ends.
fn fill(live: &Live, store: &Store, count: usize, events: impl Fn(usize) -> usize) -> BTreeMap<String, u64> {
    (0..count)
        .map(|i| {
            let stream = format!("order:{i}");
            let end = append(live, store, &stream, events(i));
            (stream, end)
        })
        .collect()
}

fn config(consumer: &str, source: Source, batch: u32) -> SubscriptionConfig {
    SubscriptionConfig::new(consumer).stream_type("order").source(source).batch_size(batch)
}

#[test]
fn polling_delivers_every_stream_in_order_with_exact_checkpoints() {
    let Some(live) = live::connect("subscriptions: polling") else { return };
    let scratch = live.scratch("subscriptions");
    let db = scratch.name();
    let store = store(&live, db);
    let mut ends = fill(&live, &store, 6, |i| i + 2);
    append(&live, &store, "cart:x", 3);

    let journal = Journal::default();
    let running = start(&live, &store, config("projector", Source::Polling, 3), 0, &journal, None);
    wait_for_checkpoints(&live, db, "projector", &ends, CATCH_UP);
    // While it runs: more events on a stream it has, and a new stream.
    *ends.get_mut("order:2").expect("order:2") = append(&live, &store, "order:2", 5);
    ends.insert("order:new".into(), append(&live, &store, "order:new", 1));
    wait_for_checkpoints(&live, db, "projector", &ends, CATCH_UP);
    let stats = running.stop(&live).expect("a graceful stop");

    let hands = journal.hands();
    assert_eq!(check(&hands, &BTreeMap::new(), &ends), Verdict::default(), "{hands:?}");
    assert!(hands.iter().all(|h| h.completed && h.last - h.after <= 3), "batches of at most 3: {hands:?}");
    assert!(hands.iter().all(|h| h.stream.starts_with("order:")), "only the subscribed type");
    assert_checkpoints_at(&live, db, "projector", &ends);
    let total: u64 = ends.values().sum();
    assert_eq!((stats.events, stats.batches), (total, hands.len() as u64), "{stats:?}");
    assert_eq!((stats.notices, stats.lookups, stats.carried, stats.conflicts), (0, 0, 0, 0), "{stats:?}");
    assert!(stats.polls > 1 && stats.sweeps >= 1, "it polled again after its first sweep: {stats:?}");
    let indexes =
        live.block_on(live.executor().client().database(db).collection::<Document>("order").list_index_names());
    assert!(indexes.expect("indexes").contains(&POLLING_INDEX.to_owned()), "the polling index is built");

    // A new instance starts from the checkpoints: nothing to deliver.
    let again = Journal::default();
    let restarted = start(&live, &store, config("projector", Source::Polling, 3), 1, &again, None);
    std::thread::sleep(Duration::from_millis(500));
    let stats = restarted.stop(&live).expect("a graceful stop");
    assert_eq!(again.hands(), [], "everything acknowledged stays acknowledged");
    assert!(stats.polls > 1, "{stats:?}");
    // Another consumer has checkpoints of its own: it gets everything.
    let other = Journal::default();
    let billing = start(&live, &store, config("billing", Source::Polling, 100), 2, &other, None);
    wait_for_checkpoints(&live, db, "billing", &ends, CATCH_UP);
    billing.stop(&live).expect("a graceful stop");
    assert_eq!(check(&other.hands(), &BTreeMap::new(), &ends), Verdict::default());
    report!("subscriptions: polling on {}: {} batches, {stats:?} on the restart", live.server(), hands.len());
}

#[test]
fn a_graceful_stop_writes_the_checkpoint_of_the_batch_its_handler_finished() {
    let Some(live) = live::connect("subscriptions: graceful stop") else { return };
    let scratch = live.scratch("subscriptions");
    let db = scratch.name();
    let store = store(&live, db);
    append(&live, &store, "order:1", 3);
    let (stop, stopped) = oneshot::channel::<()>();
    let mut stop = Some(stop);
    let mut seen = Vec::new();
    let subscriber = store.subscriber(config("mailer", Source::Polling, 10));
    let stats = live
        .block_on(subscriber.run(
            |batch: Batch| {
                seen.push(batch.last_position());
                // The handler asks for the stop while it handles its batch, then finishes it.
                let _ = stop.take().map(|s| s.send(()));
                async { Ok::<_, Infallible>(()) }
            },
            async {
                let _ = stopped.await;
            },
        ))
        .expect("a graceful stop");
    assert_eq!((seen.as_slice(), stats.batches), ([3].as_slice(), 1));
    assert_checkpoints_at(&live, db, "mailer", &BTreeMap::from([("order:1".to_owned(), 3)]));
}

/// The raw change events of an upsert creating a stream and of an append to it, and
/// whether a change stream resumes after the first.
#[test]
fn change_events_of_an_upsert_and_an_append_as_the_server_writes_them() {
    let Some(live) = live::connect("subscriptions: change events") else { return };
    let scratch = live.scratch("subscriptions");
    let db = scratch.name();
    let store = store(&live, db);
    append(&live, &store, "order:0", 1); // the collection and its index exist before the watch
    let coll = live.executor().client().database(db).collection::<Document>("order");
    let kind = kind(&live);
    let watched = live.block_on(coll.watch());
    let mut changes = match (kind, watched) {
        (Kind::FerretDb, Err(e)) => {
            let code = match e.kind.as_ref() {
                streamdoc_host::mongodb::error::ErrorKind::Command(c) => c.code,
                _ => panic!("FerretDB must refuse $changeStream with a command error: {e}"),
            };
            assert_eq!(code, 238, "FerretDB: $changeStream is NotImplemented: {e}");
            report!("subscriptions: change events on {}: none ({e})", live.server());
            return;
        }
        (Kind::Standalone, Err(e)) => {
            report!("subscriptions: change events SKIPPED on {}: not a replica set ({e})", live.server());
            return;
        }
        (_, Err(e)) => panic!("{kind:?}: watch failed: {e}"),
        (_, Ok(changes)) => changes.with_type::<Document>(),
    };
    append(&live, &store, "order:1", 1);
    append(&live, &store, "order:1", 2);
    let mut next = |what: &str| -> Document {
        live.block_on(async {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                match changes.next_if_any().await.expect("the change stream reads") {
                    Some(change) => return change,
                    None if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(10)).await,
                    None => panic!("no change event for {what} within 10 s"),
                }
            }
        })
    };
    let insert = next("the upsert");
    let update = next("the append");
    report!("subscriptions: change events on {}:\n  upsert: {insert}\n  append: {update}", live.server());
    assert_eq!(insert.get_str("operationType").ok(), Some("insert"));
    assert_eq!(update.get_str("operationType").ok(), Some("update"));
    let full = insert.get_document("fullDocument").expect("an insert carries its document");
    assert_eq!(full.get_str("streamName").ok(), Some("order:1"));
    assert_eq!(
        insert.get_document("documentKey").ok().and_then(|k| k.get("_id")),
        full.get("_id"),
        "an insert's documentKey is its _id"
    );
    let positions = |events: &[&Bson]| -> Vec<i64> {
        events
            .iter()
            .map(|e| {
                e.as_document()
                    .and_then(|d| d.get_document("metadata").ok())
                    .and_then(|m| m.get_i64("streamPosition").ok())
                    .unwrap_or(-1)
            })
            .collect()
    };
    if kind == Kind::MongoJavaServer {
        // mongo-java-server 1.47.0 (tests/DEVIATIONS.md mongo-java-server-change-events):
        // no ns on any event; the update's fullDocument is its $set, its documentKey the
        // whole update, and it has no updateDescription.
        let keys = |d: &Document| d.keys().cloned().collect::<Vec<_>>();
        assert_eq!(keys(&insert), ["_id", "operationType", "fullDocument", "documentKey", "clusterTime"]);
        assert_eq!(keys(&update), ["_id", "operationType", "fullDocument", "documentKey", "clusterTime"]);
        let delta = update.get_document("fullDocument").expect("the $set as fullDocument");
        assert_eq!(delta.keys().collect::<Vec<_>>(), ["metadata.streamPosition", "metadata.updatedAt"]);
        assert_eq!(delta.get("metadata.streamPosition"), Some(&Bson::Int64(3)));
        let key = update.get_document("documentKey").expect("a documentKey");
        assert!(!key.contains_key("_id"), "the update's documentKey holds no _id: {key}");
        let pushed =
            key.get_document("$push").and_then(|p| p.get_document("events")).and_then(|e| e.get_array("$each"));
        assert_eq!(positions(&pushed.expect("the update's $push").iter().collect::<Vec<_>>()), [2, 3]);
        assert_eq!(key.get_document("$set").ok(), Some(delta), "documentKey is the update: $push and $set");
    } else {
        // MongoDB: https://www.mongodb.com/docs/manual/reference/change-events/update/
        for change in [&insert, &update] {
            let ns = change.get_document("ns").expect("a change event names its namespace");
            assert_eq!((ns.get_str("db").ok(), ns.get_str("coll").ok()), (Some(db), Some("order")));
        }
        assert_eq!(
            update.get_document("documentKey").ok().and_then(|k| k.get("_id")),
            full.get("_id"),
            "an update's documentKey is its _id"
        );
        let fields = update
            .get_document("updateDescription")
            .and_then(|u| u.get_document("updatedFields"))
            .expect("an update describes its fields");
        let pushed: Vec<&Bson> = fields.iter().filter(|(k, _)| k.starts_with("events.")).map(|(_, v)| v).collect();
        assert_eq!(positions(&pushed), [2, 3], "the delta holds the new events: {fields}");
    }

    // resumeAfter the first event's token: the next event is the second.
    let token = insert.get_document("_id").expect("a resume token").clone();
    let token: streamdoc_host::mongodb::change_stream::event::ResumeToken =
        bson::deserialize_from_bson(Bson::Document(token)).expect("a token");
    let mut resumed = live.block_on(coll.watch().resume_after(token)).expect("resumeAfter").with_type::<Document>();
    let again = live.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match resumed.next_if_any().await.expect("the resumed stream reads") {
                Some(change) => return change,
                None if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(10)).await,
                None => panic!("nothing after the resume token within 10 s"),
            }
        }
    });
    assert_eq!(again.get("_id"), update.get("_id"), "resumed right after the token: {again}");
}

#[test]
fn change_streams_as_each_server_has_them() {
    let Some(live) = live::connect("subscriptions: change streams") else { return };
    let scratch = live.scratch("subscriptions");
    let db = scratch.name();
    let store = store(&live, db);
    let kind = kind(&live);
    if kind != Kind::ReplicaSet {
        report!(
            "subscriptions: the replica-set case is SKIPPED on {}: hello names no setName, so it is not a \
             replica set (MONGODB_URI may name one to run it); this server's own case runs instead",
            live.server()
        );
    }
    let auto = live.block_on(store.subscriber(config("auto", Source::Auto, 10)).resolved_source()).expect("hello");
    let expected_auto = if kind == Kind::ReplicaSet { Source::ChangeStream } else { Source::Polling };
    assert_eq!(auto, expected_auto, "Source::Auto on {kind:?}");
    let mut ends = fill(&live, &store, 3, |i| i + 1);
    let journal = Journal::default();
    match kind {
        Kind::FerretDb | Kind::Standalone => {
            let running = start(&live, &store, config("watcher", Source::ChangeStream, 10), 0, &journal, None);
            let result = live
                .block_on(async { tokio::time::timeout(Duration::from_secs(20), running.task).await })
                .expect("a forced change stream fails at once where there is none")
                .expect("no panic");
            // FerretDB v1.24.2 answers 238 NotImplemented (tests/DEVIATIONS.md
            // ferretdb-no-change-streams), a standalone MongoDB 40573: both the typed error.
            assert!(
                matches!(
                    &result,
                    Err(SubscribeError::Subscription(Error::Subscription(
                        streamdoc_core::subscription::SubscriptionError::ChangeStreamsUnsupported { .. },
                    )))
                ),
                "a forced change stream on {kind:?} must fail with the typed error: {result:?}"
            );
            assert_eq!(journal.len(), 0, "nothing is delivered before the watch fails");
            report!("subscriptions: a forced change stream on {}: {result:?}", live.server());
        }
        Kind::MongoJavaServer => {
            // The first watch sweeps every stream. The change events that follow name no
            // document (no ns; an update's documentKey holds the update), so each only
            // says that something changed and the subscription polls for it
            // (tests/DEVIATIONS.md mongo-java-server-change-events).
            let running = start(&live, &store, config("watcher", Source::ChangeStream, 10), 0, &journal, None);
            wait_for_checkpoints(&live, db, "watcher", &ends, CATCH_UP);
            ends.insert("order:new".into(), append(&live, &store, "order:new", 2));
            *ends.get_mut("order:0").expect("order:0") = append(&live, &store, "order:0", 2);
            wait_for_checkpoints(&live, db, "watcher", &ends, CATCH_UP);
            let deadline = Instant::now() + Duration::from_secs(10);
            let token = loop {
                let token = read_all(&live, db, CHECKPOINTS, doc! { "consumer": "watcher", "streamName": "" });
                if token.first().and_then(|t| t.get_i64("sequence").ok()).unwrap_or(0) >= 1 || Instant::now() > deadline
                {
                    break token;
                }
                std::thread::sleep(Duration::from_millis(100));
            };
            let stats = running.stop(&live).expect("a graceful stop");
            report!("subscriptions: forced change stream on {}: {stats:?}", live.server());
            assert_eq!(check(&journal.hands(), &BTreeMap::new(), &ends), Verdict::default());
            assert_checkpoints_at(&live, db, "watcher", &ends);
            assert_eq!(stats.notices, 2, "one notice per write: {stats:?}");
            // The upsert's insert event holds the new document (carried); the append's
            // update names no document: one poll.
            assert_eq!((stats.lookups, stats.carried, stats.conflicts), (0, 1, 0), "{stats:?}");
            assert_eq!((stats.polls, stats.sweeps), (2, 1), "the sweep, then one poll for the update: {stats:?}");
            let token = token.first().and_then(|t| t.get_document("resumeToken").ok()).expect("the token is stored");
            assert!(token.get_str("_data").is_ok(), "{token}");
            // A restart resumes after the stored token: no sweep, nothing again.
            let again = Journal::default();
            let restarted = start(&live, &store, config("watcher", Source::ChangeStream, 10), 1, &again, None);
            std::thread::sleep(Duration::from_millis(800));
            let stats = restarted.stop(&live).expect("a graceful stop");
            assert_eq!((again.len(), stats.sweeps, stats.notices), (0, 0, 0), "{stats:?}");
            // And after the restart, a write is announced and delivered.
            let more = Journal::default();
            let resumed = start(&live, &store, config("watcher", Source::ChangeStream, 10), 2, &more, None);
            std::thread::sleep(Duration::from_millis(300));
            *ends.get_mut("order:1").expect("order:1") = append(&live, &store, "order:1", 1);
            wait_for_checkpoints(&live, db, "watcher", &ends, CATCH_UP);
            resumed.stop(&live).expect("a graceful stop");
            assert_eq!(more.len(), 1, "one batch for the one append");
        }
        Kind::ReplicaSet => {
            let running = start(&live, &store, config("watcher", Source::Auto, 10), 0, &journal, None);
            wait_for_checkpoints(&live, db, "watcher", &ends, CATCH_UP);
            ends.insert("order:new".into(), append(&live, &store, "order:new", 2));
            *ends.get_mut("order:0").expect("order:0") = append(&live, &store, "order:0", 2);
            wait_for_checkpoints(&live, db, "watcher", &ends, CATCH_UP);
            let stats = running.stop(&live).expect("a graceful stop");
            report!("subscriptions: change stream on {}: {stats:?}", live.server());
            assert_eq!(check(&journal.hands(), &BTreeMap::new(), &ends), Verdict::default());
            assert_checkpoints_at(&live, db, "watcher", &ends);
            assert!(stats.notices >= 2 && stats.carried >= 1, "the appends came in their change events: {stats:?}");
            assert_eq!(stats.sweeps, 1, "{stats:?}");
        }
    }
}

/// Kills per crash test, each while the handler awaits.
const KILLS: usize = 3;

#[test]
fn a_consumer_killed_mid_batch_redelivers_only_the_batch_in_hand() {
    let Some(live) = live::connect("subscriptions: crashes") else { return };
    for source in sources(&live, "subscriptions: crashes") {
        let scratch = live.scratch("subscriptions");
        let db = scratch.name();
        let store = store(&live, db);
        let consumer = "crashy";
        let mut ends = fill(&live, &store, 5, |_| 6);
        // A first run consumes what is there: the checkpoints that exist before the crashes.
        let first = Journal::default();
        let running = start(&live, &store, config(consumer, source, 4), 0, &first, None);
        wait_for_checkpoints(&live, db, consumer, &ends, CATCH_UP);
        running.stop(&live).expect("a graceful stop");
        let initial = ends.clone();
        for (stream, end) in ends.iter_mut() {
            *end = append(&live, &store, stream, 7);
        }

        let journal = Journal::default();
        let mut held = Vec::new();
        for run in 1..=KILLS {
            let (tell, told) = oneshot::channel();
            let running = start(&live, &store, config(consumer, source, 4), run, &journal, Some((2, tell)));
            live.block_on(async { tokio::time::timeout(CATCH_UP, told).await })
                .expect("the consumer reaches its second batch")
                .expect("the handler tells");
            // Killed while its handler awaits: the task is aborted, nothing runs after.
            running.task.abort();
            let ended = live.block_on(running.task);
            assert!(ended.as_ref().is_err_and(|e| e.is_cancelled()), "aborted: {ended:?}");
            let hands = journal.hands();
            let in_hand = hands.last().expect("a hand").clone();
            assert!(!in_hand.completed && in_hand.run == run, "{in_hand:?}");
            held.push(in_hand);
            // More events while it is down, on one stream.
            let stream = format!("order:{}", run % 5);
            *ends.get_mut(&stream).expect("a stream") = append(&live, &store, &stream, 3);
        }
        let running = start(&live, &store, config(consumer, source, 4), KILLS + 1, &journal, None);
        wait_for_checkpoints(&live, db, consumer, &ends, CATCH_UP);
        running.stop(&live).expect("a graceful stop");

        let hands = journal.hands();
        let verdict = check(&hands, &initial, &ends);
        report!(
            "subscriptions: crashes ({source:?}) on {}: {KILLS} kills, {} hands, {verdict:?}",
            live.server(),
            hands.len()
        );
        assert_eq!((verdict.lost, verdict.reordered, verdict.malformed), (0, 0, 0), "{verdict:?}\n{hands:?}");
        assert_eq!(verdict.duplicated, 0, "only the batch in hand at a kill is delivered again: {hands:?}");
        // Each held batch was delivered again by the next run, from the same checkpoint.
        for h in &held {
            let again = hands.iter().find(|x| x.run > h.run && x.stream == h.stream && x.completed);
            assert!(again.is_some_and(|x| x.after == h.after), "{h:?} redelivered from its checkpoint: {again:?}");
        }
        let held_events: u64 = held.iter().map(|h| h.last - h.after).sum();
        assert!(verdict.redelivered >= 1 && verdict.redelivered <= held_events, "{verdict:?}, held {held_events}");
        assert_checkpoints_at(&live, db, consumer, &ends);
    }
}

#[test]
fn two_instances_of_one_consumer_never_both_advance_a_checkpoint() {
    let Some(live) = live::connect("subscriptions: two instances") else { return };
    let scratch = live.scratch("subscriptions");
    let db = scratch.name();
    let store = store(&live, db);
    let consumer = "twin";
    const STREAMS: usize = 8;
    const ROUNDS: usize = 6;
    let mut ends = fill(&live, &store, STREAMS, |_| 3);
    let journal = Journal::default();
    let a = start(&live, &store, config(consumer, Source::Polling, 2), 0, &journal, None);
    let b = start(&live, &store, config(consumer, Source::Polling, 2), 1, &journal, None);
    for round in 0..ROUNDS {
        for (i, (stream, end)) in ends.iter_mut().enumerate() {
            if (i + round) % 2 == 0 {
                *end = append(&live, &store, stream, 1 + (i + round) % 3);
            }
        }
        std::thread::sleep(Duration::from_millis(60));
    }
    wait_for_checkpoints(&live, db, consumer, &ends, CATCH_UP);
    // Both idle: every stream's checkpoint is at its end.
    std::thread::sleep(Duration::from_millis(200));
    let (sa, sb) = (a.stop(&live).expect("a stops"), b.stop(&live).expect("b stops"));

    let hands = journal.hands();
    assert!(hands.iter().all(|h| h.completed), "a graceful stop never leaves a hand open");
    // Every checkpoint value a stream took before its last is the start of some batch:
    // the distinct (stream, after) pairs are the checkpoint moves.
    let moves: BTreeSet<(&str, u64)> = hands.iter().map(|h| (h.stream.as_str(), h.after)).collect();
    let claimed = (sa.batches - sa.conflicts) + (sb.batches - sb.conflicts);
    let verdict = check(&hands, &BTreeMap::new(), &ends);
    report!(
        "subscriptions: two instances on {}: a {sa:?}, b {sb:?}; {} checkpoint moves, {claimed} claimed; {verdict:?}",
        live.server(),
        moves.len()
    );
    assert!(sa.batches > 0 && sb.batches > 0, "both instances delivered");
    assert_eq!((verdict.lost, verdict.reordered, verdict.malformed), (0, 0, 0), "{verdict:?}");
    assert_checkpoints_at(&live, db, consumer, &ends);
    if live.server().is_ferretdb() && claimed != moves.len() as u64 {
        // tests/DEVIATIONS.md ferretdb-non-atomic-conditional-update: both racing
        // checkpoint writes can match, so both instances count a move.
        assert!(claimed > moves.len() as u64, "on FerretDB only double advances: {claimed} vs {}", moves.len());
        report!(
            "subscriptions: two instances on FerretDB: {} checkpoint writes both matched (documented deviation)",
            claimed - moves.len() as u64
        );
    } else {
        assert_eq!(claimed, moves.len() as u64, "each move was made by exactly one instance");
        assert!(sa.conflicts + sb.conflicts > 0 || verdict.duplicated == 0, "a duplicate means a lost race");
    }
}

/// Events appended by the latency test per server; fewer on FerretDB, whose appends cost
/// time proportional to the document.
fn latency_events(live: &Live) -> (usize, usize) {
    if live.server().is_ferretdb() {
        (500, 100)
    } else {
        (10_000, 100)
    }
}

#[test]
fn latency_and_throughput_of_one_consumer_under_appends() {
    let Some(live) = live::connect("subscriptions: latency") else { return };
    let sources = sources(&live, "subscriptions: latency");
    let (total, streams) = latency_events(&live);
    for source in sources {
        let scratch = live.scratch("subscriptions");
        let db = scratch.name();
        let store = store(&live, db);
        // The collection and the consumer's indexes exist first.
        append(&live, &store, "order:warm", 1);
        let journal = Journal::default();
        let running = start(&live, &store, config("latency", source, 100), 0, &journal, None);
        wait_for_checkpoints(&live, db, "latency", &BTreeMap::from([("order:warm".to_owned(), 1)]), CATCH_UP);

        const WRITERS: usize = 10;
        let acked: Arc<Mutex<BTreeMap<String, Instant>>> = Arc::default();
        let started = Instant::now();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (store, acked) = (store.clone(), acked.clone());
                live.runtime().spawn(async move {
                    // Writer w owns streams w, w + WRITERS, ...; one event per append.
                    let mine: Vec<usize> = (w..streams).step_by(WRITERS).collect();
                    for k in 0..total / WRITERS {
                        let stream = format!("order:{}", mine[k % mine.len()]);
                        let id = format!("w{w}-{k}");
                        let event = NewEvent::new("Noted", doc! { "k": k as i32 }).with_id(id.clone());
                        store.append_to_stream(&stream, vec![event], ExpectedVersion::Any).await?;
                        acked.lock().unwrap_or_else(|p| p.into_inner()).insert(id, Instant::now());
                    }
                    Ok::<_, Error>(())
                })
            })
            .collect();
        for w in writers {
            live.block_on(w).expect("a writer task").expect("appends succeed");
        }
        let appended = started.elapsed();
        let ends: BTreeMap<String, u64> = (0..streams)
            .map(|i| {
                let stream = format!("order:{i}");
                let read =
                    live.block_on(store.read_stream(&stream, ReadRange { max_count: Some(0), ..ReadRange::default() }));
                (stream, read.expect("reads").current_stream_version)
            })
            .chain([("order:warm".to_owned(), 1)])
            .collect();
        assert_eq!(ends.values().sum::<u64>(), total as u64 + 1, "every append is stored");
        wait_for_checkpoints(&live, db, "latency", &ends, Duration::from_secs(120));
        let delivered = started.elapsed();
        let stats = running.stop(&live).expect("a graceful stop");

        let acked = acked.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let handed = journal.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let mut latencies: Vec<Duration> = Vec::new();
        let mut first_hand: BTreeSet<String> = BTreeSet::new();
        for (_, batch, at) in &handed {
            for e in &batch.events {
                if let Some(ack) = acked.get(&e.metadata.event_id) {
                    if first_hand.insert(e.metadata.event_id.clone()) {
                        latencies.push(at.saturating_duration_since(*ack));
                    }
                }
            }
        }
        assert_eq!(latencies.len(), total, "every event was handed");
        let hands = journal.hands();
        assert_eq!(check(&hands, &BTreeMap::new(), &ends), Verdict::default());
        latencies.sort();
        let pct = |q: f64| latencies[((latencies.len() - 1) as f64 * q).round() as usize];
        report!(
            "subscriptions: latency ({source:?}) on {}: {total} events over {streams} streams by {WRITERS} writers; \
             append-ack → handler p50 {:?}, p99 {:?}, max {:?}; appended in {:.2} s ({:.0} events/s), all \
             delivered after {:.2} s ({:.0} events/s); {} batches, {stats:?}",
            live.server(),
            pct(0.5),
            pct(0.99),
            latencies[latencies.len() - 1],
            appended.as_secs_f64(),
            total as f64 / appended.as_secs_f64(),
            delivered.as_secs_f64(),
            total as f64 / delivered.as_secs_f64(),
            hands.len()
        );
    }
}
