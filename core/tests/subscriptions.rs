//! Subscriptions on the engine: every event delivered at least once and in stream order,
//! from durable checkpoints, on both sources, through crashes, a second instance of the
//! consumer, and a change stream that lost its history.

use std::collections::BTreeMap;

use bson::{doc, Document};
use proptest::prelude::*;
use streamdoc_core::engine::{ChangeFeed, Engine};
use streamdoc_core::subscription::{
    checkpoint, run_until_idle, Batch, FeedWatch, HandlerError, Source, Subscription, SubscriptionConfig,
    SubscriptionError, SubscriptionStep,
};
use streamdoc_core::{
    Error, EventStore, Executor, ExpectedVersion, Namespace, NewEvent, SeededIds, SteppingClock, Storage, StoreConfig,
    StoreContext,
};

fn context(config: StoreConfig) -> StoreContext {
    StoreContext::new(config, SteppingClock::new(1_000, 1), SeededIds::new(1)).unwrap()
}

fn store(feed: bool) -> (EventStore<Engine>, Option<ChangeFeed>) {
    let mut engine = Engine::new(1);
    let feed = feed.then(|| engine.enable_change_feed(100_000));
    (EventStore::new(context(StoreConfig::new("app")), engine), feed)
}

fn append(store: &mut EventStore<Engine>, stream: &str, n: usize) {
    let events = (0..n).map(|i| NewEvent::new("Noted", doc! { "i": i as i32 })).collect();
    store.append_to_stream(stream, events, ExpectedVersion::Any).unwrap();
}

fn subscription(store: &EventStore<Engine>, source: Source, batch: u32) -> Subscription {
    let config = SubscriptionConfig::new("billing").stream_type("order").source(source).batch_size(batch).page_size(3);
    Subscription::new(store.context(), config).unwrap()
}

/// What a consumer saw, per stream: every batch's (after, last).
#[derive(Debug, Default)]
struct Seen {
    batches: BTreeMap<String, Vec<(u64, u64)>>,
}

impl Seen {
    fn record(&mut self, batch: &Batch) {
        let positions: Vec<u64> = batch.events.iter().map(|e| e.metadata.stream_position).collect();
        let expected: Vec<u64> = (batch.after + 1..=batch.last_position()).collect();
        assert_eq!(positions, expected, "a batch holds contiguous positions right after its checkpoint");
        assert!(batch.events.iter().all(|e| e.metadata.stream_name == batch.stream));
        self.batches.entry(batch.stream.clone()).or_default().push((batch.after, batch.last_position()));
    }

    /// Counts (lost, reordered) against the streams' final positions: an event is lost
    /// if no batch held it; a batch is reordered if it starts past the end of everything
    /// delivered before it on its stream (a gap), which an at-least-once order forbids.
    fn check(&self, positions: &BTreeMap<String, u64>) -> (u64, u64) {
        let (mut lost, mut reordered) = (0, 0);
        for (stream, &end) in positions {
            let batches = self.batches.get(stream).map(Vec::as_slice).unwrap_or_default();
            let mut high = 0;
            for &(after, last) in batches {
                if after > high {
                    reordered += 1;
                }
                high = high.max(last);
            }
            lost += end.saturating_sub(high);
        }
        (lost, reordered)
    }
}

fn positions(store: &mut EventStore<Engine>, streams: &[&str]) -> BTreeMap<String, u64> {
    streams
        .iter()
        .map(|s| (s.to_string(), store.read_stream(s, Default::default()).unwrap().current_stream_version))
        .collect()
}

fn checkpoints(store: &EventStore<Engine>) -> BTreeMap<String, i64> {
    store
        .executor()
        .documents(&Namespace::new("app", "streamdoc_checkpoints"))
        .iter()
        .filter(|d| d.get_str("streamName").is_ok_and(|s| !s.is_empty()))
        .map(|d| (d.get_str("streamName").unwrap().to_owned(), d.get_i64(checkpoint::POSITION).unwrap()))
        .collect()
}

