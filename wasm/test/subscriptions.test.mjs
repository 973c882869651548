// Subscriptions through the package (`store.subscribe`): on the in-memory engine (its
// change stream, and polling), every event of many streams delivered once, in each
// stream's order, in batches of at most `batchSize`, the checkpoints stored where core
// puts them, a second subscription of the consumer resuming after them, a failing
// handler leaving them (and its batch delivered again), a graceful stop, and the options
// refused; on a live server (MONGODB_URI), polling through `streamdoc/mongodb`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, EventStore, MisuseError, Simulation, StreamdocError, SubscriptionError } from "streamdoc";
import { mongoExecutor } from "streamdoc/mongodb";
import { liveServer } from "./live.mjs";

const STREAMS = 20;
const EVENTS = 5;

/** Appends `EVENTS` events to each of `STREAMS` streams, one event per append, round robin. */
async function fill(store, prefix = "order", from = 0) {
  for (let i = 0; i < EVENTS; i++) {
    for (let s = 0; s < STREAMS; s++) {
      await store.appendToStream(`${prefix}:${s}`, [{ type: i === 0 ? "Placed" : "Noted", data: { s, i: from + i } }]);
    }
  }
}

/** A handler recording every batch, and what it saw per stream (positions in order). */
function recorder() {
  const batches = [];
  const seen = new Map();
  const handler = (batch) => {
    batches.push(batch);
    const positions = seen.get(batch.stream) ?? [];
    for (const event of batch.events) positions.push(event.metadata.streamPosition);
    seen.set(batch.stream, positions);
  };
  return { batches, seen, handler };
}

/** The checkpoints of `consumer` by stream, read from the store's stored documents. */
function checkpoints(store, consumer, collection = "streamdoc.streamdoc_checkpoints") {
  const docs = store.documents()[collection] ?? [];
  return Object.fromEntries(
    docs
      .filter((d) => d.consumer === consumer && d.streamName !== "")
      .map((d) => [d.streamName, BigInt(d.position.$numberLong)]),
  );
}

const range = (n) => Array.from({ length: n }, (_, i) => BigInt(i + 1));

for (const source of ["changeStream", "polling"]) {
  test(`${source} on the engine: every event of ${STREAMS} streams in order, in batches of at most 3, checkpoints at the ends`, async () => {
    const store = new EventStore();
    await fill(store);
    const { batches, seen, handler } = recorder();
    const sub = store.subscribe({ consumer: "billing", streamType: "order", source, batchSize: 3, manual: true }, handler);
    assert.equal(sub.source, source);
    assert.equal(sub.consumer, "billing");
    const delivered = await sub.catchUp();
    assert.equal(delivered, batches.length);
    assert.equal(batches.length, STREAMS * 2, "5 events per stream in batches of 3: 3 + 2");
    assert.ok(batches.every((b) => b.events.length <= 3 && b.events.length > 0));
    for (const b of batches) {
      assert.equal(typeof b.after, "bigint");
      assert.deepEqual(
        b.events.map((e) => e.metadata.streamPosition),
        b.events.map((_, i) => b.after + BigInt(i + 1)),
        "a batch holds the positions right after its checkpoint",
      );
      assert.ok(b.events.every((e) => e.metadata.streamName === b.stream));
    }
    assert.equal(seen.size, STREAMS);
    for (const positions of seen.values()) assert.deepEqual(positions, range(EVENTS));
    const first = batches.find((b) => b.stream === "order:0").events[0];
    assert.equal(first.type, "Placed");
    assert.deepEqual(first.data, { s: 0, i: 0 });
    const ends = Object.fromEntries(Array.from({ length: STREAMS }, (_, s) => [`order:${s}`, BigInt(EVENTS)]));
    assert.deepEqual(checkpoints(store, "billing"), ends);
    // Nothing new: a round delivers nothing; new events: only they are delivered.
    assert.equal(await sub.catchUp(), 0);
    await store.appendToStream("order:3", [{ type: "Paid" }, { type: "Shipped" }]);
    await store.appendToStream("cart:1", [{ type: "Other" }]);
    assert.equal(await sub.catchUp(), 1);
    assert.deepEqual(batches.at(-1).events.map((e) => [e.type, e.metadata.streamPosition]), [["Paid", 6n], ["Shipped", 7n]]);
    assert.equal(batches.at(-1).after, 5n);
    assert.equal(checkpoints(store, "billing")["order:3"], 7n);
    const stats = sub.stats();
    assert.equal(stats.batches, STREAMS * 2 + 1);
    assert.equal(stats.events, STREAMS * EVENTS + 2);
    if (source === "changeStream") {
      assert.equal(stats.sweeps, 1, "a new consumer sweeps once, then listens");
      assert.equal(stats.notices, 1, "the later append to the type's collection was heard as a change event");
      assert.equal(stats.carried, 1, "the later batch came in its change event, without a read");
    } else {
      assert.equal(stats.polls, 3);
      assert.equal(stats.notices, 0);
    }
    await sub.stop();
    await sub.done;
  });
}

