//! `MongoExecutor` on the live server: how it reports what the server answered and what
//! it could not learn, and what it does (and does not) close.

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bson::doc;
use streamdoc_core::{
    Command, Error, ExecutorError, ExpectedVersion, Namespace, NewEvent, ReadRange, Reply, StoreConfig, StoreContext,
};
use streamdoc_host::mongodb::options::{ClientOptions, ServerAddress};
use streamdoc_host::{AsyncExecutor, EventStore, MongoExecutor, RandomIds, SystemClock};
use streamdoc_tests::live::{self, Live};

use crate::proxy::{Lose, Proxy};

/// A store whose every command goes through a [`Proxy`] in front of the live server,
/// with the driver's own write and read retries off (so a lost reply reaches the store).
/// `None` when the server's URI cannot be proxied (TLS), after saying why.
pub(crate) fn proxied(live: &Live, database: &str, timeout: Option<Duration>) -> Option<(Proxy, EventStore)> {
    let options = live.block_on(ClientOptions::parse(live.uri())).expect("the URI parses");
    if options.tls.is_some() {
        streamdoc_tests::report!("SKIPPED: the lost-reply tests cannot proxy a TLS connection ({})", live.uri());
        return None;
    }
    let upstream = options.hosts.first().map(ServerAddress::to_string).expect("a host");
    let proxy = live.block_on(Proxy::start(upstream));
    let mut through = options;
    through.hosts = vec![ServerAddress::Tcp { host: proxy.addr().ip().to_string(), port: Some(proxy.addr().port()) }];
    through.direct_connection = Some(true);
    through.repl_set_name = None;
    through.retry_writes = Some(false);
    through.retry_reads = Some(false);
    let mut executor = live.block_on(MongoExecutor::connect_with_options(through)).expect("connects through the proxy");
    if let Some(limit) = timeout {
        executor = executor.with_command_timeout(limit);
    }
    let ctx = StoreContext::new(StoreConfig::new(database), SystemClock, RandomIds).expect("a context");
    Some((proxy, EventStore::new(ctx, executor)))
}

fn event(id: &str) -> Vec<NewEvent> {
    vec![NewEvent::new("E", doc! {}).with_id(id)]
}

fn ids(live: &Live, store: &EventStore, stream: &str) -> Vec<String> {
    let read = live.block_on(store.read_stream(stream, ReadRange::all())).expect("reads");
    read.events.into_iter().map(|e| e.metadata.event_id).collect()
}

fn outcome_unknown(result: &Result<impl std::fmt::Debug, Error>) -> Option<bool> {
    match result {
        Err(Error::Unavailable(ExecutorError { outcome_unknown, .. })) => Some(*outcome_unknown),
        _ => None,
    }
}

