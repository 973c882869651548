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