test("auto is the engine's change stream; a late subscriber misses nothing written before it", async () => {
  const store = new EventStore();
  await store.appendToStream("order:early", [{ type: "A" }, { type: "B" }]);
  const { seen, handler } = recorder();
  const sub = store.subscribe({ consumer: "late", streamType: "order", manual: true }, handler);
  assert.equal(sub.source, "changeStream");
  await store.appendToStream("order:early", [{ type: "C" }]);
  await store.appendToStream("order:new", [{ type: "A" }]);
  await sub.catchUp();
  assert.deepEqual(seen.get("order:early"), [1n, 2n, 3n]);
  assert.deepEqual(seen.get("order:new"), [1n]);
  await sub.stop();
});

test("a second subscription of the consumer resumes after its checkpoints (and its resume token)", async () => {
  for (const source of ["changeStream", "polling"]) {
    const store = new EventStore();
    await fill(store);
    const first = recorder();
    const a = store.subscribe({ consumer: "mailer", streamType: "order", source, manual: true }, first.handler);
    assert.equal(await a.catchUp(), STREAMS);
    await store.appendToStream("order:0", [{ type: "Heard" }]);
    assert.equal(await a.catchUp(), 1);
    await a.stop();
    await store.appendToStream("order:7", [{ type: "Late" }]);
    await store.appendToStream("order:21", [{ type: "New" }]);
    const second = recorder();
    const b = store.subscribe({ consumer: "mailer", streamType: "order", source, manual: true }, second.handler);
    await b.catchUp();
    assert.deepEqual(
      second.batches.map((x) => [x.stream, x.after, x.events.map((e) => e.type)]).sort(),
      [["order:21", 0n, ["New"]], ["order:7", 5n, ["Late"]]],
      source,
    );
    if (source === "changeStream") assert.equal(b.stats().sweeps, 0, "resumed after the stored token: no sweep");
    // Another consumer has checkpoints of its own.
    const other = recorder();
    const c = store.subscribe({ consumer: "audit", streamType: "order", source, manual: true }, other.handler);
    await c.catchUp();
    assert.equal(other.seen.size, STREAMS + 1);
    await Promise.all([b.stop(), c.stop()]);
  }
});

test("a throwing handler stops the subscription, leaves the checkpoint, and its batch is delivered again", async () => {
  for (const source of ["changeStream", "polling"]) {
    const store = new EventStore();
    await store.appendToStream("order:1", [{ type: "A" }, { type: "B" }]);
    const ok = store.subscribe({ consumer: "c", streamType: "order", source, manual: true }, () => {});
    await ok.catchUp();
    await ok.stop();
    await store.appendToStream("order:1", [{ type: "C" }]);
    const thrown = new Error("mail server down");
    let calls = 0;
    const failing = store.subscribe({ consumer: "c", streamType: "order", source, manual: true }, async (batch) => {
      calls++;
      assert.equal(batch.after, 2n);
      await new Promise((r) => setTimeout(r, 5));
      throw thrown;
    });
    await assert.rejects(failing.catchUp(), (e) => e === thrown);
    await assert.rejects(failing.done, (e) => e === thrown, "done rejects with what the handler threw");
    await assert.rejects(failing.catchUp(), (e) => e === thrown, "a failed subscription stays failed");
    await failing.stop(); // already ended: resolves
    assert.equal(calls, 1);
    assert.equal(checkpoints(store, "c")["order:1"], 2n, `${source}: the checkpoint stayed`);
    const again = recorder();
    const next = store.subscribe({ consumer: "c", streamType: "order", source, manual: true }, again.handler);
    await next.catchUp();
    assert.deepEqual(again.batches.map((b) => [b.after, b.events.map((e) => e.type)]), [[2n, ["C"]]], "redelivered");
    assert.equal(checkpoints(store, "c")["order:1"], 3n);
    await next.stop();
  }
  // A handler that throws synchronously fails the same way.
  const store = new EventStore();
  await store.appendToStream("order:1", [{ type: "A" }]);
  const sync = store.subscribe({ consumer: "s", streamType: "order", manual: true }, () => {
    throw new TypeError("bug");
  });
  await assert.rejects(sync.catchUp(), TypeError);
  assert.deepEqual(checkpoints(store, "s"), {});
});

