//! Inline projections: what the append writes beside its events, in how many round
//! trips, and that every read model is the fold of its stream's events under every
//! interleaving.

use std::cell::RefCell;
use std::rc::Rc;

use bson::{doc, Bson, Document};
use proptest::prelude::*;
use streamdoc_core::engine::EngineOptions;
use streamdoc_core::projection::{InlineProjection, ProjectionQuery, QueryError};
use streamdoc_core::sim::{explore, invariants, ClientScript, Simulation};
use streamdoc_core::{
    Command, ConfigError, Engine, Error, EventStore, Executor, ExecutorError, ExpectedVersion, Namespace, NewEvent,
    OpSpec, Reply, SeededIds, SteppingClock, Storage, StoreConfig, StoreContext,
};

/// `tally`: counts `Added` (summing `amount`) and `Removed`, deleted by `Closed`; it
/// also lists the types it was given, so a test sees that nothing else reached it.
fn tally() -> InlineProjection {
    InlineProjection::new("tally", ["Added", "Removed", "Closed"], |state: Option<Document>, event| {
        let Some(mut state) = state else { unreachable!("tally has an initial state") };
        let count = state.get_i32("count").unwrap_or(0);
        match event.event_type.as_str() {
            "Added" => {
                state.insert("count", count + 1);
                let total = state.get_i32("total").unwrap_or(0) + event.data.get_i32("amount").unwrap_or(0);
                state.insert("total", total);
            }
            "Removed" => {
                state.insert("count", count - 1);
            }
            _ => return Ok(None),
        }
        let mut seen = state.get_array("seen").cloned().unwrap_or_default();
        seen.push(Bson::String(event.event_type.clone()));
        state.insert("seen", seen);
        Ok(Some(state))
    })
    .with_initial(doc! { "count": 0, "total": 0 })
}

fn config() -> StoreConfig {
    StoreConfig::new("app").with_projection(tally())
}

fn store_on(config: StoreConfig, engine: Engine) -> EventStore<Counting> {
    shared(config, Rc::new(RefCell::new(engine)))
}

fn shared(config: StoreConfig, engine: Rc<RefCell<Engine>>) -> EventStore<Counting> {
    // Each store its own ids, as separate processes have.
    static SEED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let seed = SEED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let ctx = StoreContext::new(config, SteppingClock::new(0, 1), SeededIds::new(seed)).unwrap();
    EventStore::new(ctx, Counting { engine, sent: Vec::new() })
}

fn store() -> EventStore<Counting> {
    store_on(config(), Engine::new(1))
}

fn ev(event_type: &str, amount: i32) -> NewEvent {
    NewEvent::new(event_type, doc! { "amount": amount })
}

/// The engine, recording the kind of every command sent.
/// Stores built on one `Counting` share its engine, as processes share a server.
#[derive(Debug)]
struct Counting {
    engine: Rc<RefCell<Engine>>,
    sent: Vec<&'static str>,
}

impl Executor for Counting {
    fn execute(&mut self, command: &Command) -> Result<Reply, ExecutorError> {
        self.sent.push(command.kind());
        Ok(self.engine.borrow_mut().execute(command))
    }
}

/// The commands sent since the last call.
fn sent(store: &mut EventStore<Counting>) -> Vec<&'static str> {
    std::mem::take(&mut store.executor_mut().sent)
}

fn ns() -> Namespace {
    Namespace::new("app", "cart")
}

fn stored(store: &EventStore<Counting>) -> Document {
    store.executor().engine.borrow().documents(&ns()).into_iter().next().expect("the stream document")
}

#[test]
fn only_handled_events_reach_the_projection_and_the_read_model_is_emmetts_layout() {
    let mut store = store();
    store
        .append_to_stream("cart:1", vec![ev("Added", 10), ev("Viewed", 0), ev("Added", 5)], ExpectedVersion::NoStream)
        .unwrap();
    let model = store.read_model("cart:1", "tally").unwrap().expect("a read model");
    assert_eq!(model.state(), doc! { "count": 2, "total": 15, "seen": ["Added", "Added"] });
    assert_eq!(
        model.document.get_document("_metadata").unwrap(),
        &doc! { "streamId": "1", "name": "tally", "schemaVersion": 1, "streamPosition": 3_i64 }
    );
    assert_eq!(stored(&store).get_document("projections").unwrap().get_document("tally").unwrap(), &model.document);
    // An append of no handled event leaves the read model as it was.
    store.append_to_stream("cart:1", vec![ev("Viewed", 0)], ExpectedVersion::Exact(3)).unwrap();
    assert_eq!(store.read_model("cart:1", "tally").unwrap().unwrap().document, model.document);
}

