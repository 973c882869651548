// The public API of the built package in Node: appends, reads, folds, conflicts,
// values, layouts and storages, errors, options, explorer methods and executors.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConcurrencyConflictError,
  EmptyAppendError,
  Engine,
  EventStore,
  InvalidConfigError,
  InvalidEventError,
  InvalidRangeError,
  InvalidStreamNameError,
  NO_CONCURRENCY_CHECK,
  STREAM_DOES_NOT_EXIST,
  STREAM_EXISTS,
  StreamdocError,
  StreamTooLargeError,
  UnavailableError,
  UnexpectedReplyError,
  seededEventIds,
} from "streamdoc";

const placed = (total) => ({ type: "OrderPlaced", data: { total } });

test("append, read, fold and check existence on the in-memory engine", async () => {
  const store = new EventStore();
  const created = await store.appendToStream("order:eu:42", [placed(42)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  assert.deepEqual(created, { nextExpectedStreamVersion: 1n, createdNewStream: true });
  const next = await store.appendToStream("order:eu:42", [{ type: "OrderPaid" }, { type: "OrderShipped" }], { expectedStreamVersion: 1n });
  assert.deepEqual(next, { nextExpectedStreamVersion: 3n, createdNewStream: false });

  const read = await store.readStream("order:eu:42");
  assert.equal(read.currentStreamVersion, 3n);
  assert.equal(read.streamExists, true);
  assert.deepEqual(read.events.map((e) => [e.type, e.metadata.streamPosition, e.metadata.streamName]), [
    ["OrderPlaced", 1n, "order:eu:42"],
    ["OrderPaid", 2n, "order:eu:42"],
    ["OrderShipped", 3n, "order:eu:42"],
  ]);
  assert.deepEqual(read.events[0].data, { total: 42 });
  assert.ok(read.events[0].metadata.recordedAt instanceof Date);
  // Core's one event shape: the system fields in `metadata`, beside the caller's.
  assert.deepEqual(Object.keys(read.events[0]), ["type", "data", "metadata"]);
  assert.deepEqual(Object.keys(read.events[0].metadata), ["eventId", "streamName", "streamPosition", "recordedAt"]);

  const range = await store.readStream("order:eu:42", { from: 2n, maxCount: 1n });
  assert.deepEqual(range.events.map((e) => e.type), ["OrderPaid"]);
  assert.equal(range.currentStreamVersion, 3n);

  const folded = await store.aggregateStream("order:eu:42", {
    initialState: () => ({ total: 0, events: 0 }),
    evolve: (state, event) => ({ total: state.total + (event.data.total ?? 0), events: state.events + 1 }),
  });
  assert.deepEqual(folded, { state: { total: 42, events: 3 }, currentStreamVersion: 3n, streamExists: true });

  assert.equal(await store.streamExists("order:eu:42"), true);
  assert.equal(await store.streamExists("order:eu:43"), false);
  const missing = await store.readStream("order:eu:43");
  assert.deepEqual(missing, { currentStreamVersion: 0n, streamExists: false, events: [] });
});

test("a stale expected version is a typed ConcurrencyConflictError", async () => {
  const store = new EventStore();
  await store.appendToStream("order:1", [placed(1)]);
  const error = await store.appendToStream("order:1", [placed(2)], { expectedStreamVersion: 0n }).catch((e) => e);
  assert.ok(error instanceof ConcurrencyConflictError);
  assert.ok(error instanceof StreamdocError && error instanceof Error);
  assert.equal(error.name, "ConcurrencyConflictError");
  assert.equal(error.kind, "ConcurrencyConflict");
  assert.equal(error.streamName, "order:1");
  assert.equal(error.expected, 0n);
  assert.equal(error.actual, 1n);
  assert.deepEqual(error.details, { kind: "ConcurrencyConflict", stream: "order:1", expected: 0, actual: 1 });
  assert.match(error.message, /expected 0, actual 1/);

  const exists = await store.appendToStream("order:2", [placed(1)], { expectedStreamVersion: STREAM_EXISTS }).catch((e) => e);
  assert.ok(exists instanceof ConcurrencyConflictError);
  assert.equal(exists.expected, STREAM_EXISTS);
  assert.equal(exists.actual, null);
  const again = await store.appendToStream("order:1", [placed(3)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST }).catch((e) => e);
  assert.equal(again.expected, STREAM_DOES_NOT_EXIST);
  assert.deepEqual(await store.appendToStream("order:1", [placed(4)], { expectedStreamVersion: NO_CONCURRENCY_CHECK }), {
    nextExpectedStreamVersion: 2n,
    createdNewStream: false,
  });
});

test("invalid input is refused with typed errors, and nothing is written", async () => {
  const store = new EventStore();
  const name = await store.appendToStream("no-colon", [placed(1)]).catch((e) => e);
  assert.ok(name instanceof InvalidStreamNameError);
  assert.equal(name.reason, "missingColon");
  assert.equal(name.streamName, "no-colon");

  const empty = await store.appendToStream("order:1", []).catch((e) => e);
  assert.ok(empty instanceof EmptyAppendError);
  assert.equal(empty.streamName, "order:1");

  const duplicate = await store.appendToStream("order:1", [{ id: "a", type: "X" }, { id: "a", type: "Y" }]).catch((e) => e);
  assert.ok(duplicate instanceof InvalidEventError);
  assert.deepEqual([duplicate.index, duplicate.reason], [1, "duplicateId"]);

  const range = await store.readStream("order:1", { from: 5n, to: 3n }).catch((e) => e);
  assert.ok(range instanceof InvalidRangeError);
  assert.deepEqual([range.from, range.to], [5n, 3n]);

  let config;
  assert.throws(() => new EventStore({ database: "a.b" }), (e) => (config = e) instanceof InvalidConfigError);
  assert.deepEqual([config.reason, config.name], ["invalidDatabase", "a.b"]);

  // Wrong argument shapes are TypeErrors, as rejections.
  await assert.rejects(store.appendToStream("order:1", "not events"), TypeError);
  await assert.rejects(store.appendToStream("order:1", [{ data: {} }]), TypeError);
  await assert.rejects(store.appendToStream("order:1", [placed(1)], { expectedStreamVersion: -1 }), TypeError);
  await assert.rejects(store.appendToStream("order:1", [placed(1)], { expectedStreamVersion: "ANY" }), TypeError);
  await assert.rejects(store.appendToStream(42, [placed(1)]), TypeError);
  assert.throws(() => new EventStore({ storage: { kind: "sharded" } }), TypeError);
  assert.deepEqual(store.documents(), {});
});

test("an append whose event data appends elsewhere while it is read keeps both appends intact", async () => {
  const store = new EventStore();
  const other = new EventStore();
  let inner;
  const data = {
    a: 1,
    get nested() {
      inner = other.appendToStream("inner:1", [{ type: "Inner", data: { deep: "y".repeat(100), n: 2 } }]);
      return "z";
    },
    b: "x".repeat(100),
  };
  await store.appendToStream("outer:1", [{ type: "Outer", data }]);
  await inner;
  assert.deepEqual((await store.readStream("outer:1")).events[0].data, { a: 1, nested: "z", b: "x".repeat(100) });
  assert.deepEqual((await other.readStream("inner:1")).events[0].data, { deep: "y".repeat(100), n: 2 });
});

test("BSON values round-trip: native JavaScript values and Extended JSON in, native or canonical out", async () => {
  const data = {
    int: 42,
    double: 1.5,
    negativeZero: -0,
    long: 5n,
    when: new Date(Date.UTC(2026, 0, 2)),
    bytes: new Uint8Array([1, 2, 3]),
    decimal: { $numberDecimal: "1.10" },
    explicitLong: { $numberLong: "7" },
    nested: [1, [2, "x"], { deep: null }],
    skipped: undefined,
  };
  const native = new EventStore();
  await native.appendToStream("m:1", [{ type: "Measured", data, metadata: { by: "test" } }]);
  const [event] = (await native.readStream("m:1")).events;
  assert.equal(event.data.int, 42);
  assert.equal(event.data.double, 1.5);
  assert.ok(Object.is(event.data.negativeZero, -0));
  assert.equal(event.data.long, 5n);
  assert.equal(event.data.explicitLong, 7n);
  assert.equal(event.data.when.getTime(), Date.UTC(2026, 0, 2));
  assert.deepEqual([...event.data.bytes], [1, 2, 3]);
  assert.deepEqual(event.data.decimal, { $numberDecimal: "1.10" });
  assert.deepEqual(event.data.nested, [1, [2, "x"], { deep: null }]);
  assert.equal("skipped" in event.data, false);
  const { eventId, streamName, streamPosition, recordedAt, ...caller } = event.metadata;
  assert.deepEqual(caller, { by: "test" });
  assert.equal(typeof eventId, "string");
  assert.deepEqual([streamName, streamPosition, recordedAt instanceof Date], ["m:1", 1n, true]);

  const stored = native.documents()["streamdoc.m"][0].events[0].data;
  assert.deepEqual(stored.int, { $numberInt: "42" });
  assert.deepEqual(stored.double, { $numberDouble: "1.5" });
  assert.deepEqual(stored.negativeZero, { $numberDouble: "-0.0" });
  assert.deepEqual(stored.long, { $numberLong: "5" });
  assert.deepEqual(stored.when, { $date: { $numberLong: String(Date.UTC(2026, 0, 2)) } });

  const canonical = new EventStore({ values: "canonical" });
  await canonical.appendToStream("m:1", [{ type: "Measured", data: { int: 42, whole: { $numberDouble: "2.0" } } }]);
  const [exact] = (await canonical.readStream("m:1")).events;
  assert.deepEqual(exact.data, { int: { $numberInt: "42" }, whole: { $numberDouble: "2.0" } });
  await assert.rejects(native.appendToStream("m:2", [{ type: "X", data: { f: () => 1 } }]), TypeError);
});

test("layouts and storages place documents as core does, including a custom resolver function", async () => {
  const emmett = new EventStore({ layout: "emmett", database: "app" });
  await emmett.appendToStream("cart:1", [{ id: "m1", type: "Added" }]);
  const docs = emmett.documents();
  assert.deepEqual(Object.keys(docs), ["app.emt:cart"]);
  assert.equal(docs["app.emt:cart"][0].messages[0].metadata.messageId, "m1");

  const single = new EventStore({ storage: { kind: "single" } });
  await single.appendToStream("cart:1", [placed(1)]);
  await single.appendToStream("order:1", [placed(1)]);
  assert.deepEqual(Object.keys(single.documents()), ["streamdoc.streams"]);
  assert.equal(single.documents()["streamdoc.streams"].length, 2);

  const prefixed = new EventStore({ storage: { kind: "perStreamType", prefix: "es_" } });
  await prefixed.appendToStream("cart:1", [placed(1)]);
  assert.deepEqual(Object.keys(prefixed.documents()), ["streamdoc.es_cart"]);

  const seen = [];
  const custom = new EventStore({
    storage: {
      kind: "custom",
      resolve: (stream) => {
        seen.push(stream);
        return { database: `tenant_${stream.id.split(":")[0]}`, collection: stream.type };
      },
    },
  });
  await custom.appendToStream("order:acme:1", [placed(1)]);
  assert.deepEqual(seen[0], { name: "order:acme:1", type: "order", id: "acme:1" });
  assert.deepEqual(Object.keys(custom.documents()), ["tenant_acme.order"]);

  const failure = new Error("no tenant");
  const throwing = new EventStore({ storage: { kind: "custom", resolve: () => { throw failure; } } });
  assert.equal(await throwing.appendToStream("order:1", [placed(1)]).catch((e) => e), failure);
  const invalid = new EventStore({ storage: { kind: "custom", resolve: () => ({ database: "a.b", collection: "c" }) } });
  assert.ok((await invalid.appendToStream("order:1", [placed(1)]).catch((e) => e)) instanceof InvalidConfigError);
});

test("an injected clock and seeded ids make a store deterministic", async () => {
  const run = async (options) => {
    let now = Date.UTC(2026, 0, 1);
    const store = new EventStore({ ...options, clock: () => (now += 1000) });
    await store.appendToStream("order:1", [placed(1), placed(2)]);
    return store;
  };
  const [a, b] = [await run({ idSeed: 7 }), await run({ idSeed: 7n })];
  assert.deepEqual(a.documents(), (() => {
    const d = b.documents();
    d["streamdoc.order"][0]._id = a.documents()["streamdoc.order"][0]._id;
    return d;
  })());
  const [first] = (await a.readStream("order:1")).events;
  assert.equal(first.metadata.recordedAt.getTime(), Date.UTC(2026, 0, 1) + 1000);
  const other = (await (await run({ idSeed: 8 })).readStream("order:1")).events[0].metadata.eventId;
  assert.notEqual(first.metadata.eventId, other);

  // One generator shared by two stores gives one sequence, as core's SeededIds does.
  const ids = seededEventIds(3);
  const expected = [seededEventIds(3), seededEventIds(3)].map((g) => g());
  assert.equal(expected[0], expected[1]);
  const shared = [new EventStore({ generateEventId: ids }), new EventStore({ generateEventId: ids })];
  await shared[0].appendToStream("order:1", [placed(1)]);
  await shared[1].appendToStream("order:1", [placed(1)]);
  const generated = await Promise.all(shared.map(async (s) => (await s.readStream("order:1")).events[0].metadata.eventId));
  const sequence = seededEventIds(3);
  assert.deepEqual(generated, [sequence(), sequence()]);

  const clockFailure = new Error("clock broke");
  const broken = new EventStore({ clock: () => { throw clockFailure; } });
  assert.equal(await broken.appendToStream("order:1", [placed(1)]).catch((e) => e), clockFailure);
  await assert.rejects(new EventStore({ clock: () => "noon" }).appendToStream("order:1", [placed(1)]), TypeError);
  assert.throws(() => new EventStore({ idSeed: 1, generateEventId: () => "x" }), TypeError);
});

test("commandLog shows each command in mongosh syntax with its reply and step", async () => {
  const store = new EventStore({ commandLog: 3 });
  await store.appendToStream("order:1", [placed(1)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  const log = store.commandLog();
  assert.deepEqual(log.map((e) => e.step), ["creating the unique streamName index", "conditional append"]);
  assert.match(log[0].command, /^db\.getSiblingDB\("streamdoc"\)\.getCollection\("order"\)\.createIndex\(\{ streamName: 1 \}/);
  assert.match(log[1].command, /\.updateOne\(/);
  assert.match(log[1].reply, /upsertedCount: 1/);
  await store.readStream("order:1");
  await store.readStream("order:1");
  assert.equal(store.commandLog().length, 3, "the log keeps the last 3");
  assert.throws(() => new EventStore().commandLog(), TypeError);
});

test("snapshot and restore put the engine back; the store re-ensures its index", async () => {
  const store = new EventStore({ commandLog: true });
  await store.appendToStream("order:1", [placed(1)]);
  const snapshot = store.snapshot();
  await store.appendToStream("order:1", [placed(2)]);
  await store.appendToStream("cart:1", [placed(3)]);
  store.restore(snapshot);
  assert.equal((await store.readStream("order:1")).currentStreamVersion, 1n);
  assert.equal(await store.streamExists("cart:1"), false);
  await store.appendToStream("order:1", [placed(2)], { expectedStreamVersion: 1n });
  assert.equal(store.commandLog().at(-2).step, "creating the unique streamName index");
  const onExecutor = new EventStore({ executor: (c) => new Engine().execute(c) });
  assert.throws(() => onExecutor.snapshot(), TypeError);
  assert.throws(() => onExecutor.documents(), TypeError);
});

test("a JavaScript executor runs the same logic; stores can share one engine", async () => {
  const engine = new Engine();
  const seen = [];
  const executor = async (command) => {
    seen.push(command.kind);
    await new Promise((resolve) => setTimeout(resolve, 1));
    return engine.execute(command);
  };
  const a = new EventStore({ executor });
  const b = new EventStore({ executor });
  await a.appendToStream("order:1", [placed(1)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  const conflict = await b.appendToStream("order:1", [placed(2)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST }).catch((e) => e);
  assert.ok(conflict instanceof ConcurrencyConflictError);
  assert.equal(conflict.actual, 1n);
  assert.deepEqual(seen, ["createIndex", "updateOne", "createIndex", "updateOne", "findOne"]);
  assert.deepEqual((await b.aggregateStream("order:1", { initialState: () => 0, evolve: (n) => n + 1 })).state, 1);
  assert.equal(engine.documents()["streamdoc.order"].length, 1);
  assert.deepEqual(engine.namespaces(), ["streamdoc.order"]);

  // The command a JavaScript executor receives, in canonical Extended JSON.
  let update;
  const recorder = new EventStore({ idSeed: 1, executor: (c) => ((update ??= c.kind === "updateOne" ? c : undefined), engine.execute(c)) });
  await recorder.appendToStream("order:9", [{ id: "e9", type: "T" }], { expectedStreamVersion: 0n });
  assert.equal(update.database, "streamdoc");
  assert.equal(update.collection, "order");
  assert.equal(update.upsert, true);
  // Sealed (archived) streams take no appends: the filter excludes them.
  assert.deepEqual(update.filter, {
    streamName: { $eq: "order:9" },
    "metadata.streamPosition": { $numberLong: "0" },
    "metadata.sealedAt": { $exists: false },
  });
});

test("an executor that fails is UnavailableError; a retry with the same ids is idempotent", async () => {
  const engine = new Engine();
  let loseNextReply = false;
  const store = new EventStore({
    executor: (command) => {
      const reply = engine.execute(command);
      if (loseNextReply && command.kind === "updateOne") {
        loseNextReply = false;
        throw new Error("connection reset");
      }
      return reply;
    },
  });
  await store.appendToStream("order:1", [placed(1)]);
  loseNextReply = true;
  const events = [{ id: "pay-1", type: "OrderPaid" }];
  const lost = await store.appendToStream("order:1", events, { expectedStreamVersion: 1n }).catch((e) => e);
  assert.ok(lost instanceof UnavailableError);
  assert.equal(lost.outcomeUnknown, true);
  assert.equal(lost.cause.message, "connection reset");
  // The write had been applied: the retry finds its own event and reports success.
  assert.deepEqual(await store.appendToStream("order:1", events, { expectedStreamVersion: 1n }), {
    nextExpectedStreamVersion: 2n,
    createdNewStream: false,
  });
  assert.equal((await store.readStream("order:1")).events.length, 2);

  const garbage = new EventStore({ executor: () => ({ kind: "nonsense" }) });
  const invalid = await garbage.readStream("order:1").catch((e) => e);
  assert.ok(invalid instanceof UnavailableError);
  assert.equal(invalid.outcomeUnknown, false);
  assert.match(invalid.message, /invalid reply/);

  const wrongKind = new EventStore({ executor: () => ({ kind: "acknowledged" }) });
  assert.ok((await wrongKind.readStream("order:1").catch((e) => e)) instanceof UnexpectedReplyError);
  const rejecting = new EventStore({ executor: () => Promise.reject(new Error("down")) });
  assert.match((await rejecting.streamExists("order:1").catch((e) => e)).message, /rejected: down/);
});

test("the document size limit is a typed StreamTooLargeError", async () => {
  const engine = new Engine({ maxDocumentSize: 4096 });
  const store = new EventStore({ executor: (c) => engine.execute(c) });
  await store.appendToStream("order:1", [placed(1)]);
  const error = await store.appendToStream("order:1", [{ type: "Big", data: { s: "x".repeat(5000) } }]).catch((e) => e);
  assert.ok(error instanceof StreamTooLargeError);
  assert.equal(error.streamName, "order:1");
  assert.equal(error.limitBytes, 16 * 1024 * 1024);
  assert.equal((await store.readStream("order:1")).events.length, 1);
});

test("the README's JavaScript example runs as written", async () => {
  const { readFileSync, writeFileSync, rmSync } = await import("node:fs");
  const { execFileSync } = await import("node:child_process");
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## In JavaScript"));
  const example = /```js\n([\s\S]*?)```/.exec(section)[1];
  const file = new URL("./readme-example.tmp.mjs", import.meta.url);
  writeFileSync(file, example);
  try {
    const out = execFileSync("node", [file.pathname], { encoding: "utf8" });
    assert.equal(out, "order:42 1n 2n\nConcurrencyConflictError\n");
  } finally {
    rmSync(file);
  }
});
