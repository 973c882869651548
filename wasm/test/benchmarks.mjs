// The measurements behind the README's figures, shared by `bench.mjs` (full size,
// `cargo xtask wasm bench`) and `bench.test.mjs` (a quick run in the test suite).
import { getInMemoryEventStore } from "@event-driven-io/emmett";
import { Engine, EventStore, STREAM_DOES_NOT_EXIST, Simulation } from "streamdoc";
import { engineTarget, loadCorpus, replay } from "./corpus.mjs";

/** `appends` one-event appends spread round-robin over `streams` streams. */
export async function appendLoad(store, appends, streams) {
  const started = performance.now();
  for (let i = 0; i < appends; i++) {
    await store.appendToStream(`counter:${i % streams}`, [{ type: "Incremented", data: { by: 1 } }]);
  }
  return performance.now() - started;
}

/** The package's in-memory store and Emmett's, side by side in this process. */
export async function versusEmmett({ appends, streams, rounds }) {
  const best = { streamdoc: Infinity, emmett: Infinity };
  let stores;
  for (let r = 0; r < rounds; r++) {
    stores = { emmett: getInMemoryEventStore(), streamdoc: new EventStore() };
    best.emmett = Math.min(best.emmett, await appendLoad(stores.emmett, appends, streams));
    best.streamdoc = Math.min(best.streamdoc, await appendLoad(stores.streamdoc, appends, streams));
  }
  const rate = (ms) => (appends / ms) * 1000;
  return { stores, streamdoc: rate(best.streamdoc), emmett: rate(best.emmett), ratio: best.emmett / best.streamdoc };
}

/** The median time of replaying the whole corpus through the package, in ms. */
export async function corpusReplay(runs) {
  const corpus = loadCorpus();
  const times = [];
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    for (const scenario of corpus) await replay(scenario, engineTarget(new Engine()));
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(runs / 2)], scenarios: corpus.length };
}

/** Exploring every schedule of 4 clients x 2 steps each; the median time in ms. */
export function exploration(runs) {
  const client = (name) => ({
    name,
    ops: [{ op: "append", stream: `order:${name}`, events: [{ type: "Placed" }], expected: STREAM_DOES_NOT_EXIST }],
  });
  const times = [];
  let report;
  for (let r = 0; r < runs; r++) {
    const sim = new Simulation({ clients: ["a", "b", "c", "d"].map(client) });
    const started = performance.now();
    report = sim.explore();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(runs / 2)], schedules: report.schedules };
}
