// Replays the scenario corpus (tests/scenarios, format in its README) through the
// package's public API, producing exactly what core's runner (tests/src/runner.rs)
// produces: results and stored documents in canonical Extended JSON, normalised the
// same way, compared the same way (subset for errors, exact for ok values).
//
// Every client of a scenario is its own `EventStore` on the target (ONE shared `Engine`,
// or a live server). A single operation runs through the store's method; a race runs as
// the package's `Simulation` of the members' stores under the race's schedule, as the
// Rust runner runs it as core's.

import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { EventStore, Simulation, seededEventIds } from "streamdoc";

export const corpusDir = fileURLToPath(new URL("../../tests/scenarios/", import.meta.url));

// ------------------------------------------------------------------ scenario files

/** A JSON number as written, so that `2.0` stays a Double and `3000000000` an Int64. */
class Literal {
  constructor(text) {
    this.text = text;
  }
}

/** JSON.parse, keeping number literals as `Literal`s. */
function parseJson(text) {
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i])) i++;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      const out = {};
      ws();
      if (text[i] === "}") return i++, out;
      for (;;) {
        ws();
        const key = string();
        ws();
        i++; // :
        out[key] = value();
        ws();
        if (text[i++] === "}") return out;
      }
    }
    if (c === "[") {
      i++;
      const out = [];
      ws();
      if (text[i] === "]") return i++, out;
      for (;;) {
        out.push(value());
        ws();
        if (text[i++] === "]") return out;
      }
    }
    if (c === '"') return string();
    const m = /^(-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) throw new SyntaxError(`unexpected ${c} at ${i}`);
    i += m[0].length;
    if (m[0] === "true") return true;
    if (m[0] === "false") return false;
    if (m[0] === "null") return null;
    return new Literal(m[0]);
  };
  const string = () => {
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i));
  };
  return value();
}

/** Structural fields: literals become numbers. */
function plain(v) {
  if (v instanceof Literal) return Number(v.text);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

const INT32 = [-(2n ** 31n), 2n ** 31n - 1n];
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n];

/** Event data and metadata: literals become the BSON type core's parser gives them, `$repeat` expands. */
function extendedJson(v) {
  if (v instanceof Literal) {
    if (/^-?\d+$/.test(v.text)) {
      const n = BigInt(v.text);
      if (n >= INT32[0] && n <= INT32[1]) return { $numberInt: String(n) };
      if (n >= INT64[0] && n <= INT64[1]) return { $numberLong: String(n) };
    }
    return { $numberDouble: v.text };
  }
  if (Array.isArray(v)) return v.map(extendedJson);
  if (v && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "$repeat") {
      const [s, n] = v.$repeat;
      return s.repeat(Number(n.text));
    }
    return Object.fromEntries(keys.map((k) => [k, extendedJson(v[k])]));
  }
  return v;
}

function event(e) {
  const out = { type: e.type };
  if (e.id !== undefined) out.id = e.id;
  if (e.data !== undefined) out.data = extendedJson(e.data);
  if (e.metadata !== undefined) out.metadata = extendedJson(e.metadata);
  return out;
}

function operation(raw) {
  const op = plain({ ...raw, events: undefined, summary: undefined });
  if (raw.events) op.events = raw.events.map(event);
  // closeStream's summary is an event like an append's: data and metadata typed as core's parser types them.
  if (raw.summary) op.summary = event(raw.summary);
  // A query's filter and sort keep their number literals (typed as core's parser types them).
  if (raw.op === "queryReadModels") op.raw = { filter: raw.filter, sort: raw.sort };
  op.client ??= "main";
  return op;
}

/** One scenario file, ready to replay. */
export function loadScenario(file) {
  const raw = parseJson(readFileSync(file, "utf8"));
  const steps = raw.steps.map((s) =>
    s.race ? { race: s.race.map(operation), schedule: plain(s.schedule) } : { race: [operation(s)], single: true },
  );
  return {
    name: path.basename(file, ".json"),
    tags: raw.tags ?? [],
    config: plain(raw.config ?? {}),
    clock: plain(raw.clock ?? { startMs: 1767225600000, stepMs: 1000 }),
    idSeed: plain(raw.idSeed ?? 0),
    steps,
    documents: raw.documents === undefined ? undefined : plain(raw.documents),
  };
}

