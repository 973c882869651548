// Archiving, closing the books and stream status through the built package: the
// methods, their options, StreamArchivedError, summaries computed by a function (and
// one that throws), the archive and segments options, simulated clients, and the same
// on a JavaScript executor.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ConcurrencyConflictError,
  Engine,
  EventStore,
  InvalidConfigError,
  ProjectionError,
  STREAM_DOES_NOT_EXIST,
  Simulation,
  StreamArchivedError,
  StreamdocError,
  UnavailableError,
} from "streamdoc";

const sold = (amount) => ({ type: "Sold", data: { amount } });

/** A store with two events in `shift:1`. */
async function shift(options = {}) {
  const store = new EventStore({ idSeed: 1, ...options });
  await store.appendToStream("shift:1", [sold(5), sold(7)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  return store;
}

test("an archived stream refuses appends with StreamArchivedError and is read from the archive", async () => {
  const store = await shift();
  assert.deepEqual(await store.archiveStream("shift:1", { expectedStreamVersion: 2n }), { streamPosition: 2n });

  const late = await store.appendToStream("shift:1", [sold(1)]).catch((e) => e);
  assert.ok(late instanceof StreamArchivedError, String(late));
  assert.ok(late instanceof StreamdocError);
  assert.equal(late.name, "StreamArchivedError");
  assert.equal(late.kind, "StreamArchived");
  assert.equal(late.streamName, "shift:1");
  assert.equal(late.position, 2n);
  assert.equal(late.successor, null);
  assert.equal(late.errorCode, 403);
  assert.deepEqual(late.details, { kind: "StreamArchived", stream: "shift:1", position: 2, successor: null });
  assert.match(late.message, /shift:1 is archived at position 2/);

  // The live collection keeps a tombstone without events; the archive holds them.
  assert.equal(await store.streamExists("shift:1"), false);
  assert.ok((await store.readStream("shift:1").catch((e) => e)) instanceof StreamArchivedError);
  const [tombstone] = store.documents()["streamdoc.shift"];
  assert.equal(tombstone.events?.length ?? 0, 0);
  assert.ok(tombstone.metadata.archivedAt);
  const archived = await store.readStream("shift:1", { fromArchive: true });
  assert.equal(archived.currentStreamVersion, 2n);
  assert.deepEqual(archived.events.map((e) => [e.type, e.data.amount, e.metadata.streamPosition]), [
    ["Sold", 5, 1n],
    ["Sold", 7, 2n],
  ]);
  const second = await store.readStream("shift:1", { fromArchive: true, from: 2n });
  assert.deepEqual(second.events.map((e) => e.metadata.streamPosition), [2n]);
  const stale = await store.readStream("shift:1", { fromArchive: true, expectedStreamVersion: 1n }).catch((e) => e);
  assert.ok(stale instanceof ConcurrencyConflictError, String(stale));
  assert.equal(stale.actual, 2n);
  // A live stream is not in the archive.
  await store.appendToStream("shift:9", [sold(1)]);
  assert.deepEqual(await store.readStream("shift:9", { fromArchive: true }), {
    currentStreamVersion: 0n,
    streamExists: false,
    events: [],
  });
});

test("archiving again returns the same result and changes nothing; a wrong expected version changes nothing", async () => {
  const store = await shift();
  const before = store.documents();
  const conflict = await store.archiveStream("shift:1", { expectedStreamVersion: 1n }).catch((e) => e);
  assert.ok(conflict instanceof ConcurrencyConflictError, String(conflict));
  assert.equal(conflict.actual, 2n);
  assert.deepEqual(store.documents(), before);
  assert.equal((await store.streamStatus("shift:1")).state, "live");

  const first = await store.archiveStream("shift:1");
  const archived = store.documents();
  assert.deepEqual(await store.archiveStream("shift:1"), first);
  assert.deepEqual(await store.archiveStream("shift:1", { expectedStreamVersion: 2n }), first);
  assert.deepEqual(store.documents(), archived);
  // Asking for another position of an archived stream is the archived error, not a new archive.
  const elsewhere = await store.archiveStream("shift:1", { expectedStreamVersion: 1n }).catch((e) => e);
  assert.ok(elsewhere instanceof StreamArchivedError, String(elsewhere));
  assert.deepEqual(store.documents(), archived);
});

test("streamStatus: missing, live, sealed (an archive interrupted) and archived; the interrupted archive finishes when run again", async () => {
  const engine = new Engine();
  let lose = false;
  const store = new EventStore({
    idSeed: 1,
    executor: (command) => {
      if (lose && command.kind === "insertOne") throw new Error("connection reset");
      return engine.execute(command);
    },
  });
  assert.deepEqual(await store.streamStatus("shift:1"), { state: "missing", streamPosition: 0n });
  await store.appendToStream("shift:1", [sold(5), sold(7)]);
  assert.deepEqual(await store.streamStatus("shift:1"), { state: "live", streamPosition: 2n });

  lose = true; // the copy into the archive gets no reply (and is not applied)
  const interrupted = await store.archiveStream("shift:1").catch((e) => e);
  assert.ok(interrupted instanceof UnavailableError, String(interrupted));
  assert.deepEqual(await store.streamStatus("shift:1"), { state: "sealed", streamPosition: 2n });
  assert.equal(await store.streamExists("shift:1"), true); // its events are still live
  const refused = await store.appendToStream("shift:1", [sold(1)]).catch((e) => e);
  assert.ok(refused instanceof StreamArchivedError, String(refused));

  lose = false;
  assert.deepEqual(await store.archiveStream("shift:1"), { streamPosition: 2n });
  assert.deepEqual(await store.streamStatus("shift:1"), { state: "archived", streamPosition: 2n });
  assert.equal((await store.readStream("shift:1", { fromArchive: true })).events.length, 2);
});

test("closeStream with an event: archives the stream and starts the successor, linked both ways", async () => {
  const store = await shift();
  const closed = await store.closeStream("shift:1", {
    successor: "shift:2",
    summary: { type: "ShiftOpened", data: { carriedOver: 12 } },
    expectedStreamVersion: 2n,
  });
  assert.deepEqual(closed, { closedAt: 2n, successor: "shift:2", nextExpectedStreamVersion: 1n });

  const next = await store.readStream("shift:2");
  assert.deepEqual(next.events.map((e) => [e.type, e.data, e.metadata.eventId]), [
    ["ShiftOpened", { carriedOver: 12 }, "closed:shift:1@2"],
  ]);
  assert.deepEqual(await store.streamStatus("shift:2"), {
    state: "live",
    streamPosition: 1n,
    predecessor: { streamName: "shift:1", streamPosition: 2n },
  });
  assert.deepEqual(await store.streamStatus("shift:1"), { state: "archived", streamPosition: 2n, successor: "shift:2" });
  const late = await store.appendToStream("shift:1", [sold(1)]).catch((e) => e);
  assert.ok(late instanceof StreamArchivedError);
  assert.equal(late.successor, "shift:2");
  // The successor takes appends at the version the close returned.
  const appended = await store.appendToStream("shift:2", [sold(3)], { expectedStreamVersion: closed.nextExpectedStreamVersion });
  assert.equal(appended.nextExpectedStreamVersion, 2n);
  // Closing again into the same successor finds its own summary: the same result, nothing new.
  const again = await store.closeStream("shift:1", { successor: "shift:2", summary: { type: "ShiftOpened" } });
  assert.deepEqual(again, closed);
  assert.equal((await store.readStream("shift:2")).events.length, 2);
  // Into another successor: the stream is already closed into shift:2.
  const other = await store.closeStream("shift:1", { successor: "shift:3", summary: { type: "X" } }).catch((e) => e);
  assert.ok(other instanceof StreamArchivedError);
  assert.equal((await store.streamStatus("shift:3")).state, "missing");
});

test("closeStream with a function: it sees the closed stream's final events, as readStream returns them", async () => {
  const store = await shift();
  await store.appendToStream("shift:1", [sold(30)]); // after the store last read it
  const seen = [];
  const closed = await store.closeStream("shift:1", {
    successor: "shift:2",
    summary: (closing) => {
      seen.push(closing);
      return {
        type: "ShiftOpened",
        id: "opened-2",
        data: { carriedOver: closing.events.reduce((total, e) => total + e.data.amount, 0) },
      };
    },
  });
  assert.deepEqual(closed, { closedAt: 3n, successor: "shift:2", nextExpectedStreamVersion: 1n });
  assert.equal(seen.length, 1);
  assert.equal(seen[0].currentStreamVersion, 3n);
  assert.equal(seen[0].streamExists, true);
  assert.deepEqual(seen[0].events, (await store.readStream("shift:1", { fromArchive: true })).events);
  const [opened] = (await store.readStream("shift:2")).events;
  assert.deepEqual([opened.type, opened.data, opened.metadata.eventId], ["ShiftOpened", { carriedOver: 42 }, "opened-2"]);
});

test("an append landing while a close runs: the summary function is called again with the new events", async () => {
  const engine = new Engine();
  const closer = new EventStore({ idSeed: 1, executor: async (command) => engine.execute(command) });
  const writer = new EventStore({ idSeed: 2, engine });
  await writer.appendToStream("shift:1", [sold(5), sold(7)]);
  const seen = [];
  const closed = await closer.closeStream("shift:1", {
    successor: "shift:2",
    summary: ({ events }) => {
      seen.push(events.length);
      // The first time, another writer appends before the close seals the stream.
      if (seen.length === 1) void writer.appendToStream("shift:1", [sold(30)]);
      return { type: "ShiftOpened", data: { carriedOver: events.reduce((total, e) => total + e.data.amount, 0) } };
    },
  });
  assert.deepEqual(seen, [2, 3]);
  assert.equal(closed.closedAt, 3n);
  assert.deepEqual((await closer.readStream("shift:2")).events[0].data, { carriedOver: 42 });
  assert.equal((await closer.readStream("shift:1", { fromArchive: true })).events.length, 3);
});

test("a summary function that throws, returns a Promise or returns no event fails with a ProjectionError and changes nothing", async () => {
  const store = await shift();
  const before = store.documents();
  const boom = new Error("no till count");
  const failures = [
    [() => { throw boom; }, (e) => assert.equal(e.cause, boom)],
    [() => { throw "nope"; }, (e) => assert.equal(e.cause, "nope")],
    [async () => ({ type: "T" }), (e) => assert.match(e.message, /Promise/)],
    [() => 42, (e) => assert.ok(e.cause instanceof TypeError, String(e.cause))],
    [() => ({ data: {} }), (e) => assert.ok(e.cause instanceof TypeError, String(e.cause))],
  ];
  for (const [summary, check] of failures) {
    const e = await store.closeStream("shift:1", { successor: "shift:2", summary }).catch((x) => x);
    assert.ok(e instanceof ProjectionError, String(e));
    assert.equal(e.projection, "closeStream.summary");
    assert.equal(e.streamName, "shift:1");
    check(e);
    assert.deepEqual(store.documents(), before);
    assert.deepEqual(await store.streamStatus("shift:1"), { state: "live", streamPosition: 2n });
  }
  assert.equal((await store.streamStatus("shift:2")).state, "missing");
  // The stream still takes appends.
  assert.equal((await store.appendToStream("shift:1", [sold(1)], { expectedStreamVersion: 2n })).nextExpectedStreamVersion, 3n);
});

test("closeStream's refusals: a successor that exists, closing into itself, a missing stream", async () => {
  const store = await shift();
  await store.appendToStream("shift:2", [sold(1)]);
  const exists = await store.closeStream("shift:1", { successor: "shift:2", summary: { type: "T" } }).catch((e) => e);
  assert.ok(exists instanceof ConcurrencyConflictError, String(exists));
  assert.equal(exists.streamName, "shift:2");
  assert.equal((await store.streamStatus("shift:1")).state, "live");
  const itself = await store.closeStream("shift:1", { successor: "shift:1", summary: { type: "T" } }).catch((e) => e);
  assert.equal(itself.kind, "Misuse");
  const missing = await store.closeStream("shift:7", { successor: "shift:8", summary: { type: "T" } }).catch((e) => e);
  assert.ok(missing instanceof ConcurrencyConflictError, String(missing));
  assert.equal(missing.actual, null);
});

test("unknown and malformed options are TypeErrors naming them", async () => {
  const store = await shift();
  const rejects = async (promise, pattern) => {
    const e = await promise.catch((x) => x);
    assert.ok(e instanceof TypeError, String(e));
    assert.match(e.message, pattern);
  };
  await rejects(store.archiveStream("shift:1", { expected: 2n }), /unknown option `expected`/);
  await rejects(store.readStream("shift:1", { fromArchive: "yes" }), /fromArchive must be a boolean/);
  await rejects(store.aggregateStream("shift:1", { initialState: () => 0, evolve: (n) => n, read: { fromArchive: true } }), /unknown option `fromArchive`/);
  await rejects(store.closeStream("shift:1"), /successor, summary/);
  await rejects(store.closeStream("shift:1", { successor: "shift:2", summary: { type: "T" }, sucessor: "x" }), /unknown option `sucessor`/);
  await rejects(store.closeStream("shift:1", { summary: { type: "T" } }), /successor must be/);
  await rejects(store.closeStream("shift:1", { successor: "shift:2" }), /summary must be an event/);
  await rejects(store.closeStream("shift:1", { successor: "shift:2", summary: { type: "T", extra: 1 } }), /unknown option `extra`/);
  await rejects(store.streamStatus(42), /streamName must be a string/);
  assert.equal((await store.streamStatus("shift:1")).state, "live");

  const constructing = (options, pattern) => assert.throws(() => new EventStore(options), (e) => e instanceof TypeError && pattern.test(e.message));
  constructing({ archive: { suffix: "_a", database: "b" } }, /exactly one/);
  constructing({ archive: {} }, /exactly one/);
  constructing({ archive: { prefix: "a" } }, /unknown option `prefix`/);
  constructing({ segments: { max: 1 } }, /unknown option `max`/);
  constructing({ segments: {} }, /maxBytes is required/);
  constructing({ segments: { maxBytes: -1 } }, /maxBytes/);
});

test("the archive option places archived streams: another suffix, or another database", async () => {
  const suffixed = await shift({ archive: { suffix: "_closed" } });
  await suffixed.archiveStream("shift:1");
  assert.deepEqual(Object.keys(suffixed.documents()).sort(), ["streamdoc.shift", "streamdoc.shift_closed"]);
  assert.equal(suffixed.documents()["streamdoc.shift_closed"][0].events.length, 2);

  const elsewhere = await shift({ archive: { database: "cold" } });
  await elsewhere.archiveStream("shift:1");
  assert.deepEqual(Object.keys(elsewhere.documents()).sort(), ["cold.shift", "streamdoc.shift"]);
  assert.equal((await elsewhere.readStream("shift:1", { fromArchive: true })).events.length, 2);

  const invalid = (() => {
    try {
      return new EventStore({ archive: { suffix: "$" } });
    } catch (e) {
      return e;
    }
  })();
  assert.ok(invalid instanceof InvalidConfigError, String(invalid));
  assert.deepEqual([invalid.reason, invalid.option], ["unsupported", "archive"]);
});

test("the segments option: accepted on its own, refused with the Emmett layout, projections or a size out of range", async () => {
  const store = new EventStore({ segments: { maxBytes: 1024 } });
  await store.appendToStream("log:1", [{ type: "Line", data: { text: "x".repeat(100) } }]);
  assert.equal((await store.readStream("log:1")).events.length, 1);
  assert.equal((await store.streamStatus("log:1")).state, "live");
  // Segmented streams cannot be archived yet.
  const archive = await store.archiveStream("log:1").catch((e) => e);
  assert.ok(archive instanceof InvalidConfigError, String(archive));
  assert.deepEqual([archive.reason, archive.option], ["unsupported", "segments"]);

  const refused = (options) => {
    try {
      new EventStore(options);
    } catch (e) {
      return e;
    }
    assert.fail(`accepted ${JSON.stringify(options)}`);
  };
  const projection = { name: "n", canHandle: ["Line"], evolve: () => ({}) };
  for (const options of [
    { layout: "emmett", segments: { maxBytes: 1024 } },
    { segments: { maxBytes: 1024 }, projections: [projection] },
    { segments: { maxBytes: 0 } },
    { segments: { maxBytes: 13n * 1024n * 1024n } },
  ]) {
    const e = refused(options);
    assert.ok(e instanceof InvalidConfigError, String(e));
    assert.equal(e.reason, "unsupported");
    assert.equal(e.option, "segments");
    assert.equal(e.name, "segments");
    assert.equal(e.details.reason, "unsupported");
  }
  assert.match(refused({ layout: "emmett", segments: { maxBytes: 1024 } }).message, /Emmett layout/);
});

test("simulated clients status, archive and close; an archive racing an append never loses the append", async () => {
  const engine = new Engine();
  const setup = new EventStore({ engine, idSeed: 1 });
  await setup.appendToStream("shift:1", [sold(5)]);
  const sim = new Simulation({
    engine,
    clients: [
      { name: "archiver", ops: [{ op: "archive", stream: "shift:1", expected: 1n }, { op: "status", stream: "shift:1" }] },
      {
        name: "closer",
        ops: [
          { op: "read", stream: "shift:1", fromArchive: true },
          { op: "closeStream", stream: "shift:1", successor: "shift:2", summary: { type: "Opened" } },
        ],
      },
    ],
  });
  sim.runToEnd();
  const outcomes = sim.outcomes();
  const by = (client, index) => outcomes.find((o) => o.client === client && o.opIndex === index);
  assert.deepEqual(by(0, 0).result.ok, { streamPosition: 1n });
  assert.deepEqual(by(0, 0).op, { op: "archive", stream: "shift:1", expected: 1n });
  assert.deepEqual(by(1, 0).op, { op: "read", stream: "shift:1", fromArchive: true });
  assert.equal(by(1, 1).op.summary.type, "Opened");
  assert.equal(by(0, 1).result.ok.state, "archived");
  // Archived without a successor: closing it now is refused.
  assert.ok(by(1, 1).result.error instanceof StreamArchivedError, String(by(1, 1).result.error));

  // Every interleaving of an archive and an append: the append lands before the seal
  // (and is archived with the stream) or fails with StreamArchived; it is never lost.
  const shared = new Engine();
  await new EventStore({ engine: shared, idSeed: 1 }).appendToStream("shift:1", [sold(5)]);
  const race = new Simulation({
    engine: shared,
    clients: [
      { name: "writer", ops: [{ op: "append", stream: "shift:1", events: [sold(1)] }] },
      { name: "archiver", ops: [{ op: "archive", stream: "shift:1" }] },
    ],
  });
  const report = race.explore();
  assert.equal(report.truncated, false);
  assert.deepEqual(Object.keys(report.outcomes).sort(), [
    "writer0:StreamArchived archiver0:archived(@1)",
    "writer0:ok(2) archiver0:archived(@2)",
  ]);
  assert.deepEqual(report.violations, []);
});

test("on a JavaScript executor (the path of streamdoc/mongodb) the same calls give the same results", async () => {
  const engine = new Engine();
  const kinds = new Set();
  const store = new EventStore({ idSeed: 1, executor: async (command) => (kinds.add(command.kind), engine.execute(command)) });
  await store.appendToStream("shift:1", [sold(5), sold(7)]);
  const closed = await store.closeStream("shift:1", {
    successor: "shift:2",
    summary: ({ events }) => ({ type: "ShiftOpened", data: { n: events.length } }),
  });
  assert.deepEqual(closed, { closedAt: 2n, successor: "shift:2", nextExpectedStreamVersion: 1n });
  assert.deepEqual((await store.readStream("shift:2")).events[0].data, { n: 2 });
  assert.ok(kinds.has("insertOne"), [...kinds].join());
  const thrown = new Error("async path");
  const failed = await store.closeStream("shift:2", { successor: "shift:3", summary: () => { throw thrown; } }).catch((e) => e);
  assert.ok(failed instanceof ProjectionError, String(failed));
  assert.equal(failed.cause, thrown);
  assert.deepEqual(await store.archiveStream("shift:2"), { streamPosition: 1n });
  const late = await store.appendToStream("shift:2", [sold(1)]).catch((e) => e);
  assert.ok(late instanceof StreamArchivedError);
  assert.equal(late.position, 1n);
});

test("the package README's archiving example runs as written", async () => {
  const { readFileSync, writeFileSync, rmSync } = await import("node:fs");
  const { execFileSync } = await import("node:child_process");
  const readme = readFileSync(new URL("../npm/README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("## Archiving and closing the books"));
  const example = /```js\n([\s\S]*?)```/.exec(section)[1];
  const file = new URL("./readme-archive.tmp.mjs", import.meta.url);
  writeFileSync(file, example);
  try {
    const out = execFileSync("node", [file.pathname], { encoding: "utf8" });
    assert.equal(out, "2n shift:2\n2 shift:1 1n\n");
  } finally {
    rmSync(file);
  }
});