#[test]
fn a_deleted_read_model_is_unset_and_the_next_event_starts_again() {
    let mut store = store();
    store.append_to_stream("cart:1", vec![ev("Added", 1), ev("Closed", 0)], ExpectedVersion::NoStream).unwrap();
    assert_eq!(store.read_model("cart:1", "tally").unwrap(), None);
    let doc = stored(&store);
    assert!(doc.get_document("projections").map_or(true, |p| !p.contains_key("tally")), "{doc}");
    store.append_to_stream("cart:1", vec![ev("Added", 7)], ExpectedVersion::Exact(2)).unwrap();
    let model = store.read_model("cart:1", "tally").unwrap().unwrap();
    assert_eq!(model.state(), doc! { "count": 1, "total": 7, "seen": ["Added"] });
}

#[test]
fn a_known_position_append_with_remembered_read_models_is_one_command() {
    let mut store = store();
    store.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::NoStream).unwrap();
    assert_eq!(sent(&mut store), ["createIndex", "updateOne"], "a new stream needs no read");
    store.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::Exact(1)).unwrap();
    assert_eq!(sent(&mut store), ["updateOne"], "the store wrote the read model at 1: no read");
    store.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::Any).unwrap();
    assert_eq!(sent(&mut store), ["updateOne"], "Any tries the remembered position with the remembered read model");

    // Another store (another process) knows nothing: it reads the read models once.
    let mut other = shared(config(), store.executor().engine.clone());
    other.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::Exact(3)).unwrap();
    assert_eq!(sent(&mut other), ["createIndex", "findOne", "updateOne"]);
    other.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::Exact(4)).unwrap();
    assert_eq!(sent(&mut other), ["updateOne"]);
    assert_eq!(other.read_model("cart:1", "tally").unwrap().unwrap().state().get_i32("count").unwrap(), 5);

    // The first store's memory is stale now: its write matches nothing, and the conflict
    // is reported as without projections.
    let stale = store.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::Exact(3));
    assert!(matches!(stale, Err(Error::ConcurrencyConflict { actual: Some(5), .. })), "{stale:?}");
}

#[test]
fn without_projections_nothing_changes() {
    let mut store = store_on(StoreConfig::new("app"), Engine::new(1));
    store.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::NoStream).unwrap();
    store.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::Exact(1)).unwrap();
    assert_eq!(sent(&mut store), ["createIndex", "updateOne", "updateOne"]);
    assert!(!stored(&store).contains_key("projections"));
}

#[test]
fn a_new_schema_version_refolds_the_stream_on_the_next_append() {
    let mut v1 = store();
    v1.append_to_stream("cart:1", vec![ev("Added", 2), ev("Added", 3)], ExpectedVersion::NoStream).unwrap();
    let doubled = InlineProjection::new("tally", ["Added"], |state: Option<Document>, e| {
        let total = state.and_then(|s| s.get_i32("double").ok()).unwrap_or(0) + 2 * e.data.get_i32("amount").unwrap();
        Ok(Some(doc! { "double": total }))
    })
    .with_schema_version(2);
    let mut v2 = shared(StoreConfig::new("app").with_projection(doubled), v1.executor().engine.clone());
    v2.append_to_stream("cart:1", vec![ev("Added", 10)], ExpectedVersion::Exact(2)).unwrap();
    assert_eq!(sent(&mut v2), ["createIndex", "findOne", "findOne", "updateOne"], "head, whole stream, write");
    let model = v2.read_model("cart:1", "tally").unwrap().unwrap();
    assert_eq!(model.state(), doc! { "double": 30 });
    assert_eq!(model.metadata().schema_version, 2);
    assert_eq!(model.metadata().stream_position, 3);
}