fn drain(sub: &mut Subscription, store: &mut EventStore<Engine>, watch: Option<&mut FeedWatch>, seen: &mut Seen) {
    run_until_idle(sub, store.executor_mut(), watch, |b| {
        seen.record(b);
        Ok::<_, ()>(())
    })
    .unwrap();
}

#[test]
fn polling_delivers_every_stream_in_order_in_bounded_batches_and_resumes_from_checkpoints() {
    let (mut store, _) = store(false);
    let streams = ["order:a", "order:b", "order:c", "order:d", "order:e"];
    for (i, s) in streams.iter().enumerate() {
        append(&mut store, s, i + 1);
    }
    append(&mut store, "cart:x", 2);
    let mut sub = subscription(&store, Source::Polling, 2);
    let mut seen = Seen::default();
    drain(&mut sub, &mut store, None, &mut seen);
    let ends = positions(&mut store, &streams);
    assert_eq!(seen.check(&ends), (0, 0));
    assert!(!seen.batches.contains_key("cart:x"), "only the subscribed type");
    assert!(seen.batches.values().flatten().all(|(a, l)| l - a <= 2), "batch size");
    assert_eq!(checkpoints(&store), ends.iter().map(|(s, p)| (s.clone(), *p as i64)).collect());
    assert_eq!(sub.stats().polls, 1);
    assert!(store
        .executor()
        .index_names(&Namespace::new("app", "order"))
        .contains(&"metadata.updatedAt_1_streamName_1".to_owned()));

    // A later poll delivers only what is new; a new instance starts from the checkpoints.
    append(&mut store, "order:b", 3);
    append(&mut store, "order:f", 1);
    let before = seen.batches.values().flatten().count();
    drain(&mut sub, &mut store, None, &mut seen);
    assert_eq!(sub.stats().polls, 2);
    let new: Vec<_> = seen.batches.iter().flat_map(|(s, b)| b.iter().map(move |x| (s.clone(), *x))).collect();
    assert_eq!(new.len() - before, 3, "b: 3..4, 5..5 (batches of 2), f: 0..1 — {new:?}");
    let mut restarted = subscription(&store, Source::Polling, 100);
    let mut again = Seen::default();
    drain(&mut restarted, &mut store, None, &mut again);
    assert!(again.batches.is_empty(), "everything acknowledged stays acknowledged: {:?}", again.batches);
}

#[test]
fn a_batch_delivered_but_not_acknowledged_is_delivered_again() {
    let (mut store, _) = store(false);
    append(&mut store, "order:1", 3);
    let mut sub = subscription(&store, Source::Polling, 10);
    loop {
        match sub.next() {
            SubscriptionStep::Send(cmd) => {
                let reply = Executor::execute(store.executor_mut(), &cmd).unwrap();
                sub.feed(reply);
            }
            SubscriptionStep::Deliver(batch) => {
                assert_eq!(batch.last_position(), 3);
                break; // the process dies with the batch in hand
            }
            other => panic!("{other:?}"),
        }
    }
    drop(sub);
    let mut seen = Seen::default();
    drain(&mut subscription(&store, Source::Polling, 10), &mut store, None, &mut seen);
    assert_eq!(seen.batches["order:1"], vec![(0, 3)]);
    // A handler that fails leaves the checkpoint where it was.
    append(&mut store, "order:1", 1);
    let mut sub = subscription(&store, Source::Polling, 10);
    let failed = run_until_idle(&mut sub, store.executor_mut(), None, |_| Err("mail server down"));
    assert!(matches!(failed, Err(HandlerError::Handler("mail server down"))));
    assert_eq!(checkpoints(&store)["order:1"], 3);
}

