// Inline projections through the package, on the in-memory engine: read models written
// by the append's own update (only handled events reach `evolve`), deleted, refolded on a
// new schema version, rebuilt, queried as emmett-mongodb queries them; `evolve` failures
// as typed errors that write nothing; Emmett's option shapes; and the round trips.
import { test } from "node:test";
import assert from "node:assert/strict";
import { projections as emmettProjections } from "@event-driven-io/emmett";
import { mongoDBInlineProjection } from "@event-driven-io/emmett-mongodb";
import {
  ConcurrencyConflictError,
  Engine,
  EventStore,
  InvalidConfigError,
  InvalidQueryError,
  NO_CONCURRENCY_CHECK,
  ProjectionError,
  STREAM_DOES_NOT_EXIST,
  Simulation,
  StreamdocError,
} from "streamdoc";

const added = (price, sku = "x") => ({ type: "ItemAdded", data: { price, sku } });
const removed = (price) => ({ type: "ItemRemoved", data: { price } });
const cleared = () => ({ type: "CartCleared" });
const noted = () => ({ type: "NoteWritten", data: { text: "hi" } });

/** A cart summary: handles three types, deletes itself when cleared. */
const summary = (seen = []) => ({
  name: "summary",
  canHandle: ["ItemAdded", "ItemRemoved", "CartCleared"],
  initialState: () => ({ total: 0, items: 0 }),
  evolve: (state, event) => {
    seen.push(event);
    switch (event.type) {
      case "ItemAdded":
        return { total: state.total + event.data.price, items: state.items + 1 };
      case "ItemRemoved":
        return { total: state.total - event.data.price, items: state.items - 1 };
      case "CartCleared":
        return null;
      default:
        throw new Error(`unhandled ${event.type}`);
    }
  },
});

/** An executor on `engine` that records the kind of every command. */
function recording(engine, kinds) {
  return (command) => {
    kinds.push(command.kind);
    return engine.execute(command);
  };
}

/** The stored documents of `engine` (or a store), as canonical Extended JSON. */
const stored = (source) => JSON.stringify(source.documents());

const metadataOf = (model) => model._metadata;

