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

/**
 * The package's in-memory store and Emmett's, side by side in this process: one
 * unmeasured warm-up round each (so that both run optimized code, not the first tier of
 * the JIT), then `rounds` alternating rounds on fresh stores. Rates are medians. Each
 * streamdoc store is freed when its round ends, as dropping it would in Rust: otherwise
 * the garbage collector frees its WebAssembly memory at some later point, inside another
 * round's measurement. The last round's stores are returned, not freed.
 */
export async function versusEmmett({ appends, streams, rounds }) {
  const times = { streamdoc: [], emmett: [] };
  let stores;
  for (let r = -1; r < rounds; r++) {
    stores?.streamdoc.free();
    stores = { emmett: getInMemoryEventStore(), streamdoc: new EventStore() };
    const emmett = await appendLoad(stores.emmett, appends, streams);
    const streamdoc = await appendLoad(stores.streamdoc, appends, streams);
    if (r >= 0) {
      times.emmett.push(emmett);
      times.streamdoc.push(streamdoc);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rate = (ms) => (appends / ms) * 1000;
  const ms = { streamdoc: median(times.streamdoc), emmett: median(times.emmett) };
  return { stores, streamdoc: rate(ms.streamdoc), emmett: rate(ms.emmett), ratio: ms.emmett / ms.streamdoc };
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