/** Every scenario, sorted by name. */
export function loadCorpus() {
  return readdirSync(corpusDir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((f) => loadScenario(path.join(corpusDir, f)));
}

// ------------------------------------------------------------------ canonical output

const LONG_STRING = 1024;

/** Long strings as `{ $longString: { length, prefix } }` (canonical.rs `abbreviate`). */
export function abbreviate(v) {
  if (typeof v === "string") {
    const length = Buffer.byteLength(v);
    if (length <= LONG_STRING) return v;
    let prefix = "";
    let count = 0;
    for (const c of v) {
      if (count++ === 16) break;
      prefix += c;
    }
    return { $longString: { length, prefix } };
  }
  if (Array.isArray(v)) return v.map(abbreviate);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, abbreviate(x)]));
  return v;
}

// Events come back in canonical Extended JSON (`values: "canonical"`), in core's one shape.
const readJson = (r) => ({
  currentStreamVersion: Number(r.currentStreamVersion),
  streamExists: r.streamExists,
  events: r.events.map(abbreviate),
});

const appendJson = (r) => ({ nextExpectedStreamVersion: Number(r.nextExpectedStreamVersion), createdNewStream: r.createdNewStream });

const EVOLVE = {
  count: { initialState: () => 0, evolve: (n) => n + 1 },
  types: { initialState: () => [], evolve: (types, e) => [...types, e.type] },
};

const EXPECTED = { any: "NO_CONCURRENCY_CHECK", noStream: "STREAM_DOES_NOT_EXIST", streamExists: "STREAM_EXISTS" };

const expectedOf = (op) => (op.expected === undefined ? undefined : EXPECTED[op.expected] ?? BigInt(op.expected));
const big = (n) => (n === undefined ? undefined : BigInt(n));
const range = (op) => ({ from: big(op.from), to: big(op.to), maxCount: big(op.maxCount) });

const rebuildJson = (r) => ({ streamExists: r.streamExists, streamPosition: Number(r.streamPosition) });

/** `streamStatus`'s result as core's serde form of `StreamStatus` (absent links are absent keys). */
const statusJson = (r) => ({
  state: r.state,
  streamPosition: Number(r.streamPosition),
  ...(r.successor !== undefined ? { successor: r.successor } : {}),
  ...(r.predecessor !== undefined
    ? { predecessor: { streamName: r.predecessor.streamName, streamPosition: Number(r.predecessor.streamPosition) } }
    : {}),
});

/** `archiveStream`'s result as core's serde form of `ArchiveResult`. */
const archiveJson = (r) => ({
  streamPosition: Number(r.streamPosition),
  ...(r.successor !== undefined ? { successor: r.successor } : {}),
});

/** `closeStream`'s result as core's serde form of `CloseResult`. */
const closeJson = (r) => ({
  closedAt: Number(r.closedAt),
  successor: r.successor,
  nextExpectedStreamVersion: Number(r.nextExpectedStreamVersion),
});

/** A read's `fromArchive`, only when the scenario sets it. */
const fromArchive = (op) => (op.fromArchive ? { fromArchive: true } : {});

/** An Int32 in canonical Extended JSON as a number (0 for anything else). */
const int32 = (v) => (v && typeof v === "object" && "$numberInt" in v ? Number(v.$numberInt) : 0);

/**
 * The scenario's projections: the named rules of tests/scenarios/README.md, in the
 * store's canonical values (as tests/src/scenario.rs implements them in Rust).
 */