test("running by itself: delivers without catchUp, one batch at a time; stop() finishes the batch in hand", async () => {
  const store = new EventStore();
  await fill(store);
  let inHandler = 0;
  let maxInHandler = 0;
  const handled = [];
  let release;
  const firstBatchStarted = new Promise((r) => (release = r));
  const sub = store.subscribe({ consumer: "slow", streamType: "order", pollIntervalMs: 5, batchSize: 2 }, async (batch) => {
    inHandler++;
    maxInHandler = Math.max(maxInHandler, inHandler);
    release();
    await new Promise((r) => setTimeout(r, 10));
    handled.push(batch);
    inHandler--;
  });
  await firstBatchStarted;
  const started = performance.now();
  await sub.stop();
  const took = performance.now() - started;
  await sub.done;
  assert.equal(maxInHandler, 1, "backpressure: one batch at a time");
  assert.equal(inHandler, 0, "stop() resolved after the batch in hand finished");
  assert.equal(handled.length, 1, "no batch after stop()");
  const last = handled.at(-1);
  assert.equal(checkpoints(store, "slow")[last.stream], last.after + BigInt(last.events.length), "its checkpoint moved");
  assert.ok(took < 1000, `stop took ${took}ms`);
  await assert.rejects(sub.catchUp(), MisuseError);
  console.log(`# stop() waited ${took.toFixed(1)} ms for the batch in hand`);

  // Live delivery of later appends, by the timer alone.
  const live = recorder();
  const started2 = performance.now();
  const sub2 = store.subscribe({ consumer: "live", streamType: "order", pollIntervalMs: 5 }, live.handler);
  await store.appendToStream("order:0", [{ type: "Later" }]);
  while (live.seen.get("order:0")?.length !== EVENTS + 1) {
    if (performance.now() - started2 > 5000) assert.fail("the live subscription did not deliver within 5 s");
    await new Promise((r) => setTimeout(r, 5));
  }
  console.log(`# a running subscription delivered ${STREAMS * EVENTS + 1} events in ${(performance.now() - started2).toFixed(1)} ms`);
  await sub2.stop();
});

test("polling over an executor; a change stream there is refused", async () => {
  const engine = new Engine();
  const store = new EventStore({ executor: (command) => engine.execute(command) });
  await fill(store);
  const { seen, handler } = recorder();
  const sub = store.subscribe({ consumer: "x", streamType: "order", manual: true, pageSize: 7 }, handler);
  assert.equal(sub.source, "polling", "auto over an executor is polling");
  await sub.catchUp();
  assert.equal(seen.size, STREAMS);
  for (const positions of seen.values()) assert.deepEqual(positions, range(EVENTS));
  await sub.stop();
  const refused = (() => {
    try {
      store.subscribe({ consumer: "x", streamType: "order", source: "changeStream" }, () => {});
    } catch (e) {
      return e;
    }
  })();
  assert.ok(refused instanceof SubscriptionError, String(refused));
  assert.ok(refused instanceof StreamdocError);
  assert.equal(refused.kind, "Subscription");
  assert.equal(refused.reason, "changeStreamsUnsupported");
});