#[test]
fn a_write_whose_reply_is_lost_is_unknown_and_its_retry_succeeds_once() {
    let Some(live) = live::connect("lost replies") else { return };
    let scratch = live.scratch("lost_replies");
    let Some((proxy, store)) = proxied(&live, scratch.name(), None) else { return };
    let direct = live
        .block_on(EventStore::with_client(live.executor().client().clone(), StoreConfig::new(scratch.name())))
        .expect("store");

    live.block_on(store.append_to_stream("order:1", event("a1"), ExpectedVersion::NoStream)).expect("creates");

    // The server applies the update, the connection drops before its reply.
    proxy.arm("update", Lose::Drop);
    let lost = live.block_on(store.append_to_stream("order:1", event("a2"), ExpectedVersion::Exact(1)));
    assert_eq!(outcome_unknown(&lost), Some(true), "{lost:?}");
    assert_eq!(proxy.lost(), 1);
    assert_eq!(ids(&live, &direct, "order:1"), ["a1", "a2"], "the write was applied");

    // Retrying with the same ids finds them in place: a success, not a conflict, and
    // nothing is written twice.
    let retry =
        live.block_on(store.append_to_stream("order:1", event("a2"), ExpectedVersion::Exact(1))).expect("retry");
    assert_eq!((retry.next_expected_stream_version, retry.created_new_stream), (2, false));
    assert_eq!(ids(&live, &direct, "order:1"), ["a1", "a2"]);

    // The same for a creation, whose retry meets the unique index.
    proxy.arm("update", Lose::Drop);
    let lost = live.block_on(store.append_to_stream("order:2", event("b1"), ExpectedVersion::NoStream));
    assert_eq!(outcome_unknown(&lost), Some(true), "{lost:?}");
    let retry =
        live.block_on(store.append_to_stream("order:2", event("b1"), ExpectedVersion::NoStream)).expect("retry");
    assert_eq!((retry.next_expected_stream_version, retry.created_new_stream), (1, true));
    assert_eq!(ids(&live, &direct, "order:2"), ["b1"]);

    // Another writer's events at those positions are a conflict, not a success.
    let other = live.block_on(store.append_to_stream("order:2", event("x"), ExpectedVersion::NoStream));
    assert!(matches!(other, Err(Error::ConcurrencyConflict { actual: Some(1), .. })), "{other:?}");

    // A read that loses its reply changed nothing: its outcome is known.
    proxy.arm("find", Lose::Drop);
    let read = live.block_on(store.read_stream("order:1", ReadRange::all()));
    assert_eq!(outcome_unknown(&read), Some(false), "{read:?}");
}

#[test]
fn a_write_that_times_out_is_unknown_and_its_retry_succeeds() {
    let Some(live) = live::connect("command timeout") else { return };
    let scratch = live.scratch("timeouts");
    // Long enough that no ordinary command is cut short on a loaded machine; the stalled
    // one waits it out.
    let Some((proxy, store)) = proxied(&live, scratch.name(), Some(Duration::from_secs(5))) else { return };
    live.block_on(store.append_to_stream("order:1", event("a1"), ExpectedVersion::NoStream)).expect("creates");
    proxy.arm("update", Lose::Stall);
    let stalled = live.block_on(store.append_to_stream("order:1", event("a2"), ExpectedVersion::Exact(1)));
    match &stalled {
        Err(Error::Unavailable(e)) => {
            assert!(e.outcome_unknown);
            assert!(e.message.contains("no answer within"), "{e}");
        }
        other => panic!("expected an unknown outcome, got {other:?}"),
    }
    let retry =
        live.block_on(store.append_to_stream("order:1", event("a2"), ExpectedVersion::Exact(1))).expect("retry");
    assert_eq!(retry.next_expected_stream_version, 2);
    assert_eq!(ids(&live, &store, "order:1"), ["a1", "a2"]);
}

#[test]
fn server_answers_become_replies_with_their_codes() {
    let Some(live) = live::connect("server answers") else { return };
    let scratch = live.scratch("answers");
    let ns = Namespace::new(scratch.name(), "raw");
    let executor = live.executor();
    let insert = Command::InsertOne { ns: ns.clone(), document: doc! { "_id": 1, "streamName": "a:1" } };
    assert_eq!(live.block_on(executor.execute(&insert)), Ok(Reply::Inserted { id: bson::Bson::Int32(1) }));
    match live.block_on(executor.execute(&insert)) {
        Ok(Reply::DuplicateKey { message }) => assert!(message.contains("E11000"), "{message}"),
        other => panic!("a second insert of _id 1 must be a duplicate key, got {other:?}"),
    }
    let bad_inc = Command::UpdateOne {
        ns: ns.clone(),
        filter: doc! { "_id": 1 },
        update: doc! { "$inc": { "streamName": 1 } },
        upsert: false,
    };
    match live.block_on(executor.execute(&bad_inc)) {
        Ok(Reply::ServerError { code, message }) => {
            assert_eq!(code, streamdoc_core::command::codes::TYPE_MISMATCH, "{message}");
        }
        other => panic!("$inc on a string must be a server error, got {other:?}"),
    }
    let delete = Command::DeleteOne { ns, filter: doc! { "_id": 1 } };
    assert_eq!(live.block_on(executor.execute(&delete)), Ok(Reply::Deleted { count: 1 }));
}