#[test]
fn the_machine_refuses_misuse_and_bad_configurations() {
    let (store, _) = store(false);
    let mut sub = subscription(&store, Source::Polling, 10);
    assert!(matches!(sub.next(), SubscriptionStep::Send(_)));
    assert!(matches!(sub.next(), SubscriptionStep::Failed(Error::Misuse { .. })));
    assert!(sub.ack().is_err());
    let per_type = Subscription::new(store.context(), SubscriptionConfig::new("c"));
    assert!(matches!(per_type, Err(Error::Subscription(SubscriptionError::StreamTypeRequired))));
    let single = context(StoreConfig::new("app").with_storage(Storage::SingleCollection { name: None }));
    assert!(Subscription::new(&single, SubscriptionConfig::new("c")).is_ok(), "one collection holds every type");
    for bad in [SubscriptionConfig::new(""), SubscriptionConfig::new("c").batch_size(0)] {
        assert!(matches!(
            Subscription::new(&single, bad),
            Err(Error::Subscription(SubscriptionError::InvalidConfig { .. }))
        ));
    }
}

#[test]
fn change_streams_deliver_from_the_notices_resume_from_the_stored_token_and_recover_lost_history() {
    let (mut store, feed) = store(true);
    let feed = feed.unwrap();
    append(&mut store, "order:old", 2); // before the consumer existed: caught up by a sweep
    let mut watch = FeedWatch::new(feed.clone());
    let mut sub = subscription(&store, Source::ChangeStream, 100);
    let mut seen = Seen::default();
    drain(&mut sub, &mut store, Some(&mut watch), &mut seen);
    assert_eq!(seen.batches["order:old"], vec![(0, 2)]);
    append(&mut store, "order:1", 1);
    append(&mut store, "order:1", 2);
    append(&mut store, "cart:1", 1);
    drain(&mut sub, &mut store, Some(&mut watch), &mut seen);
    assert_eq!(seen.batches["order:1"], vec![(0, 1), (1, 3)]);
    assert_eq!(sub.stats().carried, 2, "both came in the notices");
    let token_doc = |store: &EventStore<Engine>| {
        store.executor().find_document(&Namespace::new("app", "streamdoc_checkpoints"), &doc! { "streamName": "" })
    };
    assert!(token_doc(&store).is_some_and(|d| d.get_document("resumeToken").is_ok()));

    // A second process of the consumer resumes after the stored token: no sweep.
    append(&mut store, "order:2", 1);
    let mut second = subscription(&store, Source::ChangeStream, 100);
    let mut watch2 = FeedWatch::new(feed.clone());
    let mut seen2 = Seen::default();
    drain(&mut second, &mut store, Some(&mut watch2), &mut seen2);
    assert_eq!(second.stats().sweeps, 0);
    assert_eq!(seen2.batches.keys().collect::<Vec<_>>(), ["order:2"]);

    // Its history rolls off: the runner reports it, restart() catches up by polling.
    let (mut small, small_feed) = {
        let mut engine = Engine::new(2);
        let feed = engine.enable_change_feed(30);
        (EventStore::new(context(StoreConfig::new("app")), engine), feed)
    };
    append(&mut small, "order:1", 1);
    let mut sub = subscription(&small, Source::ChangeStream, 100);
    let mut watch = FeedWatch::new(small_feed);
    let mut seen = Seen::default();
    drain(&mut sub, &mut small, Some(&mut watch), &mut seen);
    for i in 0..40 {
        append(&mut small, &format!("order:{}", i % 5), 1);
    }
    let lost = run_until_idle(&mut sub, small.executor_mut(), Some(&mut watch), |_| Ok::<_, ()>(()));
    assert!(
        matches!(lost, Err(HandlerError::Subscription(Error::Subscription(SubscriptionError::HistoryLost { .. })))),
        "{lost:?}"
    );
    sub.restart();
    drain(&mut sub, &mut small, Some(&mut watch), &mut seen);
    let ends = positions(&mut small, &["order:0", "order:1", "order:2", "order:3", "order:4"]);
    assert_eq!(seen.check(&ends), (0, 0));
}