#[test]
fn a_failing_projection_writes_nothing() {
    let failing =
        InlineProjection::new("broken", ["Added"], |_, _| Err(streamdoc_core::projection::EvolveError("no".into())));
    let mut store = store_on(config().with_projection(failing), Engine::new(1));
    let result = store.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::NoStream);
    assert!(
        matches!(&result, Err(Error::Projection { projection, message, .. }) if projection == "broken" && message == "no")
    );
    assert!(store.executor().engine.borrow().documents(&ns()).is_empty());
}

#[test]
fn a_read_model_that_would_pass_the_document_limit_is_stream_too_large_and_changes_nothing() {
    let big = InlineProjection::new("big", ["Added"], |_, _| Ok(Some(doc! { "blob": "x".repeat(4096) })));
    let engine = Engine::with_options(1, EngineOptions { max_document_size: 3000, ..EngineOptions::default() });
    let mut store = store_on(StoreConfig::new("app").with_projection(big), engine);
    let result = store.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::NoStream);
    assert!(matches!(result, Err(Error::StreamTooLarge { .. })), "{result:?}");
    assert!(store.executor().engine.borrow().documents(&ns()).is_empty());
}

#[test]
fn queries_filter_sort_skip_limit_and_count_across_streams() {
    let mut store = store();
    for (id, amounts) in [("a", vec![5]), ("b", vec![1, 1]), ("c", vec![9]), ("d", vec![])] {
        let mut events: Vec<NewEvent> = amounts.iter().map(|a| ev("Added", *a)).collect();
        events.push(ev("Viewed", 0));
        store.append_to_stream(&format!("cart:{id}"), events, ExpectedVersion::NoStream).unwrap();
    }
    let names = |models: Vec<streamdoc_core::projection::ReadModel>| {
        models.into_iter().map(|m| m.stream_name).collect::<Vec<_>>()
    };
    // cart:d's projection handled nothing: it has no read model.
    let all = ProjectionQuery::new("cart", "tally");
    assert_eq!(names(store.find_read_models(all.clone()).unwrap()), ["cart:a", "cart:b", "cart:c"]);
    let by_total = all.clone().sort(doc! { "total": -1 });
    assert_eq!(names(store.find_read_models(by_total.clone()).unwrap()), ["cart:c", "cart:a", "cart:b"]);
    assert_eq!(names(store.find_read_models(by_total.clone().skip(1).limit(1)).unwrap()), ["cart:a"]);
    let big = all.clone().filter(doc! { "total": { "$gte": 5 } });
    assert_eq!(store.count_read_models(big.clone()).unwrap(), 2);
    assert_eq!(store.count_read_models(big.clone().skip(1)).unwrap(), 1);
    assert_eq!(names(store.find_read_models(big.streams(["cart:c", "cart:b"])).unwrap()), ["cart:c"]);
    // A value is a value, never an operator.
    let literal = all.clone().filter(doc! { "seen": { "$eq": ["Added", "Added"] } });
    assert_eq!(names(store.find_read_models(literal).unwrap()), ["cart:b"]);
    let hostile = all.clone().filter(doc! { "$where": "sleep(1000)" });
    assert!(matches!(
        store.find_read_models(hostile),
        Err(Error::InvalidQuery(QueryError::UnsupportedOperator { .. }))
    ));
    let first = store.find_read_model(by_total).unwrap().unwrap();
    assert_eq!((first.stream_name.as_str(), first.state().get_i32("total").unwrap()), ("cart:c", 9));
    assert!(store.find_read_models(ProjectionQuery::new("order", "tally")).unwrap().is_empty());
}

#[test]
fn queries_in_a_single_collection_see_only_their_stream_type_and_custom_storage_is_refused() {
    let single = config().with_storage(Storage::SingleCollection { name: None });
    let mut store = store_on(single, Engine::new(1));
    store.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::NoStream).unwrap();
    store.append_to_stream("order:1", vec![ev("Added", 1)], ExpectedVersion::NoStream).unwrap();
    assert_eq!(store.count_read_models(ProjectionQuery::new("cart", "tally")).unwrap(), 1);
    let custom = config()
        .with_storage(Storage::Custom(streamdoc_core::Resolver::new(|s| Namespace::new("app", s.stream_type()))));
    let mut store = store_on(custom, Engine::new(1));
    let refused = store.count_read_models(ProjectionQuery::new("cart", "tally"));
    assert!(matches!(refused, Err(Error::InvalidQuery(QueryError::CustomStorage))), "{refused:?}");
}