#[test]
fn a_store_closes_only_the_client_it_created() {
    let Some(live) = live::connect("client ownership") else { return };
    let scratch = live.scratch("ownership");
    let find = Command::FindOne { ns: Namespace::new(scratch.name(), "c"), filter: doc! {}, projection: None };

    // A caller's client stays open.
    let borrowed = live
        .block_on(EventStore::with_client(live.executor().client().clone(), StoreConfig::new(scratch.name())))
        .expect("store");
    live.block_on(borrowed.close());
    assert_eq!(live.block_on(live.executor().execute(&find)), Ok(Reply::Found(None)));

    // A client the store created is shut down with it (a clone sharing it sees that).
    let owned = live.block_on(EventStore::connect(live.uri(), StoreConfig::new(scratch.name()))).expect("connects");
    let sharing = owned.executor().clone();
    assert_eq!(live.block_on(sharing.execute(&find)), Ok(Reply::Found(None)));
    live.block_on(owned.close());
    let after = live.block_on(sharing.execute(&find));
    assert!(after.is_err(), "the client must be shut down, got {after:?}");
}

/// A tracing subscriber that keeps the level and fields of every event.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<(tracing::Level, String)>>>);

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Fields(String);
        impl tracing::field::Visit for Fields {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                let _ = write!(self.0, "{}={value:?} ", field.name());
            }
        }
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push((*event.metadata().level(), fields.0));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[test]
fn connecting_to_ferretdb_warns_that_concurrency_is_not_guaranteed() {
    let Some(live) = live::connect("connect warning") else { return };
    let capture = Capture::default();
    let client = live.executor().client().clone();
    let executor =
        tracing::subscriber::with_default(capture.clone(), || live.block_on(MongoExecutor::with_client(client)))
            .expect("connects");
    let warnings: Vec<String> = capture
        .0
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|(level, _)| *level == tracing::Level::WARN)
        .map(|(_, fields)| fields.clone())
        .collect();
    if executor.server().is_ferretdb() {
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("optimistic concurrency is not guaranteed on FerretDB"), "{}", warnings[0]);
    } else {
        assert!(warnings.is_empty(), "no warning on {}: {warnings:?}", executor.server());
    }
}

// ---------------------------------------------------------------- find and count

/// The documents the find and count comparisons search: `k` is unique (the tie-breaker),
/// `n` is missing from one, `null` in another, of three numeric types in most (two 3s of
/// different types, equal as numbers), an array, a string and a document in the last
/// three (BSON's order of types decides); `sub.v` is in two, `g` groups them.
fn searched() -> Vec<bson::Document> {
    vec![
        doc! { "_id": 1, "k": "a", "n": 3, "g": 1, "s": "x" },
        doc! { "_id": 2, "k": "b", "g": 2, "s": "y" },
        doc! { "_id": 3, "k": "c", "n": 1, "g": 2 },
        doc! { "_id": 4, "k": "d", "n": 3, "g": 1, "sub": { "v": 2 } },
        doc! { "_id": 5, "k": "e", "n": null, "g": 1 },
        doc! { "_id": 6, "k": "f", "n": 2.5, "sub": { "v": 1 } },
        doc! { "_id": 7, "k": "g", "n": 3_i64, "g": 2 },
        doc! { "_id": 8, "k": "h", "n": [0, 9], "g": 3 },
        doc! { "_id": 9, "k": "i", "n": "two", "g": 3, "sub": { "v": "w" } },
        doc! { "_id": 10, "k": "j", "n": { "x": 1 }, "g": 3 },
    ]
}