test("bad options are refused", () => {
  const store = new EventStore();
  const refuse = (options, handler = () => {}) => {
    try {
      store.subscribe(options, handler);
    } catch (e) {
      return e;
    }
    assert.fail(`accepted ${JSON.stringify(options)}`);
  };
  const unknown = refuse({ consumer: "c", streamType: "order", batchsize: 3 });
  assert.ok(unknown instanceof TypeError);
  assert.match(unknown.message, /unknown option `batchsize`/);
  assert.ok(refuse(undefined) instanceof TypeError);
  assert.ok(refuse({ streamType: "order" }) instanceof TypeError, "consumer is required");
  assert.ok(refuse({ consumer: "c", streamType: "order", source: "push" }) instanceof TypeError);
  assert.ok(refuse({ consumer: "c", streamType: "order", batchSize: -1 }) instanceof TypeError);
  assert.ok(refuse({ consumer: "c", streamType: "order", manual: "yes" }) instanceof TypeError);
  assert.ok(refuse({ consumer: "c", streamType: "order" }, "not a function") instanceof TypeError);
  for (const [options, reason] of [
    [{ consumer: "", streamType: "order" }, "invalidConfig"],
    [{ consumer: "c", streamType: "order", batchSize: 0 }, "invalidConfig"],
    [{ consumer: "c", streamType: "order", checkpoints: "system.x" }, "invalidConfig"],
    [{ consumer: "c" }, "streamTypeRequired"],
  ]) {
    const e = refuse(options);
    assert.ok(e instanceof SubscriptionError, `${JSON.stringify(options)}: ${e}`);
    assert.equal(e.reason, reason);
    assert.equal(e.errorCode, 400);
    assert.equal(e.details.kind, "Subscription");
  }
  const custom = new EventStore({ storage: { kind: "custom", resolve: () => ({ database: "d", collection: "c" }) } });
  assert.throws(() => custom.subscribe({ consumer: "c", streamType: "order" }, () => {}), (e) => e.reason === "customStorage");
  const single = new EventStore({ storage: { kind: "single" } });
  const sub = single.subscribe({ consumer: "c", manual: true, checkpoints: "cps" }, () => {});
  assert.equal(sub.source, "changeStream", "one collection holds every type: no stream type needed");
});

const server = liveServer("the live-server tests of subscriptions through streamdoc/mongodb", "sb");

test("live: polling through streamdoc/mongodb delivers every event, and resumes from the checkpoints", { skip: server.skip }, async () => {
  const database = server.database("subs");
  const store = new EventStore({ database, executor: mongoExecutor(server.client) });
  await fill(store);
  const { seen, handler, batches } = recorder();
  const started = performance.now();
  const sub = store.subscribe({ consumer: "billing", streamType: "order", source: "polling", batchSize: 4, manual: true }, handler);
  await sub.catchUp();
  const took = performance.now() - started;
  assert.equal(seen.size, STREAMS);
  for (const positions of seen.values()) assert.deepEqual(positions, range(EVENTS));
  assert.ok(batches.every((b) => b.events.length <= 4));
  const stored = await server.client.db(database).collection("streamdoc_checkpoints").find({ consumer: "billing" }).toArray();
  assert.equal(stored.length, STREAMS);
  assert.ok(stored.every((c) => Number(c.position) === EVENTS));
  await store.appendToStream("order:2", [{ type: "Late" }]);
  assert.equal(await sub.catchUp(), 1);
  assert.deepEqual(batches.at(-1).events.map((e) => e.metadata.streamPosition), [6n]);
  await sub.stop();
  const again = recorder();
  const next = store.subscribe({ consumer: "billing", streamType: "order", source: "polling", manual: true }, again.handler);
  assert.equal(await next.catchUp(), 0, "everything acknowledged stays acknowledged");
  await next.stop();
  console.log(`# live polling delivered ${STREAMS * EVENTS} events in ${took.toFixed(0)} ms`);
  await assert.rejects(
    Promise.resolve().then(() => store.subscribe({ consumer: "b", streamType: "order", source: "changeStream" }, () => {})),
    (e) => e instanceof SubscriptionError && e.reason === "changeStreamsUnsupported",
  );
});