function projectionsOf(config) {
  return (config.projections ?? []).map((p) => {
    const common = {
      name: p.name,
      canHandle: p.handles,
      ...(p.schemaVersion !== undefined ? { schemaVersion: p.schemaVersion } : {}),
      ...(p.streamTypes !== undefined ? { streamTypes: p.streamTypes } : {}),
    };
    switch (p.rule) {
      case "tally":
        return {
          ...common,
          initialState: () => ({ count: { $numberInt: "0" }, total: { $numberInt: "0" } }),
          evolve: (state, e) => {
            if (e.type === p.deleteOn) return null;
            const s = state ?? {};
            return {
              ...s,
              count: { $numberInt: String(int32(s.count) + 1) },
              total: { $numberInt: String(int32(s.total) + int32(e.data?.amount)) },
              last: e.type,
            };
          },
        };
      case "latestData":
        return { ...common, evolve: (_, e) => e.data };
      default:
        throw new Error(`unknown projection rule ${p.rule}`);
    }
  });
}

/** A `queryReadModels` step as the package's query. */
function readModelQuery(op, raw) {
  return {
    streamType: op.streamType,
    projection: op.projection,
    ...(op.streams !== undefined ? { streams: op.streams } : {}),
    ...(raw.filter !== undefined ? { filter: extendedJson(raw.filter) } : {}),
    ...(raw.sort !== undefined ? { sort: plain(raw.sort) } : {}),
    skip: op.skip ?? 0,
    limit: op.limit ?? 0,
  };
}

/** A race member as the simulator's operation data. */
function simOperation(op) {
  switch (op.op) {
    case "append":
      return { op: "append", stream: op.stream, events: op.events, expected: expectedOf(op) };
    case "read":
      return { op: "read", stream: op.stream, ...range(op), expected: expectedOf(op), ...fromArchive(op) };
    case "exists":
      return { op: "exists", stream: op.stream };
    case "status":
      return { op: "status", stream: op.stream };
    case "archive":
      return { op: "archive", stream: op.stream, expected: expectedOf(op) };
    case "closeStream":
      return { op: "closeStream", stream: op.stream, successor: op.successor, summary: op.summary, expected: expectedOf(op) };
    case "rebuild":
      return { op: "rebuild", stream: op.stream, ...(op.projection !== undefined ? { projection: op.projection } : {}) };
    case "readModel":
      return { op: "readModel", stream: op.stream, projection: op.projection };
    default:
      throw new Error(
        `an ${op.op} cannot race: a race runs as a Simulation, whose clients append, read, check existence or status, archive, close, rebuild and read read models`,
      );
  }
}

/** A simulated outcome as the canonical result of its operation. */
function outcomeJson(outcome) {
  if ("error" in outcome.result) return { error: outcome.result.error.details };
  const value = outcome.result.ok;
  switch (outcome.op.op) {
    case "append":
      return { ok: appendJson(value) };
    case "read":
      return { ok: readJson(value) };
    case "rebuild":
      return { ok: rebuildJson(value) };
    case "status":
      return { ok: statusJson(value) };
    case "archive":
      return { ok: archiveJson(value) };
    case "closeStream":
      return { ok: closeJson(value) };
    default:
      return { ok: value };
  }
}

/** Starts one operation on `store`; resolves to its canonical result. */
function start(store, op) {
  const settle = (p, json) =>
    p.then(
      (v) => ({ ok: json(v) }),
      (e) => {
        if (!e || !e.details) throw e;
        return { error: e.details };
      },
    );
  switch (op.op) {
    case "append": {
      const expected = expectedOf(op);
      return settle(store.appendToStream(op.stream, op.events, { expectedStreamVersion: expected }), appendJson);
    }
    case "read": {
      const options = { ...range(op), expectedStreamVersion: expectedOf(op), ...fromArchive(op) };
      return settle(store.readStream(op.stream, options), readJson);
    }
    case "exists":
      return settle(store.streamExists(op.stream), (r) => r);
    case "status":
      return settle(store.streamStatus(op.stream), statusJson);
    case "archive":
      return settle(store.archiveStream(op.stream, { expectedStreamVersion: expectedOf(op) }), archiveJson);
    case "closeStream": {
      const options = { successor: op.successor, summary: op.summary, expectedStreamVersion: expectedOf(op) };
      return settle(store.closeStream(op.stream, options), closeJson);
    }
    case "aggregate":
      return settle(store.aggregateStream(op.stream, EVOLVE[op.evolve]), (r) => ({
        state: r.state,
        currentStreamVersion: Number(r.currentStreamVersion),
        streamExists: r.streamExists,
      }));
    case "readModel":
      return settle(store.readModel(op.stream, op.projection), (r) => r);
    case "rebuild":
      return settle(store.rebuildReadModels(op.stream, op.projection), rebuildJson);
    case "rebuildAll":
      return settle(store.rebuildAllReadModels(op.streamType, op.projection), (r) => r);
    case "queryReadModels": {
      const query = readModelQuery(op, op.raw);
      if (op.count) return settle(store.countReadModels(query), (n) => n);
      return settle(store.findReadModels(query), (found) => found.map((m) => ({ ...m, readModel: abbreviate(m.readModel) })));
    }
    default:
      throw new Error(`unknown op ${op.op}`);
  }
}