/// Runs `commands` on core's engine and on the live server, both holding `documents`
/// in `ns`, and asserts that every reply is the same (documents, field order and
/// number types included).
fn same_replies(live: &Live, ns: &Namespace, documents: &[bson::Document], commands: &[Command]) {
    let mut engine = streamdoc_core::Engine::new(0);
    let executor = live.executor();
    for document in documents {
        let insert = Command::InsertOne { ns: ns.clone(), document: document.clone() };
        let expected = engine.execute(&insert);
        assert!(matches!(expected, Reply::Inserted { .. }), "{expected:?}");
        assert_eq!(live.block_on(executor.execute(&insert)), Ok(expected), "{insert}");
    }
    let mut differences = Vec::new();
    for command in commands {
        let expected = engine.execute(command);
        let got = live.block_on(executor.execute(command));
        if got.as_ref() != Ok(&expected) {
            differences.push(format!("{command}\n  engine: {expected:?}\n  {}: {got:?}", live.server()));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} replies differ:\n{}",
        differences.len(),
        commands.len(),
        differences.join("\n")
    );
}

fn find(ns: &Namespace, filter: bson::Document, sort: Option<bson::Document>, skip: u64, limit: u64) -> Command {
    Command::Find { ns: ns.clone(), filter, projection: None, sort, skip, limit }
}

#[test]
fn finds_sort_skip_limit_and_project_as_the_engine_does() {
    let Some(live) = live::connect("find") else { return };
    let scratch = live.scratch("find");
    let ns = Namespace::new(scratch.name(), "searched");
    let sorted = |sort: bson::Document| find(&ns, doc! {}, Some(sort), 0, 0);
    let projected = |projection: bson::Document, sort: bson::Document| Command::Find {
        ns: ns.clone(),
        filter: doc! {},
        projection: Some(projection),
        sort: Some(sort),
        skip: 0,
        limit: 0,
    };
    let commands = vec![
        // Missing and null sort first ascending, last descending; ties by the unique `k`.
        sorted(doc! { "n": 1, "k": 1 }),
        sorted(doc! { "n": -1, "k": 1 }),
        sorted(doc! { "n": 1, "k": -1 }),
        sorted(doc! { "sub.v": 1, "k": 1 }),
        sorted(doc! { "sub.v": -1, "k": -1 }),
        sorted(doc! { "g": -1, "n": 1, "k": 1 }),
        sorted(doc! { "k": -1 }),
        sorted(doc! { "s": 1, "k": 1 }),
        // Skip and limit after the sort; past the end; a limit of 0 is none.
        find(&ns, doc! {}, Some(doc! { "n": 1, "k": 1 }), 2, 3),
        find(&ns, doc! {}, Some(doc! { "n": -1, "k": 1 }), 0, 1),
        find(&ns, doc! {}, Some(doc! { "k": 1 }), 9, 0),
        find(&ns, doc! {}, Some(doc! { "k": 1 }), 10, 0),
        find(&ns, doc! {}, Some(doc! { "_id": -1 }), 0, 4),
        find(&ns, doc! {}, Some(doc! { "k": 1 }), 100, 5),
        find(&ns, doc! {}, Some(doc! { "k": 1 }), 0, 100),
        // Filtered.
        find(&ns, doc! { "g": 1 }, Some(doc! { "k": -1 }), 0, 0),
        find(&ns, doc! { "n": { "$gte": 2 } }, Some(doc! { "n": 1, "k": 1 }), 1, 2),
        find(&ns, doc! { "n": { "$exists": false } }, Some(doc! { "k": 1 }), 0, 0),
        find(&ns, doc! { "nothing": 1 }, Some(doc! { "k": 1 }), 0, 0),
        // Projections: inclusion with and without `_id`, an exclusion, a dotted path.
        projected(doc! { "_id": 0, "k": 1, "n": 1 }, doc! { "k": 1 }),
        projected(doc! { "k": 1 }, doc! { "n": -1, "k": 1 }),
        projected(doc! { "s": 0, "sub": 0 }, doc! { "k": 1 }),
        projected(doc! { "_id": 0, "k": 1, "sub.v": 1 }, doc! { "sub.v": -1, "k": 1 }),
        // The shape core's read model queries take: an inclusion of two fields, sorted
        // on a dotted field and then the unique one.
        Command::Find {
            ns: ns.clone(),
            filter: doc! { "g": { "$eq": 2 }, "k": { "$ne": null } },
            projection: Some(doc! { "_id": 0, "k": 1, "sub": 1 }),
            sort: Some(doc! { "sub.v": 1, "k": 1 }),
            skip: 1,
            limit: 1,
        },
        // A collection that does not exist.
        find(&Namespace::new(scratch.name(), "none"), doc! {}, Some(doc! { "k": 1 }), 0, 0),
    ];
    same_replies(&live, &ns, &searched(), &commands);
    // MongoDB's order (https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/):
    // missing and null first and equal, numbers by value whatever their type, then
    // strings, then documents; an array sorts by its smallest element ascending, by its
    // largest descending.
    let keys = |command: &Command| match live.block_on(live.executor().execute(command)) {
        Ok(Reply::FoundMany(docs)) => docs.iter().map(|d| d.get_str("k").unwrap_or("?").to_owned()).collect::<Vec<_>>(),
        other => panic!("{command}: {other:?}"),
    };
    assert_eq!(keys(&commands[0]), ["b", "e", "h", "c", "f", "a", "d", "g", "i", "j"]);
    assert_eq!(keys(&commands[1]), ["j", "i", "h", "a", "d", "g", "f", "c", "b", "e"]);
}

