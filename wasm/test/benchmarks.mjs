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

// The switch of the append fast path lives in the raw bindings (a test hook, not API).
const raw = await import(new URL("./node_modules/streamdoc/node/streamdoc.js", import.meta.url));

/** Event data with a few fields of each common kind, as applications append. */
export const RICH_DATA = { by: 1, customer: "c-42", lines: [{ sku: "A-1", qty: 2, price: 9.5 }], paid: true, note: "née" };

/**
 * `appendToStream`'s arguments read through the byte-encoded fast path and property by
 * property (the fast path switched off), side by side: a warm-up round each, then
 * `rounds` alternating rounds on fresh stores; medians. Resolves to the appends/s of
 * each and the last round's stores.
 */
export async function argumentPaths({ appends, streams, rounds, data = RICH_DATA }) {
  const load = async (store) => {
    const started = performance.now();
    for (let i = 0; i < appends; i++) await store.appendToStream(`counter:${i % streams}`, [{ type: "Incremented", data }]);
    return performance.now() - started;
  };
  const times = { encoded: [], property: [] };
  let stores;
  try {
    for (let r = -1; r < rounds; r++) {
      stores?.encoded.free();
      stores?.property.free();
      stores = { encoded: new EventStore(), property: new EventStore() };
      raw.__useEncodedAppend(true);
      const encoded = await load(stores.encoded);
      raw.__useEncodedAppend(false);
      const property = await load(stores.property);
      if (r >= 0) {
        times.encoded.push(encoded);
        times.property.push(property);
      }
    }
  } finally {
    raw.__useEncodedAppend(true);
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const rate = (ms) => (appends / ms) * 1000;
  const [encoded, property] = [median(times.encoded), median(times.property)];
  return { stores, encoded: rate(encoded), property: rate(property), ratio: property / encoded };
}

/** The median time of replaying the whole corpus through the package, in ms. */
export async function corpusReplay(runs) {
  const corpus = loadCorpus();
  const times = [];
  for (let r = 0; r < runs; r++) {
    const started = performance.now();
    for (const scenario of corpus) {
      const engine = new Engine();
      await replay(scenario, engineTarget(engine));
      engine.free();
    }
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(runs / 2)], scenarios: corpus.length };
}

/**
 * Exploring every schedule of `clients` clients x 2 steps each (each creates its own
 * stream: index, then write), or of a gallery race; the median time in ms, with the
 * schedules counted and the distinct states the explorer's cache actually ran.
 */
export function exploration(runs, { clients = 4, race } = {}) {
  const client = (name) => ({
    name,
    ops: [{ op: "append", stream: `order:${name}`, events: [{ type: "Placed" }], expected: STREAM_DOES_NOT_EXIST }],
  });
  const names = ["a", "b", "c", "d", "e", "f"].slice(0, clients);
  const times = [];
  let report;
  for (let r = 0; r < runs; r++) {
    const sim = race ? Simulation.fromRace(race) : new Simulation({ clients: names.map(client) });
    const started = performance.now();
    report = sim.explore({ limit: Number.MAX_SAFE_INTEGER });
    times.push(performance.now() - started);
    sim.free();
  }
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(runs / 2)], schedules: report.schedules, states: report.states };
}
