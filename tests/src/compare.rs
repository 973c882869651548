//! Comparing a run with a scenario's expectations, and two runs with each other.

use serde_json::Value;

use crate::runner::RunOutput;
use crate::scenario::{Expect, Scenario, Step};

/// Every way `output` differs from what `scenario` expects (empty: it passed).
pub fn against_scenario(scenario: &Scenario, output: &RunOutput) -> Vec<String> {
    let mut problems = Vec::new();
    let expectations: Vec<&Expect> = scenario
        .steps
        .iter()
        .flat_map(|s| match s {
            Step::Op(op) => vec![&op.expect],
            Step::Race(r) => r.race.iter().map(|op| &op.expect).collect(),
        })
        .collect();
    if expectations.len() != output.results.len() {
        problems.push(format!("{} expectations but {} results", expectations.len(), output.results.len()));
    }
    for (i, (expect, actual)) in expectations.iter().zip(&output.results).enumerate() {
        let ok = match expect {
            Expect::Ok(v) => actual.get("ok") == Some(v),
            Expect::Error(e) => actual.get("error").is_some_and(|a| is_subset(e, a)),
        };
        if !ok {
            problems.push(format!(
                "operation {i}: expected {}\n  actual {}",
                serde_json::to_string(&match expect {
                    Expect::Ok(v) => serde_json::json!({ "ok": v }),
                    Expect::Error(e) => serde_json::json!({ "error": e }),
                })
                .unwrap_or_default(),
                actual
            ));
        }
    }
    if let Some(expected) = &scenario.documents {
        if expected != &output.documents {
            problems.push(format!(
                "stored documents differ\n  expected {}\n  actual   {}",
                serde_json::to_string(expected).unwrap_or_default(),
                serde_json::to_string(&output.documents).unwrap_or_default()
            ));
        }
    } else {
        problems.push("the scenario has no `documents`: run with STREAMDOC_BLESS=1 to record them, then review".into());
    }
    problems
}

/// Every way two runs of the same scenario differ (results and documents, exactly).
pub fn outputs(left: &RunOutput, right: &RunOutput) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, (l, r)) in left.results.iter().zip(&right.results).enumerate() {
        if l != r {
            problems.push(format!("operation {i}:\n  left  {l}\n  right {r}"));
        }
    }
    if left.results.len() != right.results.len() {
        problems.push(format!("{} results vs {}", left.results.len(), right.results.len()));
    }
    if left.documents != right.documents {
        problems.push(format!(
            "stored documents differ\n  left  {}\n  right {}",
            serde_json::to_string(&left.documents).unwrap_or_default(),
            serde_json::to_string(&right.documents).unwrap_or_default()
        ));
    }
    problems
}

/// True when every field of `expected` is in `actual` with a value that is, in turn,
/// a subset (objects) or equal (anything else).
pub fn is_subset(expected: &Value, actual: &Value) -> bool {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => e.iter().all(|(k, v)| a.get(k).is_some_and(|av| is_subset(v, av))),
        _ => expected == actual,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn subset_matching_is_recursive_and_strict_on_values() {
        assert!(is_subset(&json!({ "kind": "X" }), &json!({ "kind": "X", "m": 1 })));
        assert!(!is_subset(&json!({ "kind": "X", "m": 2 }), &json!({ "kind": "X", "m": 1 })));
        assert!(!is_subset(&json!([1]), &json!([1, 2])));
    }
}