/** The scenario's archive storage (tests/src/scenario.rs `ArchiveSpec`) as the package's option. */
function archive(config) {
  const a = config.archive;
  if (a === undefined) return undefined;
  switch (a.kind) {
    case "suffix":
      return { suffix: a.suffix };
    case "database":
      return { database: a.name };
    default:
      throw new Error(`unknown archive ${a.kind}`);
  }
}

/** The scenario's storage; `tenantDatabase` is the named custom rule, as a resolver function. */
function storage(config) {
  const s = config.storage ?? { kind: "perStreamType" };
  const database = config.database ?? "streamdoc_test";
  switch (s.kind) {
    case "perStreamType":
      return { kind: "perStreamType" };
    case "prefixed":
      return { kind: "perStreamType", prefix: s.prefix };
    case "single":
      return { kind: "single", name: s.name };
    case "tenantDatabase":
      return {
        kind: "custom",
        resolve: ({ type, id }) => ({ database: `${database}_${id.split(":")[0]}`, collection: type }),
      };
    default:
      throw new Error(`unknown storage ${s.kind}`);
  }
}

/**
 * A client's store. A configuration core refuses (segments with the Emmett layout, ...)
 * fails every operation of the client with core's error, as the Rust runner reports it
 * for each of them; the package throws it from the constructor.
 */
function store(options) {
  try {
    return new EventStore(options);
  } catch (e) {
    if (!e || !e.details) throw e;
    return new Proxy({}, { get: (_, key) => (key === "free" ? () => {} : () => Promise.reject(e)) });
  }
}

/**
 * Replays `scenario`. `target.execute(command)` runs one command (an `Engine`, or an
 * adapter to a server); `target.dump(database)` lists the stored documents per
 * namespace. Returns `{ results, documents, log }` in canonical Extended JSON.
 */