#[test]
fn declared_indexes_are_created_on_first_use() {
    let indexed = tally().with_index(doc! { "total": -1 }).with_index(doc! { "count": 1, "total": 1 });
    let mut store = store_on(StoreConfig::new("app").with_projection(indexed), Engine::new(1));
    store.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::NoStream).unwrap();
    assert_eq!(sent(&mut store), ["createIndex", "createIndex", "createIndex", "updateOne"]);
    assert_eq!(
        store.executor().engine.borrow().index_names(&ns()),
        ["_id_", "streamName_1", "projections.tally.total_-1", "projections.tally.count_1_projections.tally.total_1"]
    );
}

#[test]
fn invalid_definitions_are_refused() {
    let ctx = |config: StoreConfig| StoreContext::new(config, SteppingClock::new(0, 1), SeededIds::new(1));
    for bad in [
        InlineProjection::new("a.b", ["E"], |s, _| Ok(s)),
        InlineProjection::new("", ["E"], |s, _| Ok(s)),
        InlineProjection::new("$x", ["E"], |s, _| Ok(s)),
        InlineProjection::new("p", Vec::<String>::new(), |s, _| Ok(s)),
        InlineProjection::new("p", ["E"], |s, _| Ok(s)).with_initial(doc! { "_metadata": 1 }),
        InlineProjection::new("p", ["E"], |s, _| Ok(s)).with_index(doc! { "a": 2 }),
    ] {
        let refused = ctx(StoreConfig::new("app").with_projection(bad));
        assert!(matches!(refused, Err(Error::InvalidConfig(ConfigError::InvalidProjection { .. }))), "{refused:?}");
    }
    let twice = StoreConfig::new("app").with_projection(tally()).with_projection(tally());
    assert!(matches!(ctx(twice), Err(Error::InvalidConfig(ConfigError::InvalidProjection { .. }))));
}

#[test]
fn projections_apply_only_to_their_stream_types() {
    let mut store =
        store_on(StoreConfig::new("app").with_projection(tally().for_stream_types(["cart"])), Engine::new(1));
    store.append_to_stream("order:1", vec![ev("Added", 1)], ExpectedVersion::NoStream).unwrap();
    store.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::NoStream).unwrap();
    assert_eq!(store.read_model("order:1", "tally").unwrap(), None);
    assert!(store.read_model("cart:1", "tally").unwrap().is_some());
}

#[test]
fn a_rebuild_recomputes_read_models_written_by_hand_or_missing() {
    let mut plain = store_on(StoreConfig::new("app"), Engine::new(1));
    for id in ["1", "2"] {
        plain
            .append_to_stream(&format!("cart:{id}"), vec![ev("Added", 4), ev("Added", 6)], ExpectedVersion::NoStream)
            .unwrap();
    }
    let mut store = shared(config(), plain.executor().engine.clone());
    assert_eq!(store.read_model("cart:1", "tally").unwrap(), None, "written without the projection");
    let one = store.rebuild_read_models("cart:1", None).unwrap();
    assert_eq!((one.stream_exists, one.stream_position), (true, 2));
    assert_eq!(store.read_model("cart:1", "tally").unwrap().unwrap().state().get_i32("total").unwrap(), 10);
    let all = store.rebuild_all_read_models("cart", Some("tally")).unwrap();
    assert_eq!(all.streams, 2);
    assert_eq!(store.count_read_models(ProjectionQuery::new("cart", "tally")).unwrap(), 2);
    let missing = store.rebuild_read_models("cart:none", None).unwrap();
    assert!(!missing.stream_exists);
    assert!(matches!(store.rebuild_read_models("cart:1", Some("nope")), Err(Error::InvalidConfig(_))));
}

