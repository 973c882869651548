// The simulator through the built package: explicit schedules, traces, outcomes,
// invariants and exhaustive exploration.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ConcurrencyConflictError, Engine, EventStore, STREAM_DOES_NOT_EXIST, Simulation } from "streamdoc";

const create = (name, stream = "order:1") => ({
  name,
  ops: [{ op: "append", stream, events: [{ type: "OrderPlaced", data: { by: name } }], expected: STREAM_DOES_NOT_EXIST }],
});

test("an explicit schedule replays one interleaving: one creation wins, the other gets a typed conflict", () => {
  const sim = new Simulation({ clients: [create("a"), create("b")] });
  assert.deepEqual(sim.clientNames(), ["a", "b"]);
  assert.deepEqual(sim.runnable(), [0, 1]);
  assert.match(sim.pending(0), /createIndex/);
  sim.run([0, 1, 1, 0]);
  assert.equal(sim.isFinished(), true);
  const trace = sim.trace();
  assert.deepEqual(trace.slice(0, 4).map((t) => t.client), [0, 1, 1, 0]);
  assert.equal(trace[2].step, "conditional append");
  assert.match(trace[2].reply, /upsertedCount: 1/);
  const outcomes = sim.outcomes();
  const winner = outcomes.find((o) => o.client === 1);
  const loser = outcomes.find((o) => o.client === 0);
  assert.deepEqual(winner.result.ok, { nextExpectedStreamVersion: 1n, createdNewStream: true });
  assert.deepEqual(winner.eventIds, ["b0-0"]);
  assert.ok(loser.result.error instanceof ConcurrencyConflictError);
  assert.equal(loser.result.error.actual, 1n);
  assert.equal(loser.op.expected, STREAM_DOES_NOT_EXIST);
  const docs = sim.documents()["streamdoc.order"];
  assert.equal(docs.length, 1);
  assert.deepEqual(docs[0].events[0].data, { by: "b" });
  assert.deepEqual(sim.checkInvariants(), []);
  assert.throws(() => sim.step(0), RangeError);
});

test("exploration runs every schedule and checks the invariants", () => {
  const report = new Simulation({ clients: [create("a"), create("b")] }).explore();
  assert.equal(report.truncated, false);
  assert.ok(report.schedules >= 6);
  assert.deepEqual(report.violations, []);
  for (const summary of Object.keys(report.outcomes)) {
    assert.equal(summary.match(/ConcurrencyConflict/g)?.length, 1, summary);
  }
  const limited = new Simulation({ clients: [create("a"), create("b")] }).explore({ limit: 2 });
  assert.deepEqual([limited.schedules, limited.truncated], [2, true]);
});

test("all schedules of 4 clients x 2 steps each explore in well under a second", () => {
  // Each client creates its own stream: create the index, then the upsert (2 commands).
  const clients = ["a", "b", "c", "d"].map((name) => create(name, `order:${name}`));
  const sim = new Simulation({ clients });
  const started = performance.now();
  const report = sim.explore();
  const elapsed = performance.now() - started;
  assert.equal(report.schedules, 2520, "8! / (2!)^4 interleavings");
  assert.deepEqual(report.violations, []);
  assert.deepEqual(Object.keys(report.outcomes), ["a0:ok(1) b0:ok(1) c0:ok(1) d0:ok(1)"]);
  console.log(`# explored ${report.schedules} schedules of 4 clients x 2 steps in ${elapsed.toFixed(1)} ms`);
});

test("a clone runs independently, and reads see what the schedule allows", () => {
  const reader = { name: "r", ops: [{ op: "read", stream: "order:1" }, { op: "exists", stream: "order:1" }] };
  const sim = new Simulation({ clients: [create("a"), reader], values: "canonical" });
  const copy = sim.clone();
  sim.run([1, 1, 0, 0]);
  copy.run([0, 0, 1, 1]);
  const before = sim.outcomes().find((o) => o.client === 1 && o.opIndex === 0).result.ok;
  const after = copy.outcomes().find((o) => o.client === 1 && o.opIndex === 0).result.ok;
  assert.equal(before.streamExists, false);
  assert.equal(after.streamExists, true);
  assert.deepEqual(after.events[0].data, { by: "a" });
  assert.equal(copy.outcomes().find((o) => o.opIndex === 1).result.ok, true);
  assert.throws(() => new Simulation({ clients: [{ name: "x", ops: [{ op: "delete", stream: "a:1" }] }] }), TypeError);
});

test("on any executor: the same schedule gives the same run, driven asynchronously", async () => {
  const onEngine = new Simulation({ clients: [create("a"), create("b")] });
  onEngine.run([0, 1, 1, 0]);
  const engine = new Engine();
  const executor = async (command) => (await new Promise((r) => setTimeout(r, 0)), engine.execute(command));
  const elsewhere = new Simulation({ clients: [create("a"), create("b")], executor });
  assert.throws(() => elsewhere.step(0), TypeError);
  assert.throws(() => elsewhere.explore(), TypeError);
  assert.throws(() => elsewhere.documents(), TypeError);
  await elsewhere.runAsync([0, 1, 1, 0]);
  assert.equal(elsewhere.isFinished(), true);
  const strip = (outcomes) => outcomes.map((o) => ({ ...o, result: "ok" in o.result ? o.result : o.result.error.details }));
  assert.deepEqual(strip(elsewhere.outcomes()), strip(onEngine.outcomes()));
  assert.deepEqual(elsewhere.trace(), onEngine.trace());
  assert.deepEqual(engine.documents(), onEngine.documents());
  assert.deepEqual(elsewhere.checkInvariants(engine.documents()), []);
  // One asynchronous step at a time.
  const sim = new Simulation({ clients: [create("a")], executor });
  const first = sim.stepAsync(0);
  await assert.rejects(sim.stepAsync(0), TypeError);
  await first;
  await assert.rejects(sim.stepAsync(5), RangeError);
});

test("clients can be existing stores: their configuration, ids and what they remember", async () => {
  const engine = new Engine();
  const executor = (command) => engine.execute(command);
  const stores = ["a", "b"].map(() => new EventStore({ executor, database: "shop", idSeed: 1, commandLog: true }));
  const clients = stores.map((store, i) => ({ name: `c${i}`, store, ops: create(`c${i}`).ops }));
  assert.throws(() => new Simulation({ clients, executor, database: "other" }), TypeError, "config comes from the stores");
  assert.throws(() => new Simulation({ clients: [clients[0], create("x")], executor }), TypeError, "all or none");
  const sim = new Simulation({ clients, executor });
  await sim.runAsync([1, 1, 0, 0]);
  const winner = sim.outcomes().find((o) => o.client === 1);
  assert.deepEqual(winner.result.ok, { nextExpectedStreamVersion: 1n, createdNewStream: true });
  assert.deepEqual(Object.keys(engine.documents()), ["shop.order"]);
  // The winning store learned the index and the position: its next append is one update.
  await stores[1].appendToStream("order:1", [{ type: "Paid" }]);
  assert.deepEqual(stores[1].commandLog().map((e) => e.step), ["conditional append at the position last seen"]);
});