#[test]
fn notices_without_a_delta_are_looked_up_by_id() {
    let (mut store, feed) = store(true);
    let mut sub = subscription(&store, Source::ChangeStream, 100);
    let mut seen = Seen::default();
    drain(&mut sub, &mut store, Some(&mut FeedWatch::new(feed.clone().unwrap())), &mut seen);
    let mut cursor = feed.unwrap().watch(&Namespace::new("app", "order"), None).unwrap();
    append(&mut store, "order:1", 1);
    append(&mut store, "order:1", 1);
    for mut change in cursor.next_batch().unwrap() {
        change.remove("updateDescription"); // as mongo-java-server sends them
        change.remove("fullDocument");
        sub.on_change(change);
    }
    drain(&mut sub, &mut store, None, &mut seen);
    assert_eq!(sub.stats().lookups, 2);
    assert_eq!(seen.check(&positions(&mut store, &["order:1"])), (0, 0));

    // As mongo-java-server 1.47 sends them: no ns, and the update where the document key
    // belongs. The notices say only that something changed: one poll answers them all.
    append(&mut store, "order:1", 1);
    append(&mut store, "order:2", 2);
    let polls = sub.stats().polls;
    for mut change in cursor.next_batch().unwrap() {
        change.remove("ns");
        change.remove("updateDescription");
        change.insert("documentKey", doc! { "$push": { "events": { "$each": [] } } });
        sub.on_change(change);
    }
    drain(&mut sub, &mut store, None, &mut seen);
    assert_eq!(sub.stats().polls, polls + 1, "one poll for both notices");
    assert_eq!(seen.check(&positions(&mut store, &["order:1", "order:2"])), (0, 0));
}

/// One step of a schedule: a writer appends, or instance `i` of the consumer moves.
#[derive(Debug, Clone)]
enum Move {
    Append { stream: u8, events: u8 },
    Step { instance: u8 },
    Crash { instance: u8 },
}

fn schedule() -> impl Strategy<Value = Vec<Move>> {
    let one = prop_oneof![
        (0u8..3, 1u8..4).prop_map(|(stream, events)| Move::Append { stream, events }),
        (0u8..2).prop_map(|instance| Move::Step { instance }),
        (0u8..2).prop_map(|instance| Move::Step { instance }),
        (0u8..2).prop_map(|instance| Move::Step { instance }),
        (0u8..2).prop_map(|instance| Move::Crash { instance }),
    ];
    prop::collection::vec(one, 1..80)
}