fn append(stream: &str, types: &[&str], expected: ExpectedVersion) -> OpSpec {
    OpSpec::Append { stream: stream.to_owned(), events: types.iter().map(|t| ev(t, 1)).collect(), expected }
}

fn script(name: &str, ops: Vec<OpSpec>) -> ClientScript {
    ClientScript { name: name.to_owned(), ops }
}

#[test]
fn in_every_interleaving_the_losers_read_model_is_not_written() {
    let sim = Simulation::new(
        config(),
        vec![
            script("a", vec![append("cart:1", &["Added"], ExpectedVersion::NoStream)]),
            script("b", vec![append("cart:1", &["Added", "Added"], ExpectedVersion::NoStream)]),
            script("c", vec![append("cart:1", &["Removed"], ExpectedVersion::Any)]),
        ],
    )
    .unwrap();
    let report = explore(&sim, 1_000_000);
    assert!(!report.truncated);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    assert_eq!(report.invariants["readModelDiverged"].violated_in, 0);
    assert!(report.schedules > 50, "{} schedules", report.schedules);
}

#[test]
fn a_rebuild_racing_appends_loses_nothing_in_any_interleaving() {
    // The stream exists, written without the projection: the rebuild has work to do.
    let mut plain = store_on(StoreConfig::new("app"), Engine::new(0));
    plain.append_to_stream("cart:1", vec![ev("Added", 1)], ExpectedVersion::NoStream).unwrap();
    let engine = plain.executor().engine.borrow().clone();
    let sim = Simulation::with_executor(
        engine,
        config(),
        vec![
            script("r", vec![OpSpec::Rebuild { stream: "cart:1".into(), projection: None }]),
            script("a", vec![append("cart:1", &["Added"], ExpectedVersion::Any)]),
            script("b", vec![append("cart:1", &["Removed"], ExpectedVersion::Exact(1))]),
        ],
    )
    .unwrap();
    let report = explore(&sim, 1_000_000);
    assert!(!report.truncated);
    assert!(report.violations.is_empty(), "{:?}", report.violations);
    for summary in report.outcomes.keys() {
        assert!(summary.contains("r0:rebuilt"), "the rebuild always ends, retrying after a lost race: {summary}");
    }
}

fn op() -> impl Strategy<Value = OpSpec> {
    let stream = prop::sample::select(vec!["cart:1", "cart:2"]);
    let types = prop::collection::vec(prop::sample::select(vec!["Added", "Removed", "Closed", "Viewed"]), 1..3);
    let expected = prop_oneof![
        Just(ExpectedVersion::Any),
        Just(ExpectedVersion::NoStream),
        Just(ExpectedVersion::StreamExists),
        (0u64..4).prop_map(ExpectedVersion::Exact),
    ];
    prop_oneof![
        5 => (stream.clone(), types, expected).prop_map(|(s, t, e)| append(s, &t, e)),
        1 => stream.clone().prop_map(|s| OpSpec::Rebuild { stream: s.to_owned(), projection: None }),
        1 => stream.prop_map(|s| OpSpec::ReadModel { stream: s.to_owned(), projection: "tally".into() }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Random clients, random schedules, some replies lost: at the end every read model
    /// is the fold of its stream's events from scratch (and every other invariant holds).
    #[test]
    fn read_models_equal_the_fold_of_their_events_under_random_schedules(
        scripts in prop::collection::vec(prop::collection::vec(op(), 1..4), 2..4),
        picks in prop::collection::vec((0usize..8, prop::bool::weighted(0.1)), 0..40),
    ) {
        let clients = scripts.into_iter().enumerate().map(|(i, ops)| script(&format!("c{i}"), ops)).collect();
        let mut sim = Simulation::new(config(), clients).unwrap();
        for (p, lose) in picks {
            let runnable = sim.runnable();
            if runnable.is_empty() {
                break;
            }
            let client = runnable[p % runnable.len()];
            if lose {
                sim.step_losing_reply(client).unwrap();
            } else {
                sim.step(client).unwrap();
            }
        }
        sim.run_to_end();
        let violations = invariants::check(&sim);
        prop_assert!(violations.is_empty(), "violations: {violations:?}\ntrace: {:#?}", sim.trace());
    }
}