test("only handled events reach evolve, which gets them as readStream returns them", async () => {
  const seen = [];
  const store = new EventStore({ projections: [summary(seen)] });
  await store.appendToStream("cart:1", [added(10), noted(), added(5)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  assert.deepEqual(seen.map((e) => e.type), ["ItemAdded", "ItemAdded"]);
  const { events } = await store.readStream("cart:1");
  assert.deepEqual(seen, [events[0], events[2]], "the same shape as readStream's");
  assert.equal(seen[1].metadata.streamPosition, 3n);

  const model = await store.readModel("cart:1", "summary");
  assert.deepEqual(model, {
    total: 15,
    items: 2,
    _metadata: { streamId: "1", name: "summary", schemaVersion: 1, streamPosition: 3n },
  });
  // An append of unhandled events alone leaves the read model as it was.
  await store.appendToStream("cart:1", [noted()], { expectedStreamVersion: 3n });
  assert.equal(seen.length, 2);
  assert.deepEqual(await store.readModel("cart:1", "summary"), model);
  // A stream whose events were never handled has no read model; nor has a missing stream.
  await store.appendToStream("cart:2", [noted()]);
  assert.equal(await store.readModel("cart:2", "summary"), null);
  assert.equal(await store.readModel("cart:3", "summary"), null);
  assert.equal(await store.readModel("cart:1", "other"), null);
  // The layout: Emmett's, in the stream document.
  const [doc] = store.documents()["streamdoc.cart"];
  assert.deepEqual(doc.projections.summary, {
    total: { $numberInt: "15" },
    items: { $numberInt: "2" },
    _metadata: {
      streamId: "1",
      name: "summary",
      schemaVersion: { $numberInt: "1" },
      streamPosition: { $numberLong: "3" },
    },
  });
});

test("returning null deletes the read model ($unset), and the next handled event starts again", async () => {
  const store = new EventStore({ projections: [summary()] });
  await store.appendToStream("cart:1", [added(10)]);
  await store.appendToStream("cart:1", [cleared()]);
  assert.equal(await store.readModel("cart:1", "summary"), null);
  const [doc] = store.documents()["streamdoc.cart"];
  assert.deepEqual(doc.projections ?? {}, {}, "the field is gone, not null");
  await store.appendToStream("cart:1", [added(7)]);
  const model = await store.readModel("cart:1", "summary");
  assert.deepEqual([model.total, model.items, model._metadata.streamPosition], [7, 1, 3n]);
  // Deleted and written again in one append.
  await store.appendToStream("cart:1", [cleared(), added(1), added(2)]);
  assert.deepEqual((await store.readModel("cart:1", "summary")).total, 3);
});

test("without initialState, evolve starts from null; the state it gets has no _metadata", async () => {
  const states = [];
  const store = new EventStore({
    projections: [
      {
        name: "count",
        canHandle: ["ItemAdded"],
        evolve: (state, event) => {
          states.push(state);
          // A state spreading what it was given keeps no stale _metadata.
          return { ...state, n: (state?.n ?? 0) + 1, last: event.data.sku, _metadata: "ignored" };
        },
      },
    ],
  });
  await store.appendToStream("cart:1", [added(1, "a"), added(2, "b")]);
  await store.appendToStream("cart:1", [added(3, "c")], { expectedStreamVersion: 2n });
  assert.deepEqual(states, [null, { n: 1, last: "a" }, { n: 2, last: "b" }]);
  const model = await store.readModel("cart:1", "count");
  assert.deepEqual(model, { n: 3, last: "c", _metadata: { streamId: "1", name: "count", schemaVersion: 1, streamPosition: 3n } });
});

test("a racing writer's read model is not written: the loser's append changes nothing", async () => {
  const engine = new Engine();
  const [a, b] = [0, 1].map(() => new EventStore({ executor: (c) => engine.execute(c), projections: [summary()] }));
  await a.appendToStream("cart:1", [added(10)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  await b.readStream("cart:1");
  await a.appendToStream("cart:1", [added(20)], { expectedStreamVersion: 1n });
  const before = stored(engine);
  const stale = await b.appendToStream("cart:1", [added(1000)], { expectedStreamVersion: 1n }).catch((e) => e);
  assert.ok(stale instanceof ConcurrencyConflictError);
  assert.equal(stored(engine), before, "nothing written");
  assert.equal((await b.readModel("cart:1", "summary")).total, 30);
  // A racing creation: the loser's read model is not written either.
  const lost = await b.appendToStream("cart:2", [added(1)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST }).then(
    () => a.appendToStream("cart:2", [added(2)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST }),
  ).catch((e) => e);
  assert.ok(lost instanceof ConcurrencyConflictError);
  assert.equal((await a.readModel("cart:2", "summary")).total, 1);
  // Without a check, the loser reads again and folds its events on the winner's state.
  await b.appendToStream("cart:1", [added(5)], { expectedStreamVersion: NO_CONCURRENCY_CHECK });
  const model = await a.readModel("cart:1", "summary");
  assert.deepEqual([model.total, model.items, model._metadata.streamPosition], [35, 3, 3n]);
});

test("every interleaving of racing appends keeps each read model the fold of its events", () => {
  const racer = (name, expected, price) => ({
    name,
    ops: [
      { op: "append", stream: "cart:1", events: [added(price)], expected },
      { op: "readModel", stream: "cart:1", projection: "summary" },
    ],
  });
  const sim = new Simulation({
    projections: [summary()],
    clients: [racer("a", NO_CONCURRENCY_CHECK, 1), racer("b", NO_CONCURRENCY_CHECK, 2), racer("c", STREAM_DOES_NOT_EXIST, 4)],
  });
  const report = sim.explore();
  assert.ok(report.schedules > 10, String(report.schedules));
  assert.deepEqual(report.violations, []);
  assert.equal(report.invariants.readModelDiverged.violatedIn, 0);
  assert.match(report.invariants.readModelDiverged.invariant, /read model/);
  // One schedule, with the outcomes as the store's methods give them.
  const once = new Simulation({ projections: [summary()], clients: [racer("a", STREAM_DOES_NOT_EXIST, 3)] });
  once.runToEnd();
  const [append, read] = once.outcomes();
  assert.deepEqual(append.result.ok, { nextExpectedStreamVersion: 1n, createdNewStream: true });
  assert.deepEqual(read.op, { op: "readModel", stream: "cart:1", projection: "summary" });
  assert.equal(read.result.ok.total, 3);
  assert.deepEqual(once.checkInvariants(), []);
});

test("a throwing evolve fails the append with a ProjectionError, and nothing is written", async () => {
  const boom = new Error("boom");
  const failing = (failOn) => ({
    name: "fragile",
    canHandle: ["ItemAdded"],
    initialState: () => ({ n: 0 }),
    evolve: (state, event) => {
      if (event.data.price === failOn) throw boom;
      return { n: state.n + 1 };
    },
  });
  const store = new EventStore({ projections: [summary(), failing(13)] });
  const first = await store.appendToStream("cart:1", [added(1), added(13)]).catch((e) => e);
  assert.ok(first instanceof ProjectionError, String(first));
  assert.ok(first instanceof StreamdocError);
  assert.equal(first.kind, "Projection");
  assert.equal(first.name, "ProjectionError");
  assert.equal(first.streamName, "cart:1");
  assert.equal(first.projection, "fragile");
  assert.equal(first.cause, boom);
  assert.equal(first.errorCode, 500);
  assert.match(first.message, /projection "fragile" failed on cart:1: evolve threw: boom/);
  assert.deepEqual(first.details, { kind: "Projection", stream: "cart:1", projection: "fragile", message: "evolve threw: boom" });
  assert.deepEqual(store.documents(), {}, "no stream was created");
  assert.equal(await store.streamExists("cart:1"), false);

  await store.appendToStream("cart:1", [added(1)]);
  const before = stored(store);
  const second = await store.appendToStream("cart:1", [added(2), added(13)], { expectedStreamVersion: 1n }).catch((e) => e);
  assert.ok(second instanceof ProjectionError);
  assert.equal(stored(store), before, "the events and read models are as they were");
  // The store goes on: the next append succeeds and its read models are right.
  await store.appendToStream("cart:1", [added(2)], { expectedStreamVersion: 1n });
  assert.equal((await store.readModel("cart:1", "summary")).total, 3);
  assert.equal((await store.readModel("cart:1", "fragile")).n, 2);
  // A thrown non-Error is described too.
  const odd = new EventStore({
    projections: [{ canHandle: ["ItemAdded"], evolve: () => { throw "nope"; } }],
  });
  const e = await odd.appendToStream("cart:1", [added(1)]).catch((x) => x);
  assert.ok(e instanceof ProjectionError);
  assert.equal(e.projection, "_default");
  assert.equal(e.cause, "nope");
});

test("an async evolve (or any returned Promise) fails the append with a ProjectionError, writing nothing", async () => {
  const rejections = [];
  const onRejection = (reason) => rejections.push(reason);
  process.on("unhandledRejection", onRejection);
  try {
    for (const evolve of [async (state) => ({ ...state, n: 1 }), async () => { throw new Error("late"); }, () => Promise.resolve({ n: 1 })]) {
      const store = new EventStore({ projections: [{ name: "later", canHandle: ["ItemAdded"], evolve }] });
      const error = await store.appendToStream("cart:1", [added(1)]).catch((e) => e);
      assert.ok(error instanceof ProjectionError, String(error));
      assert.equal(error.projection, "later");
      assert.match(error.message, /evolve returned a Promise: an inline projection's evolve must be synchronous/);
      assert.equal(error.cause, undefined);
      assert.deepEqual(store.documents(), {});
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(rejections, [], "an async evolve's rejection is not left unhandled");
  } finally {
    process.off("unhandledRejection", onRejection);
  }
});

test("a state that cannot be stored is a ProjectionError; numbers follow the package's rule", async () => {
  const returning = (state) => new EventStore({ projections: [{ name: "p", canHandle: ["ItemAdded"], evolve: () => state }] });
  for (const [state, why] of [
    [{ f: () => 1 }, /a function cannot be stored/],
    [{ m: new Map() }, /a Map cannot be stored/],
    [[1, 2], /must be an object/],
    [42, /must be an object/],
  ]) {
    const store = returning(state);
    const error = await store.appendToStream("cart:1", [added(1)]).catch((e) => e);
    assert.ok(error instanceof ProjectionError, String(error));
    assert.match(error.message, why);
    assert.deepEqual(store.documents(), {});
  }
  let deep = {};
  for (let i = 0; i < 120; i++) deep = { deep };
  const tooDeep = await returning(deep).appendToStream("cart:1", [added(1)]).catch((e) => e);
  assert.ok(tooDeep instanceof ProjectionError);
  assert.match(tooDeep.message, /the state nests deeper than 100 levels/);

  const store = returning({ small: 1, big: 2 ** 40, fraction: 0.5, long: 5n, at: new Date(0) });
  await store.appendToStream("cart:1", [added(1)]);
  const { p } = store.documents()["streamdoc.cart"][0].projections;
  assert.deepEqual(p.small, { $numberInt: "1" });
  assert.deepEqual(p.big, { $numberLong: String(2 ** 40) });
  assert.deepEqual(p.fraction, { $numberDouble: "0.5" });
  assert.deepEqual(p.long, { $numberLong: "5" });
  assert.deepEqual(p.at, { $date: { $numberLong: "0" } });
  const model = await store.readModel("cart:1", "p");
  assert.deepEqual([model.small, model.big, model.long, model.at], [1, 2n ** 40n, 5n, new Date(0)], "an Int64 reads back as a bigint");
  // With `values: "canonical"`, evolve sees (and may return) canonical Extended JSON.
  const seen = [];
  const canonical = new EventStore({
    values: "canonical",
    projections: [{ name: "c", canHandle: ["ItemAdded"], evolve: (state, e) => (seen.push([state, e.data.price]), { n: e.data.price }) }],
  });
  await canonical.appendToStream("cart:1", [added(1), added(2)]);
  assert.deepEqual(seen, [
    [null, { $numberInt: "1" }],
    [{ n: { $numberInt: "1" } }, { $numberInt: "2" }],
  ]);
  assert.deepEqual((await canonical.readModel("cart:1", "c"))._metadata.streamPosition, { $numberLong: "2" });
});

test("a new schema version refolds the read model from the stream's events on the next append", async () => {
  const engine = new Engine();
  const v1 = new EventStore({ executor: (c) => engine.execute(c), projections: [summary()] });
  await v1.appendToStream("cart:1", [added(10), added(20), removed(10)]);
  const seen = [];
  const v2 = new EventStore({
    executor: (c) => engine.execute(c),
    projections: [
      {
        name: "summary",
        schemaVersion: 2,
        canHandle: ["ItemAdded", "ItemRemoved"],
        initialState: () => ({ skus: [] }),
        evolve: (state, event) => {
          seen.push(event.metadata.streamPosition);
          return event.type === "ItemAdded" ? { skus: [...state.skus, event.data.price] } : state;
        },
      },
    ],
  });
  // Reading does not refold: the v1 read model is there as written.
  assert.equal((await v2.readModel("cart:1", "summary")).total, 20);
  await v2.appendToStream("cart:1", [added(30)], { expectedStreamVersion: 3n });
  assert.deepEqual(seen, [1n, 2n, 3n, 4n], "every event from the first, then the new one");
  assert.deepEqual(await v2.readModel("cart:1", "summary"), {
    skus: [10, 20, 30],
    _metadata: { streamId: "1", name: "summary", schemaVersion: 2, streamPosition: 4n },
  });
});

test("rebuildReadModels and rebuildAllReadModels recompute read models from the events", async () => {
  const engine = new Engine();
  const plain = new EventStore({ executor: (c) => engine.execute(c) });
  for (const id of ["1", "2", "3"]) await plain.appendToStream(`cart:${id}`, [added(Number(id)), added(10)]);
  await plain.appendToStream("order:1", [added(99)]);
  const store = new EventStore({ executor: (c) => engine.execute(c), projections: [summary(), { ...summary(), name: "other", streamTypes: ["order"] }] });
  assert.equal(await store.readModel("cart:1", "summary"), null, "written before the projection existed");
  assert.deepEqual(await store.rebuildReadModels("cart:1"), { streamExists: true, streamPosition: 2n });
  assert.equal((await store.readModel("cart:1", "summary")).total, 11);
  assert.deepEqual(await store.rebuildReadModels("cart:9", "summary"), { streamExists: false, streamPosition: 0n });
  assert.deepEqual(await store.rebuildAllReadModels("cart"), { streams: 3 });
  const models = await store.projections.inline.find({ streamType: "cart", projectionName: "summary" });
  assert.deepEqual(models.map((m) => m.total), [11, 12, 13]);
  assert.equal(await store.readModel("order:1", "summary"), null, "another type's streams are left alone");
  assert.deepEqual(await store.rebuildAllReadModels("order", "other"), { streams: 1 });
  assert.equal((await store.readModel("order:1", "other")).total, 99);
  // A projection the stream type does not have cannot be rebuilt.
  const wrong = await store.rebuildReadModels("cart:1", "other").catch((e) => e);
  assert.ok(wrong instanceof InvalidConfigError, String(wrong));
  assert.equal(wrong.reason, "invalidProjection");
  // The store remembers the rebuilt read models no more than it saw them: the next append reads them.
  await store.appendToStream("cart:1", [added(100)], { expectedStreamVersion: 2n });
  assert.equal((await store.readModel("cart:1", "summary")).total, 111);
  await assert.rejects(store.rebuildAllReadModels(42), TypeError);
});

/** Five carts with totals 10..50 in the store; cart:5 cleared after. */
async function carts() {
  const kinds = [];
  const engine = new Engine();
  const store = new EventStore({ executor: recording(engine, kinds), projections: [summary(), { ...summary(), name: "_default" }] });
  for (const n of [3, 1, 4, 2, 5]) {
    const events = Array.from({ length: n }, () => added(10, `sku${n}`));
    await store.appendToStream(`cart:${n}`, events);
  }
  await store.appendToStream("cart:5", [cleared()]);
  await store.appendToStream("cart:6", [noted()]);
  kinds.length = 0;
  return { store, kinds };
}

test("projections.inline queries: filters, sort, skip, limit, count and findOne, as emmett-mongodb's", async () => {
  const { store, kinds } = await carts();
  const { findOne, find, count } = store.projections.inline;
  const totals = (models) => models.map((m) => m.total);
  const summaryOf = { streamType: "cart", projectionName: "summary" };

  assert.deepEqual(totals(await find(summaryOf)), [10, 20, 30, 40], "ordered by stream name; deleted ones absent");
  assert.deepEqual(totals(await find(summaryOf, { total: { $gte: 20 } })), [20, 30, 40]);
  assert.deepEqual(totals(await find(summaryOf, { $or: [{ total: 10 }, { items: 4 }] })), [10, 40]);
  assert.deepEqual(totals(await find(summaryOf, {}, { sort: { total: -1 } })), [40, 30, 20, 10]);
  assert.deepEqual(totals(await find(summaryOf, {}, { sort: [["items", -1]], skip: 1, limit: 2 })), [30, 20]);
  assert.deepEqual(totals(await find(summaryOf, undefined, { skip: 0, limit: 0 })), [10, 20, 30, 40], "0 is no limit");
  assert.deepEqual(totals(await find({ ...summaryOf, streamIds: ["4", "1", "5"] })), [10, 40]);
  assert.deepEqual(totals(await find({ ...summaryOf, streamIds: [] })), [10, 20, 30, 40], "an empty streamIds is no filter");
  assert.deepEqual(totals(await find({ projectionName: "summary", streamNames: ["cart:2", "cart:3"] })), [20, 30]);
  // The stored read models, _metadata included, as Emmett returns them.
  assert.deepEqual((await find({ streamNames: ["cart:2"] }))[0], {
    total: 20,
    items: 2,
    _metadata: { streamId: "2", name: "_default", schemaVersion: 1, streamPosition: 2n },
  });

  assert.equal(await count(summaryOf), 4);
  assert.equal(await count(summaryOf, { items: { $lt: 3 } }), 2);
  assert.equal(await count({ streamNames: ["cart:1", "cart:5", "cart:6"] }), 1);

  assert.equal((await findOne({ streamName: "cart:3", projectionName: "summary" })).total, 30);
  assert.equal((await findOne({ streamType: "cart", streamId: "4", projectionName: "summary" })).total, 40);
  assert.equal((await findOne({ streamType: "cart", projectionName: "summary" }, { items: { $gt: 1 } })).total, 20);
  assert.equal((await findOne({ streamName: "cart:3" })).total, 30, "projectionName defaults to _default");
  assert.equal(await findOne({ streamName: "cart:5", projectionName: "summary" }), null, "deleted");
  assert.equal(await findOne({ streamName: "cart:6", projectionName: "summary" }), null, "never written");
  assert.equal(await findOne({ streamName: "cart:3" }, { total: 31 }), null);
  assert.equal(kinds.filter((k) => k !== "find" && k !== "count").length, 0, kinds.join());

  // Emmett answers an empty streamNames with [] and 0, asking the server nothing.
  kinds.length = 0;
  assert.deepEqual(await find({ streamNames: [] }), []);
  assert.equal(await count({ streamNames: [] }), 0);
  assert.deepEqual(kinds, []);
});

test("a query reaching beyond the read model is refused with InvalidQueryError, sending nothing", async () => {
  const { store, kinds } = await carts();
  const { findOne, find, count } = store.projections.inline;
  const summaryOf = { streamType: "cart", projectionName: "summary" };
  const where = await find(summaryOf, { $where: "this.total > 10" }).catch((e) => e);
  assert.ok(where instanceof InvalidQueryError, String(where));
  assert.ok(where instanceof StreamdocError);
  assert.deepEqual([where.kind, where.reason, where.operator, where.errorCode], ["InvalidQuery", "unsupportedOperator", "$where", 400]);
  assert.deepEqual(where.details, { kind: "InvalidQuery", reason: "unsupportedOperator", operator: "$where" });
  for (const refused of [
    count(summaryOf, { $expr: { $gt: ["$total", 1] } }),
    findOne({ streamName: "cart:1" }, { $where: "1" }),
    find(summaryOf, { $or: [] }),
    find(summaryOf, { "a.$b": 1 }),
    find(summaryOf, {}, { sort: { total: 2 } }),
    find({ streamType: "cart", projectionName: "a.b" }),
  ]) {
    const e = await refused.catch((x) => x);
    assert.ok(e instanceof InvalidQueryError, String(e));
  }
  const sort = await find(summaryOf, {}, { sort: [["total", 0]] }).catch((e) => e);
  assert.deepEqual([sort.reason, sort.path], ["invalidSortDirection", "total"]);
  assert.deepEqual(kinds, [], "nothing was sent");
  // A value is data, never an operator: "$where" as a value is compared, not run.
  assert.deepEqual(await find(summaryOf, { total: "$where" }), []);

  // Malformed arguments are TypeErrors.
  for (const bad of [
    () => find({ streamType: "cart", streamNames: ["cart:1"] }),
    () => find({ streamNames: ["cart:1", "order:1"] }),
    () => find({ projectionName: "summary" }),
    () => find({ streamType: "cart", typo: 1 }),
    () => find(summaryOf, {}, { order: 1 }),
    () => find(summaryOf, {}, { sort: [["total"]] }),
    () => findOne({ streamName: "cart:1", streamType: "cart" }),
    () => findOne("cart:1"),
    () => count(summaryOf, { f: () => 1 }),
  ]) {
    await assert.rejects(bad(), TypeError);
  }
  await assert.rejects(find({ streamNames: ["nocolon"] }), (e) => e.kind === "InvalidStreamName");
  // A custom storage cannot say where every stream of a type is.
  const custom = new EventStore({ storage: { kind: "custom", resolve: (s) => ({ database: "d", collection: s.id }) } });
  const e = await custom.projections.inline.find({ streamType: "cart" }).catch((x) => x);
  assert.deepEqual([e.kind, e.reason], ["InvalidQuery", "customStorage"]);
});

test("an append at a known position sends ONE command; one at an unknown position reads, then writes", async () => {
  const engine = new Engine();
  const kinds = [];
  const projections = [summary(), { name: "tally", canHandle: ["ItemAdded"], evolve: (s) => ({ n: (s?.n ?? 0) + 1 }), indexes: [{ n: -1 }] }];
  const store = new EventStore({ executor: recording(engine, kinds), projections });
  await store.appendToStream("cart:1", [added(1)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  assert.deepEqual(kinds, ["createIndex", "createIndex", "updateOne"], "the unique index, the declared one, then the write");
  kinds.length = 0;
  await store.appendToStream("cart:1", [added(2)], { expectedStreamVersion: 1n });
  assert.deepEqual(kinds, ["updateOne"], "the store remembers the read models it wrote: no read");
  kinds.length = 0;
  await store.appendToStream("cart:1", [added(3), noted()], { expectedStreamVersion: 2n });
  assert.deepEqual(kinds, ["updateOne"]);

  // Another store does not know the read models at position 4: it reads them first.
  const other = new EventStore({ executor: recording(engine, kinds), projections });
  await other.projections.inline.count({ streamType: "cart" }); // ensures the indexes
  kinds.length = 0;
  await other.appendToStream("cart:1", [added(4)], { expectedStreamVersion: 4n });
  assert.deepEqual(kinds, ["findOne", "updateOne"]);
  kinds.length = 0;
  await other.appendToStream("cart:1", [added(5)], { expectedStreamVersion: 5n });
  assert.deepEqual(kinds, ["updateOne"], "then it knows them");
  kinds.length = 0;
  // Without a check, the position is read (with the read models) unless remembered.
  await other.appendToStream("cart:1", [added(6)]);
  assert.deepEqual(kinds, ["updateOne"]);
  kinds.length = 0;
  await store.appendToStream("cart:1", [added(7)]);
  assert.deepEqual(kinds, ["updateOne", "findOne", "updateOne"], "a stale guess fails, then a read and the write");
  const model = await store.readModel("cart:1", "summary");
  assert.deepEqual([model.total, model.items, model._metadata.streamPosition], [28, 7, 8n]);
  assert.equal((await store.readModel("cart:1", "tally")).n, 7);
});

test("Emmett's option shapes are accepted; what mongoDBInlineProjection returns is refused", async () => {
  const options = {
    canHandle: ["ItemAdded"],
    initialState: () => ({ n: 0 }),
    evolve: (state) => ({ n: state.n + 1 }),
  };
  // Emmett's registration wrapper, and the name and schema version defaults.
  const store = new EventStore({ projections: [{ type: "inline", projection: options }, { type: "inline", projection: { ...options, name: "v3", schemaVersion: 3 } }] });
  await store.appendToStream("cart:1", [added(1), added(2)]);
  assert.deepEqual(await store.readModel("cart:1"), { n: 2, _metadata: { streamId: "1", name: "_default", schemaVersion: 1, streamPosition: 2n } });
  assert.equal((await store.readModel("cart:1", "v3"))._metadata.schemaVersion, 3);
  // `projections.inline([...])` from @event-driven-io/emmett gives the same wrapper.
  const wrapped = new EventStore({ projections: emmettProjections.inline([{ ...options, name: "w" }]) });
  await wrapped.appendToStream("cart:1", [added(1)]);
  assert.equal((await wrapped.readModel("cart:1", "w")).n, 1);

  // The result of emmett-mongodb's mongoDBInlineProjection: an async handle, no evolve.
  const built = mongoDBInlineProjection({ ...options, name: "built" });
  assert.equal(typeof built.handle, "function");
  for (const given of [[built], emmettProjections.inline([built])]) {
    let error;
    try {
      new EventStore({ projections: given });
    } catch (e) {
      error = e;
    }
    assert.ok(error instanceof InvalidConfigError, String(error));
    assert.deepEqual([error.reason, error.name], ["invalidProjection", "built"]);
    assert.match(error.message, /mongoDBInlineProjection/);
    assert.match(error.message, /pass the options object given to mongoDBInlineProjection instead/);
  }

  // Definitions core refuses are InvalidConfigErrors; malformed ones TypeErrors.
  const config = (p) => () => new EventStore({ projections: [p] });
  for (const [p, why] of [
    [{ ...options, name: "" }, /the name is empty/],
    [{ ...options, name: "a.b" }, /may not contain '.'/],
    [{ ...options, canHandle: [] }, /it handles no event type/],
    [{ ...options, initialState: () => ({ _metadata: 1 }) }, /_metadata/],
    [{ ...options, indexes: [{ n: 2 }] }, /1 or -1/],
  ]) {
    assert.throws(config(p), (e) => e instanceof InvalidConfigError && why.test(e.message), String(why));
  }
  assert.throws(() => new EventStore({ projections: [options, options] }), (e) => e instanceof InvalidConfigError && /two projections have this name/.test(e.message));
  for (const p of [
    { ...options, typo: 1 },
    { ...options, evolve: undefined },
    { ...options, canHandle: "ItemAdded" },
    { ...options, canHandle: [1] },
    { ...options, schemaVersion: -1 },
    { ...options, schemaVersion: 2 ** 31 },
    { ...options, streamTypes: "cart" },
    { ...options, indexes: { n: 1 } },
    { ...options, initialState: () => 5 },
    { type: "async", projection: options },
    { type: "inline", projection: options, extra: 1 },
    "summary",
  ]) {
    assert.throws(config(p), TypeError, JSON.stringify(p));
  }
  assert.throws(() => new EventStore({ projections: options }), TypeError);
  // initialState is called once, when the store is created; what it throws is thrown.
  let calls = 0;
  const counted = new EventStore({ projections: [{ ...options, initialState: () => (calls++, { n: 0 }) }] });
  await counted.appendToStream("cart:1", [added(1)]);
  await counted.appendToStream("cart:2", [added(1)]);
  assert.equal(calls, 1);
  const thrown = new Error("no initial state");
  assert.throws(config({ ...options, initialState: () => { throw thrown; } }), (e) => e === thrown);
  // A Simulation takes them too; clients with stores take their stores'.
  assert.throws(() => new Simulation({ projections: [built], clients: [] }), InvalidConfigError);
  assert.throws(
    () => new Simulation({ projections: [options], clients: [{ name: "a", store, ops: [] }] }),
    /give no database, layout, storage, maxAttempts, defaultStreamType or projections/,
  );
});

test("streamTypes limits a projection to its types; the Emmett layout keeps the same read models", async () => {
  const store = new EventStore({
    layout: "emmett",
    projections: [{ ...summary(), streamTypes: ["cart"] }],
  });
  await store.appendToStream("cart:1", [added(5)]);
  await store.appendToStream("wishlist:1", [added(5)]);
  assert.equal((await store.readModel("cart:1", "summary")).total, 5);
  assert.equal(await store.readModel("wishlist:1", "summary"), null);
  const docs = store.documents();
  assert.deepEqual(Object.keys(docs), ["streamdoc.emt:cart", "streamdoc.emt:wishlist"]);
  assert.ok(docs["streamdoc.emt:cart"][0].messages, "the events are Emmett's messages");
  assert.equal(docs["streamdoc.emt:wishlist"][0].projections, undefined);
  // The events evolve gets are as read back in this layout (messageId, no eventId).
  const seen = [];
  const emmett = new EventStore({ layout: "emmett", projections: [{ canHandle: ["ItemAdded"], evolve: (s, e) => (seen.push(e), {}) }] });
  await emmett.appendToStream("cart:1", [added(1)]);
  assert.equal(typeof seen[0].metadata.messageId, "string");
  assert.equal(seen[0].metadata.eventId, undefined);
});

test("read model calls check their arguments", async () => {
  const store = new EventStore({ projections: [summary()] });
  await assert.rejects(store.readModel(1, "summary"), TypeError);
  await assert.rejects(store.readModel("cart:1", 5), TypeError);
  await assert.rejects(store.readModel("nocolon", "summary"), (e) => e.kind === "InvalidStreamName");
  await assert.rejects(store.readModel("cart:1", "$bad"), (e) => e.kind === "InvalidQuery" && e.reason === "invalidProjectionName");
  await assert.rejects(store.rebuildReadModels("cart:1", 1), TypeError);
  assert.throws(() => new EventStore({ projections: [summary()], typo: 1 }), /unknown option `typo`/);
  // The projections getter gives fresh functions over the same store.
  assert.notEqual(store.projections, store.projections);
  assert.deepEqual(Object.keys(store.projections.inline), ["findOne", "find", "count"]);
});

test("findReadModels and countReadModels: core's query with each stream's name; bad queries are typed", async () => {
  const store = new EventStore({ projections: [summary()] });
  for (const [id, prices] of [["a", [5]], ["b", [1, 1]], ["c", [9]]]) {
    await store.appendToStream(`cart:${id}`, prices.map((p) => added(p)), { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  }
  const found = await store.findReadModels({ streamType: "cart", projection: "summary", sort: { total: -1 }, limit: 2 });
  assert.deepEqual(
    found.map((m) => [m.streamName, m.readModel.total, m.readModel._metadata.streamPosition]),
    [["cart:c", 9, 1n], ["cart:a", 5, 1n]],
  );
  const named = await store.findReadModels({ streamType: "cart", projection: "summary", streams: ["cart:b", "cart:x"] });
  assert.deepEqual(named.map((m) => m.streamName), ["cart:b"]);
  assert.equal(await store.countReadModels({ streamType: "cart", projection: "summary", filter: { items: { $gte: 1 } }, skip: 1 }), 2);
  await assert.rejects(
    store.findReadModels({ streamType: "cart", projection: "summary", filter: { $where: "true" } }),
    (e) => e instanceof InvalidQueryError && e.reason === "unsupportedOperator",
  );
  await assert.rejects(store.countReadModels({ streamType: "cart", projection: "summary", limt: 1 }), TypeError);
  await assert.rejects(store.findReadModels({ projection: "summary" }), TypeError);
});