test("on an Engine shared with a Simulation: the subscriber hears the race's appends, step by step", async () => {
  const engine = new Engine();
  const racer = (name) => ({ name, ops: [{ op: "append", stream: "order:1", events: [{ type: `By${name}` }], expected: "NO_CONCURRENCY_CHECK" }] });
  const sim = new Simulation({ clients: [racer("a"), racer("b")], engine });
  const store = new EventStore({ engine });
  const { batches, handler } = recorder();
  const sub = store.subscribe({ consumer: "watcher", streamType: "order", source: "changeStream", manual: true }, handler);
  await sub.catchUp();
  const steps = [];
  while (!sim.isFinished()) {
    sim.step(sim.runnable()[0]);
    steps.push(await sub.catchUp());
  }
  assert.deepEqual(batches.map((b) => [b.after, b.events.map((e) => e.type)]), [[0n, ["Bya"]], [1n, ["Byb"]]]);
  assert.equal(steps.filter((n) => n === 1).length, 2, `a batch right after each append's step: ${steps}`);
  assert.deepEqual(checkpoints(store, "watcher"), { "order:1": 2n });
  assert.equal(sub.stats().carried, 2, "both batches came in their change events");
  assert.deepEqual(sim.documents()["streamdoc.order"], store.documents()["streamdoc.order"], "one engine");
  assert.ok(sim.clone().documents()["streamdoc.streamdoc_checkpoints"], "a clone copies the shared engine");
  assert.throws(() => new EventStore({ engine, executor: () => null }), TypeError);
  assert.throws(() => new EventStore({ engine: {} }), /options.engine must be an Engine/);
  await sub.stop();
});

test("restore(): a change-stream subscription goes on from the restored engine's checkpoints", async () => {
  const store = new EventStore();
  const { batches, handler } = recorder();
  const sub = store.subscribe({ consumer: "r", streamType: "order", manual: true }, handler);
  await store.appendToStream("order:1", [{ type: "A" }]);
  assert.equal(await sub.catchUp(), 1);
  const snapshot = store.snapshot();
  await store.appendToStream("order:1", [{ type: "Undone" }]);
  assert.equal(await sub.catchUp(), 1);
  store.restore(snapshot);
  assert.deepEqual(checkpoints(store, "r"), { "order:1": 1n }, "the checkpoint as it was");
  await store.appendToStream("order:1", [{ type: "B" }]);
  await store.appendToStream("order:2", [{ type: "C" }]);
  await sub.catchUp();
  assert.deepEqual(
    batches.map((b) => [b.stream, b.after, b.events.map((e) => e.type)]),
    [["order:1", 0n, ["A"]], ["order:1", 1n, ["Undone"]], ["order:1", 1n, ["B"]], ["order:2", 0n, ["C"]]],
  );
  assert.deepEqual(checkpoints(store, "r"), { "order:1": 2n, "order:2": 1n });
  await store.appendToStream("order:2", [{ type: "D" }]);
  assert.equal(await sub.catchUp(), 1, "listening on the restored engine's change feed");
  await sub.stop();
});

test("a resume token the change stream cannot use: caught up from the checkpoints, or a SubscriptionError", async () => {
  for (const onHistoryLost of ["catchUp", "fail"]) {
    const engine = new Engine();
    const store = new EventStore({ engine });
    await store.appendToStream("order:1", [{ type: "A" }]);
    // A token no change event of this engine ever had (written by another server, say).
    const token = { consumer: "h", streamName: "", resumeToken: { _data: "00000000FFFFFFFF" }, sequence: { $numberLong: "1" } };
    engine.execute({ kind: "insertOne", database: "streamdoc", collection: "streamdoc_checkpoints", document: token });
    const { batches, handler } = recorder();
    const warnings = [];
    const warn = console.warn;
    console.warn = (message) => warnings.push(message);
    try {
      const sub = store.subscribe({ consumer: "h", streamType: "order", manual: true, onHistoryLost }, handler);
      if (onHistoryLost === "catchUp") {
        assert.equal(await sub.catchUp(), 1);
        assert.deepEqual(batches.map((b) => [b.stream, b.after, b.events.map((e) => e.type)]), [["order:1", 0n, ["A"]]]);
        assert.equal(warnings.length, 1);
        assert.match(warnings[0], /change stream of "h" cannot resume/);
        assert.equal(sub.stats().sweeps, 1, "caught up by one sweep");
        await store.appendToStream("order:1", [{ type: "B" }]);
        assert.equal(await sub.catchUp(), 1, "then on the new change stream");
        assert.equal(sub.stats().carried, 1);
        await sub.stop();
      } else {
        const lost = (e) => e instanceof SubscriptionError && e.reason === "historyLost" && e.consumer === "h";
        await assert.rejects(sub.catchUp(), lost);
        await assert.rejects(sub.done, lost);
        assert.deepEqual(batches, []);
        assert.deepEqual(warnings, []);
      }
    } finally {
      console.warn = warn;
    }
  }
  assert.throws(
    () => new EventStore().subscribe({ consumer: "h", streamType: "order", onHistoryLost: "ignore" }, () => {}),
    TypeError,
  );
});