#[test]
fn a_find_collects_every_batch() {
    let Some(live) = live::connect("find batches") else { return };
    let scratch = live.scratch("batches");
    let ns = Namespace::new(scratch.name(), "many");
    // Past the server's first batch of 101 documents: the rest come with getMores.
    let documents: Vec<bson::Document> =
        (0..350).map(|i| doc! { "_id": i, "k": format!("{i:04}"), "pad": "x".repeat(64) }).collect();
    let commands = vec![
        find(&ns, doc! {}, Some(doc! { "k": -1 }), 0, 0),
        find(&ns, doc! {}, Some(doc! { "k": 1 }), 0, 250),
        find(&ns, doc! {}, Some(doc! { "k": 1 }), 120, 0),
        find(&ns, doc! {}, Some(doc! { "k": 1 }), 101, 102),
    ];
    same_replies(&live, &ns, &documents, &commands);
    let all = live.block_on(live.executor().execute(&commands[0]));
    let found = match &all {
        Ok(Reply::FoundMany(docs)) => docs.len(),
        other => panic!("{other:?}"),
    };
    assert_eq!(found, 350);
}

#[test]
fn counts_skip_and_limit_as_the_engine_does() {
    let Some(live) = live::connect("count") else { return };
    let scratch = live.scratch("count");
    let ns = Namespace::new(scratch.name(), "searched");
    let count = |filter: bson::Document, skip: u64, limit: u64| Command::Count { ns: ns.clone(), filter, skip, limit };
    let commands = vec![
        count(doc! {}, 0, 0),
        count(doc! { "g": 1 }, 0, 0),
        count(doc! { "g": 2 }, 1, 0),
        count(doc! {}, 2, 3),
        count(doc! {}, 5, 3),
        count(doc! {}, 10, 0),
        count(doc! {}, 100, 0),
        count(doc! {}, 0, 100),
        count(doc! { "n": { "$exists": false } }, 0, 0),
        count(doc! { "n": null }, 0, 1),
        count(doc! { "n": 3 }, 0, 0),
        count(doc! { "sub.v": { "$gt": 0 } }, 1, 1),
        count(doc! { "nothing": 1 }, 0, 0),
        Command::Count { ns: Namespace::new(scratch.name(), "none"), filter: doc! {}, skip: 0, limit: 0 },
    ];
    same_replies(&live, &ns, &searched(), &commands);
}
