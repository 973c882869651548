//! Times one replay of the whole scenario corpus on core's engine, natively: the
//! baseline that `cargo xtask wasm bench` sets beside the same corpus replayed through
//! the npm package in Node. Prints `{median ms} ms ({scenarios} scenarios, {runs} runs)`.

use std::time::Instant;

use streamdoc_core::Engine;
use streamdoc_tests::scenario::corpus_dir;
use streamdoc_tests::{load_corpus, run, EngineTarget};

const RUNS: usize = 5;

fn main() {
    let scenarios = load_corpus(&corpus_dir()).expect("the corpus loads");
    let mut times: Vec<f64> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            for scenario in &scenarios {
                run(scenario, &mut EngineTarget(Engine::new(0))).expect("the scenario runs");
            }
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("{:.1} ms ({} scenarios, median of {RUNS} runs)", times[RUNS / 2], scenarios.len());
}