export async function replay(scenario, target) {
  let now = scenario.clock.startMs;
  const clock = () => {
    const t = now;
    now += scenario.clock.stepMs;
    return t;
  };
  const log = [];
  let at = "";
  const executor = async (command) => {
    const reply = await target.execute(command);
    log.push([at, command, reply]);
    return reply;
  };
  const options = {
    database: scenario.config.database ?? "streamdoc_test",
    layout: scenario.config.layout ?? "streamdoc",
    storage: storage(scenario.config),
    clock,
    generateEventId: seededEventIds(scenario.idSeed),
    values: "canonical",
    executor,
    projections: projectionsOf(scenario.config),
    archive: archive(scenario.config),
    segments: scenario.config.segments === undefined ? undefined : { maxBytes: scenario.config.segments.maxBytes },
  };
  const stores = new Map();
  const client = (name) => {
    if (!stores.has(name)) stores.set(name, store(options));
    return stores.get(name);
  };
  const results = [];
  for (const [index, step] of scenario.steps.entries()) {
    if (step.single) {
      at = `[${index}.0]`;
      results.push(await start(client(step.race[0].client), step.race[0]));
      continue;
    }
    at = `[${index}.race]`;
    const clients = step.race.map((op) => ({ name: op.client, store: client(op.client), ops: [simOperation(op)] }));
    const sim = new Simulation({ clients, executor, values: "canonical" });
    for (const [n, i] of step.schedule.entries()) {
      await sim.stepAsync(i).catch((e) => {
        throw new Error(`step ${index}: schedule entry ${n}: ${e.message}`);
      });
    }
    await sim.runToEndAsync();
    const outcomes = sim.outcomes().sort((a, b) => a.client - b.client);
    results.push(...outcomes.map(outcomeJson));
    sim.free();
  }
  // Each store holds WebAssembly memory until it is freed (else the garbage collector
  // frees it at some later point, as the memory grows).
  for (const store of stores.values()) store.free();
  const dumped = await target.dump(options.database);
  const documents = {};
  for (const [ns, docs] of Object.entries(dumped)) {
    if (docs.length === 0) continue;
    const normalised = docs.map((d) => {
      const doc = abbreviate(d);
      if (doc._id && typeof doc._id === "object" && "$oid" in doc._id) doc._id = { $oid: "<generated>" };
      return doc;
    });
    const key = (d) => Buffer.from(JSON.stringify(d.streamName ?? null));
    normalised.sort((a, b) => Buffer.compare(key(a), key(b)));
    documents[ns] = normalised;
  }
  return { results, documents, log: new Log(log) };
}

/** The commands of a replay, rendered (abbreviated) only when a failure shows them. */
class Log {
  constructor(entries) {
    this.entries = entries;
  }
  some(predicate) {
    return this.lines().some(predicate);
  }
  join(separator) {
    return this.lines().join(separator);
  }
  lines() {
    return this.entries.map(([at, command, reply]) => `${at} ${JSON.stringify(abbreviate(command))} -> ${JSON.stringify(abbreviate(reply))}`);
  }
}

/** An in-memory `Engine` as a replay target. */
export function engineTarget(engine) {
  return {
    execute: (command) => engine.execute(command),
    dump(database) {
      const all = engine.documents();
      return Object.fromEntries(
        Object.entries(all).filter(([ns]) => {
          const db = ns.slice(0, ns.indexOf("."));
          return db === database || db.startsWith(`${database}_`);
        }),
      );
    },
  };
}

// ------------------------------------------------------------------ comparison

/** Deep equality with object keys unordered and arrays ordered (serde_json's `==`). */
export function equal(a, b) {
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (a && typeof a === "object") {
    if (!b || typeof b !== "object" || Array.isArray(b)) return false;
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return a === b;
}

/** compare.rs `is_subset`. */
export function isSubset(expected, actual) {
  if (expected && typeof expected === "object" && !Array.isArray(expected)) {
    return (
      actual !== null &&
      typeof actual === "object" &&
      !Array.isArray(actual) &&
      Object.entries(expected).every(([k, v]) => Object.hasOwn(actual, k) && isSubset(v, actual[k]))
    );
  }
  return equal(expected, actual);
}

/** Every way `output` differs from the scenario's expectations (compare.rs `against_scenario`). */
export function problems(scenario, output) {
  const out = [];
  const expectations = scenario.steps.flatMap((s) => s.race.map((op) => op.expect));
  if (expectations.length !== output.results.length) out.push(`${expectations.length} expectations but ${output.results.length} results`);
  expectations.forEach((expect, i) => {
    const actual = output.results[i];
    const ok = "ok" in expect ? actual && "ok" in actual && equal(expect.ok, actual.ok) : actual && "error" in actual && isSubset(expect.error, actual.error);
    if (!ok) out.push(`operation ${i}: expected ${JSON.stringify(expect)}\n  actual ${JSON.stringify(actual)}`);
  });
  if (scenario.documents === undefined) out.push("the scenario has no recorded documents");
  else if (!equal(scenario.documents, output.documents)) {
    out.push(`stored documents differ\n  expected ${JSON.stringify(scenario.documents)}\n  actual   ${JSON.stringify(output.documents)}`);
  }
  return out;
}
