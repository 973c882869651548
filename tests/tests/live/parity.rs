//! Parity: every scenario of the corpus, run through the host's `MongoExecutor` on the
//! live server, must give exactly the engine's results and stored documents (canonical
//! Extended JSON, keys unordered, arrays ordered, generated `_id`s normalised), and
//! meet the scenario's own expectations. A difference is a failure unless it is a
//! documented deviation of the server in use (`streamdoc_tests::deviations`).

use serde_json::Value;
use streamdoc_core::Engine;
use streamdoc_tests::deviations::{judge, Verdict};
use streamdoc_tests::runner::RunOutput;
use streamdoc_tests::scenario::{corpus_dir, Scenario, ScenarioOp, Step};
use streamdoc_tests::{compare, live, load_corpus, run, EngineTarget};

#[test]
fn the_corpus_gives_the_same_results_and_documents_on_the_live_server() {
    let Some(live) = live::connect("parity") else { return };
    let scenarios = load_corpus(&corpus_dir()).expect("the corpus loads");
    assert!(!scenarios.is_empty(), "no scenarios in {}", corpus_dir().display());
    let mut identical = 0;
    let mut explained = Vec::new();
    let mut failures = Vec::new();
    for scenario in &scenarios {
        // Each scenario in a fresh database of its own, as long as the one it names.
        let scratch = live.scratch(&scenario.config.database);
        let mut renamed = scenario.clone();
        renamed.config.database = scratch.name().to_owned();
        let fail = |e: &dyn std::fmt::Display| format!("{}: {e}", scenario.name);
        let engine = run(&renamed, &mut EngineTarget(Engine::new(0))).unwrap_or_else(|e| panic!("{}", fail(&e)));
        let server = run(&renamed, &mut live.target()).unwrap_or_else(|e| panic!("{}", fail(&e)));
        let engine = renamed_back(engine, scratch.name(), scenario);
        let server = renamed_back(server, scratch.name(), scenario);
        drop(scratch);

        let mut document_problems = Vec::new();
        if engine.documents != server.documents {
            document_problems.push(format!(
                "stored documents differ\n  engine {}\n  server {}",
                serde_json::to_string(&engine.documents).unwrap_or_default(),
                serde_json::to_string(&server.documents).unwrap_or_default()
            ));
        }
        match judge(live.server(), &operations(scenario), &engine.results, &server.results, document_problems) {
            Verdict::Identical => {
                identical += 1;
                // Identical to the engine, and so to what the scenario expects.
                let problems = compare::against_scenario(scenario, &server);
                let unrecorded = problems.iter().all(|p| p.contains("STREAMDOC_BLESS"));
                if !problems.is_empty() && !unrecorded {
                    failures.push(format!(
                        "{}: the server matches the engine but not the scenario:\n  {}",
                        scenario.name,
                        problems.join("\n  ")
                    ));
                }
            }
            Verdict::Explained { op_index, deviation } => {
                explained.push(format!("{} (operation {op_index}): {}", scenario.name, deviation.id));
            }
            Verdict::Unexplained { problems, .. } => failures.push(format!(
                "{} {:?}:\n  {}\n  commands on the server:\n    {}",
                scenario.name,
                scenario.tags,
                problems.join("\n  "),
                server.log.iter().map(|l| abbreviated(l)).collect::<Vec<_>>().join("\n    ")
            )),
        }
    }
    streamdoc_tests::report!(
        "parity on {}: {identical} of {} scenarios identical to the engine; {} diverge as documented deviations:\n  {}",
        live.server(),
        scenarios.len(),
        explained.len(),
        explained.join("\n  ")
    );
    assert!(
        failures.is_empty(),
        "{} of {} scenarios differ:\n\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n\n")
    );
    if !live.server().is_ferretdb() && !live.server().is_mongo_java_server() {
        assert!(explained.is_empty(), "no deviation applies to MongoDB");
    }
}

/// A command log line, cut short (16 MiB scenarios log 16 MiB commands).
fn abbreviated(line: &str) -> String {
    match line.char_indices().nth(400) {
        Some((cut, _)) => format!("{}… ({} bytes)", &line[..cut], line.len()),
        None => line.to_owned(),
    }
}

/// The operations of a scenario in result order (race members in listed order).
fn operations(scenario: &Scenario) -> Vec<&ScenarioOp> {
    scenario
        .steps
        .iter()
        .flat_map(|s| match s {
            Step::Op(op) => vec![&op.op],
            Step::Race(r) => r.race.iter().map(|op| &op.op).collect(),
        })
        .collect()
}

/// `output` with the scratch database's name replaced by the scenario's own, so that
/// results and namespaces read as the scenario expects them.
fn renamed_back(output: RunOutput, scratch: &str, scenario: &Scenario) -> RunOutput {
    let original = &scenario.config.database;
    let swap = |v: &Value| -> Value {
        let text = serde_json::to_string(v).unwrap_or_default().replace(scratch, original);
        serde_json::from_str(&text).unwrap_or(Value::Null)
    };
    RunOutput {
        results: output.results.iter().map(swap).collect(),
        documents: output
            .documents
            .iter()
            .map(|(ns, docs)| (ns.replace(scratch, original), docs.iter().map(swap).collect()))
            .collect(),
        log: output.log,
    }
}

#[test]
fn renaming_back_restores_names_in_results_and_namespaces() {
    let scenario: Scenario = serde_json::from_value(serde_json::json!({
        "description": "d", "steps": [], "config": { "database": "streamdoc_test" }
    }))
    .expect("a scenario");
    let output = RunOutput {
        results: vec![serde_json::json!({ "error": { "name": "s00000ab1z2_x" } })],
        documents: [("s00000ab1z2_x.order".to_owned(), vec![])].into(),
        log: vec![],
    };
    let back = renamed_back(output, "s00000ab1z2", &scenario);
    assert_eq!(back.results[0]["error"]["name"], "streamdoc_test_x");
    assert!(back.documents.contains_key("streamdoc_test_x.order"));
}