/// Steps one instance once: a command and its reply, a delivery and its ack, or
/// (idle) a pull from its change stream.
fn step(sub: &mut Subscription, store: &mut EventStore<Engine>, watch: &mut FeedWatch, seen: &mut Seen) {
    match sub.next() {
        SubscriptionStep::Send(cmd) => {
            let reply = Executor::execute(store.executor_mut(), &cmd).unwrap();
            sub.feed(reply);
        }
        SubscriptionStep::Deliver(batch) => {
            seen.record(&batch);
            sub.ack().unwrap();
        }
        SubscriptionStep::Watch { ns, resume_after } => watch.open(sub, &ns, resume_after.as_ref()).unwrap(),
        SubscriptionStep::Idle => {
            watch.pull(sub).unwrap();
        }
        SubscriptionStep::Failed(e) => panic!("{e}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Two instances of one consumer and a writer, interleaved at random, with crashes
    /// (an instance dropped mid-batch and started again): no event lost, no gap in any
    /// instance's view of a stream, and the checkpoints — watched through the change
    /// feed — only ever move forward, one document per stream.
    #[test]
    fn two_instances_and_crashes_never_lose_reorder_or_fork_a_checkpoint(moves in schedule(), change in any::<bool>()) {
        let (mut store, feed) = store(true);
        let feed = feed.unwrap();
        let mut audit = feed.watch(&Namespace::new("app", "streamdoc_checkpoints"), None).unwrap();
        let source = if change { Source::ChangeStream } else { Source::Polling };
        let mut instances: Vec<(Subscription, FeedWatch, Seen)> = (0..2)
            .map(|_| (subscription(&store, source, 2), FeedWatch::new(feed.clone()), Seen::default()))
            .collect();
        let names = ["order:0", "order:1", "order:2"];
        for m in moves {
            match m {
                Move::Append { stream, events } => append(&mut store, names[stream as usize], events as usize),
                Move::Step { instance } => {
                    let (sub, watch, seen) = &mut instances[instance as usize];
                    step(sub, &mut store, watch, seen);
                }
                Move::Crash { instance } => {
                    let (sub, watch, _) = &mut instances[instance as usize];
                    *sub = subscription(&store, source, 2);
                    *watch = FeedWatch::new(feed.clone());
                }
            }
        }
        // Let both settle (a poll under way finishes, then one full poll), then check.
        for (sub, watch, seen) in &mut instances {
            drain(sub, &mut store, Some(watch), seen);
            drain(sub, &mut store, Some(watch), seen);
        }
        let ends = positions(&mut store, &names);
        let mut union = Seen::default();
        for (_, _, seen) in &instances {
            for (stream, batches) in &seen.batches {
                union.batches.entry(stream.clone()).or_default().extend(batches);
            }
        }
        for batches in union.batches.values_mut() {
            batches.sort();
        }
        prop_assert_eq!(union.check(&ends).0, 0, "no event lost");
        let mut history: BTreeMap<String, Vec<(String, i64)>> = BTreeMap::new();
        for c in audit.next_batch().unwrap() {
            let op = c.get_str("operationType").unwrap().to_owned();
            let (stream, position) = match op.as_str() {
                "insert" => {
                    let d = c.get_document("fullDocument").unwrap();
                    (d.get_str("streamName").unwrap().to_owned(), d.get_i64("position").ok())
                }
                _ => {
                    let fields = c.get_document("updateDescription").unwrap().get_document("updatedFields").unwrap();
                    let key = c.get_document("documentKey").unwrap().get("_id").unwrap().clone();
                    let d: Document = store.executor().find_document(&Namespace::new("app", "streamdoc_checkpoints"), &doc! { "_id": key }).unwrap();
                    (d.get_str("streamName").unwrap().to_owned(), fields.get_i64("position").ok())
                }
            };
            if let Some(p) = position {
                history.entry(stream).or_default().push((op, p));
            }
        }
        for (stream, moves) in &history {
            prop_assert_eq!(moves.iter().filter(|(op, _)| op == "insert").count(), 1, "{}: one checkpoint document", stream);
            prop_assert!(moves.windows(2).all(|w| w[0].1 < w[1].1), "{}: only forward: {:?}", stream, moves);
        }
        // Every batch follows a checkpoint that existed (no skipped event), and each
        // instance's batches of a stream never go back past where it had been.
        for (_, _, seen) in &instances {
            for (stream, batches) in &seen.batches {
                let existed: Vec<i64> = std::iter::once(0).chain(history.get(stream).into_iter().flatten().map(|(_, p)| *p)).collect();
                prop_assert!(batches.iter().all(|(after, _)| existed.contains(&(*after as i64))), "{}: {:?} vs {:?}", stream, batches, existed);
                prop_assert!(batches.windows(2).all(|w| w[0].0 <= w[1].0), "{}: went back: {:?}", stream, batches);
            }
        }
        let final_checkpoints = checkpoints(&store);
        for (stream, end) in &ends {
            prop_assert_eq!(final_checkpoints.get(stream).copied().unwrap_or(0), *end as i64);
        }
    }
}

#[test]
fn the_emmett_layout_and_one_collection_for_every_type_are_subscribed_alike() {
    use streamdoc_core::Layout;
    let config =
        StoreConfig::new("app").with_layout(Layout::Emmett).with_storage(Storage::SingleCollection { name: None });
    for source in [Source::Polling, Source::ChangeStream] {
        let mut engine = Engine::new(1);
        let mut watch = FeedWatch::new(engine.enable_change_feed(10_000));
        let mut store = EventStore::new(context(config.clone()), engine);
        let mut all = Subscription::new(store.context(), SubscriptionConfig::new("all").source(source)).unwrap();
        let mut carts =
            Subscription::new(store.context(), SubscriptionConfig::new("carts").stream_type("cart").source(source))
                .unwrap();
        let (mut seen_all, mut seen_carts) = (Seen::default(), Seen::default());
        let mut carts_watch = watch.clone();
        drain(&mut all, &mut store, Some(&mut watch), &mut seen_all);
        drain(&mut carts, &mut store, Some(&mut carts_watch), &mut seen_carts);
        append(&mut store, "cart:1", 2);
        append(&mut store, "order:1", 1);
        append(&mut store, "cart:1", 1);
        for _ in 0..2 {
            drain(&mut all, &mut store, Some(&mut watch), &mut seen_all);
            drain(&mut carts, &mut store, Some(&mut carts_watch), &mut seen_carts);
        }
        let ends = positions(&mut store, &["cart:1", "order:1"]);
        assert_eq!(seen_all.check(&ends), (0, 0), "{source:?}");
        assert_eq!(seen_carts.batches.keys().collect::<Vec<_>>(), ["cart:1"], "{source:?}");
        assert_eq!(seen_carts.batches["cart:1"].last().unwrap().1, 3);
        if source == Source::ChangeStream {
            assert!(carts.stats().carried > 0, "messages.<i> deltas carry the events");
            assert_eq!(carts.stats().lookups, 0);
        }
        assert_eq!(seen_all.batches.len(), 2, "both types");
    }
}

/// One state of the exhaustive exploration: the engine, two writers' appends in
/// progress, and the consumer.
#[derive(Clone)]
struct World {
    engine: Engine,
    writers: Vec<Option<streamdoc_core::ops::Append>>,
    sub: Subscription,
    watch: FeedWatch,
    seen: Vec<(String, u64, u64)>,
    crashed: bool,
}

impl World {
    /// A copy whose change-stream cursor follows the copied engine's feed.
    fn fork(&self) -> World {
        let engine = self.engine.clone();
        let watch = self.watch.rebound(engine.change_feed().unwrap()).unwrap();
        World { engine, watch, ..self.clone() }
    }
}

/// Steps writer `w` by one command, or takes its result once its append is done.
fn step_writer(world: &mut World, w: usize) {
    use streamdoc_core::ops::{Operation, Step};
    let Some(op) = world.writers[w].as_mut() else { return };
    match op.next() {
        Step::Send(cmd) => {
            let reply = world.engine.execute(&cmd);
            op.feed(reply);
        }
        Step::Done(result) => {
            result.unwrap();
            world.writers[w] = None;
        }
    }
}

/// Steps the consumer by one machine step.
fn step_consumer(world: &mut World) {
    match world.sub.next() {
        SubscriptionStep::Send(cmd) => {
            let reply = world.engine.execute(&cmd);
            world.sub.feed(reply);
        }
        SubscriptionStep::Deliver(b) => {
            world.seen.push((b.stream.clone(), b.after, b.last_position()));
            world.sub.ack().unwrap();
        }
        SubscriptionStep::Watch { ns, resume_after } => {
            world.watch.open(&world.sub, &ns, resume_after.as_ref()).unwrap()
        }
        SubscriptionStep::Idle => {
            world.watch.pull(&mut world.sub).unwrap();
        }
        SubscriptionStep::Failed(e) => panic!("{e}"),
    }
}

/// Every interleaving of two writers' appends (command by command) with `budget` steps
/// of the consumer, and a crash of the consumer at any point in at most one branch of
/// each: afterwards the consumer settles, and every event was delivered in order.
fn explore(world: World, budget: u32, config: &StoreConfig, source: Source, schedules: &mut u64) {
    let mut moved = false;
    for w in 0..world.writers.len() {
        if world.writers[w].is_some() {
            // One command of the writer (or, once its append is done, its result).
            let mut next = world.fork();
            step_writer(&mut next, w);
            moved = true;
            explore(next, budget, config, source, schedules);
        }
    }
    if budget > 0 {
        moved = true;
        let mut next = world.fork();
        step_consumer(&mut next);
        explore(next, budget - 1, config, source, schedules);
        if !world.crashed {
            let mut crashed = world.fork();
            crashed.crashed = true;
            crashed.sub = Subscription::new(&context(config.clone()), sub_config(source)).unwrap();
            crashed.watch = FeedWatch::new(crashed.engine.change_feed().unwrap());
            explore(crashed, budget - 1, config, source, schedules);
        }
    }
    if moved {
        return;
    }
    *schedules += 1;
    let mut world = world;
    for _ in 0..2 {
        let World { engine, sub, watch, seen, .. } = &mut world;
        run_until_idle(sub, engine, Some(watch), |b| {
            seen.push((b.stream.clone(), b.after, b.last_position()));
            Ok::<_, ()>(())
        })
        .unwrap();
    }
    let mut high: BTreeMap<&str, u64> = BTreeMap::new();
    for (stream, after, last) in &world.seen {
        let h = high.entry(stream).or_default();
        assert!(*after <= *h, "a gap on {stream}: {:?}", world.seen);
        *h = (*h).max(*last);
    }
    for stream in ["order:1", "order:2"] {
        let end = world.engine.find_document(&Namespace::new("app", "order"), &doc! { "streamName": stream });
        let end = end.map_or(0, |d| d.get_document("metadata").unwrap().get_i64("streamPosition").unwrap() as u64);
        assert_eq!(high.get(stream).copied().unwrap_or(0), end, "{stream} delivered to its end: {:?}", world.seen);
    }
}

/// The consumer's steps in each explored schedule.
const CONSUMER_STEPS: u32 = 6;

fn sub_config(source: Source) -> SubscriptionConfig {
    SubscriptionConfig::new("billing").stream_type("order").source(source).batch_size(1)
}

#[test]
fn every_interleaving_of_appends_consumer_steps_and_a_crash_delivers_everything_in_order() {
    let config = StoreConfig::new("app");
    for source in [Source::Polling, Source::ChangeStream] {
        let mut engine = Engine::new(1);
        let feed = engine.enable_change_feed(10_000);
        let ctx = context(config.clone());
        let mut engine = engine;
        for stream in ["order:1", "order:2"] {
            let mut first =
                ctx.append(stream, vec![NewEvent::new("Noted", doc! {})], ExpectedVersion::NoStream).unwrap();
            streamdoc_core::driver::run(&mut first, &mut engine).unwrap();
        }
        // Two writers, one per stream, each one conditional update (the store knows both
        // positions), racing the consumer's every step.
        let append = |stream: &str| {
            Some(ctx.append(stream, vec![NewEvent::new("Noted", doc! {})], ExpectedVersion::Any).unwrap())
        };
        let world = World {
            writers: vec![append("order:1"), append("order:2")],
            engine,
            sub: Subscription::new(&ctx, sub_config(source)).unwrap(),
            watch: FeedWatch::new(feed),
            seen: Vec::new(),
            crashed: false,
        };
        let mut schedules = 0;
        explore(world, CONSUMER_STEPS, &config, source, &mut schedules);
        println!("{source:?}: {schedules} schedules");
        assert!(schedules > 2_000, "{schedules}");
    }
}
