// The whole scenario corpus replayed through the built package in Node: every result
// and every stored document must be what core's runner gives (the scenarios record
// it), on an engine with `$slice` projections and on one without (the read fallback).
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine } from "streamdoc";
import { engineTarget, equal, loadCorpus, problems, replay } from "./corpus.mjs";

const MIN_SCENARIOS = 60;
const corpus = loadCorpus();

test(`the corpus (${corpus.length} scenarios) gives core's results and documents through the package`, async () => {
  assert.ok(corpus.length >= MIN_SCENARIOS, `only ${corpus.length} scenarios`);
  const failures = [];
  const started = performance.now();
  for (const scenario of corpus) {
    const output = await replay(scenario, engineTarget(new Engine()));
    for (const p of problems(scenario, output)) failures.push(`${scenario.name}: ${p}\n  commands:\n    ${output.log.join("\n    ")}`);
  }
  const elapsed = performance.now() - started;
  assert.deepEqual(failures, [], `${failures.length} problems:\n\n${failures.join("\n\n")}`);
  console.log(`# ${corpus.length} scenarios replayed through the package in ${elapsed.toFixed(0)} ms`);
});

test("without $slice projections (as on FerretDB) every scenario gives the same output", async () => {
  const differences = [];
  let fallbacks = 0;
  for (const scenario of corpus) {
    const withSlice = await replay(scenario, engineTarget(new Engine()));
    const withoutSlice = await replay(scenario, engineTarget(new Engine({ sliceProjection: false })));
    if (!equal(withSlice.results, withoutSlice.results) || !equal(withSlice.documents, withoutSlice.documents)) {
      differences.push(scenario.name);
    }
    if (withoutSlice.log.some((l) => l.includes('"code":238'))) fallbacks++;
  }
  assert.deepEqual(differences, []);
  // The engine without $slice must have refused projections, so the fallback was taken.
  assert.ok(fallbacks >= 5, `only ${fallbacks} scenarios met a 238 NotImplemented reply`);
});
