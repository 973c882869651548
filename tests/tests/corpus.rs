//! The scenario corpus on core's engine: every scenario must give its expected
//! results and stored documents, and the same again on an engine that refuses `$slice`
//! projections (as FerretDB does), which exercises the read fallback.
//!
//! `STREAMDOC_BLESS=1` records the stored documents of scenarios into their files
//! instead of comparing them; review the diff before committing.

use std::collections::BTreeSet;

use serde_json::Value;
use streamdoc_core::engine::EngineOptions;
use streamdoc_core::Engine;
use streamdoc_tests::scenario::{corpus_dir, ScenarioOp, Step};
use streamdoc_tests::{compare, load_corpus, run, EngineTarget};

const MIN_SCENARIOS: usize = 60;

#[test]
fn the_corpus_passes_on_the_engine_with_and_without_slice() {
    let scenarios = load_corpus(&corpus_dir()).expect("the corpus loads");
    assert!(scenarios.len() >= MIN_SCENARIOS, "only {} scenarios; at least {MIN_SCENARIOS} expected", scenarios.len());
    let bless = std::env::var_os("STREAMDOC_BLESS").is_some();
    let mut failures = Vec::new();
    for scenario in &scenarios {
        let with_slice =
            run(scenario, &mut EngineTarget(Engine::new(0))).unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
        let no_slice_engine =
            Engine::with_options(0, EngineOptions { slice_projection: false, ..EngineOptions::default() });
        let without_slice =
            run(scenario, &mut EngineTarget(no_slice_engine)).unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
        for p in compare::outputs(&with_slice, &without_slice) {
            failures.push(format!("{} (with vs without $slice): {p}", scenario.name));
        }
        let mut problems = compare::against_scenario(scenario, &with_slice);
        if bless && scenario.documents.is_none() {
            // Record the documents, but still hold the results to their expectations.
            record_documents(&scenario.name, &with_slice.documents);
            problems.retain(|p| !p.contains("has no `documents`"));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{}:\n  {}\n  commands:\n    {}",
                scenario.name,
                problems.join("\n  "),
                with_slice.log.join("\n    ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n\n{}",
        failures.len(),
        scenarios.len(),
        failures.join("\n\n")
    );
    println!("{} scenarios passed on the engine, with and without $slice", scenarios.len());
}

fn record_documents(name: &str, documents: &std::collections::BTreeMap<String, Vec<Value>>) {
    let path = corpus_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).expect("scenario readable");
    let mut value: Value = serde_json::from_str(&text).expect("scenario parses");
    value["documents"] = serde_json::to_value(documents).expect("documents serialise");
    std::fs::write(&path, serde_json::to_string_pretty(&value).expect("serialises") + "\n").expect("scenario writable");
    eprintln!("recorded the documents of {name}");
}

/// The corpus must keep covering every variant and error, so that the layers replaying
/// it test them all.
#[test]
fn the_corpus_covers_every_variant_and_error() {
    let scenarios = load_corpus(&corpus_dir()).expect("the corpus loads");
    let mut seen = BTreeSet::new();
    for s in &scenarios {
        seen.insert(format!("layout:{}", serde_json::to_value(s.config.layout).unwrap_or_default()));
        seen.insert(format!("storage:{}", serde_json::to_value(&s.config.storage).unwrap_or_default()["kind"]));
        for step in &s.steps {
            let ops = match step {
                Step::Op(op) => vec![op],
                Step::Race(r) => {
                    seen.insert("race".into());
                    r.race.iter().collect()
                }
            };
            for op in ops {
                match &op.op {
                    ScenarioOp::Append { expected, .. } => {
                        let v = serde_json::to_value(expected).unwrap_or_default();
                        seen.insert(format!("expected:{}", if v.is_number() { "exact".into() } else { v.to_string() }));
                    }
                    other => {
                        seen.insert(format!("op:{}", serde_json::to_value(other).unwrap_or_default()["op"]));
                    }
                }
                if let streamdoc_tests::scenario::Expect::Error(e) = &op.expect {
                    seen.insert(format!("error:{}", e["kind"]));
                }
            }
        }
    }
    let required = [
        "layout:\"streamdoc\"",
        "layout:\"emmett\"",
        "storage:\"perStreamType\"",
        "storage:\"single\"",
        "storage:\"prefixed\"",
        "storage:\"tenantDatabase\"",
        "race",
        "expected:\"any\"",
        "expected:\"noStream\"",
        "expected:\"streamExists\"",
        "expected:exact",
        "op:\"read\"",
        "op:\"exists\"",
        "op:\"aggregate\"",
        "error:\"ConcurrencyConflict\"",
        "error:\"EmptyAppend\"",
        "error:\"InvalidEvent\"",
        "error:\"InvalidStreamName\"",
        "error:\"StreamTooLarge\"",
        "error:\"InvalidRange\"",
    ];
    let missing: Vec<_> = required.iter().filter(|r| !seen.contains(**r)).collect();
    assert!(missing.is_empty(), "the corpus covers nothing of {missing:?}; seen {seen:?}");
}
