// The boundary cannot be crashed: deep, cyclic and exotic values, and misspelt options,
// through every entry point of the package are typed errors that change nothing, and
// the module keeps working.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, EventStore, InvalidEventError, Simulation, UnavailableError, seededEventIds } from "streamdoc";

const nested = (levels) => {
  let value = 1;
  for (let i = 0; i < levels; i++) value = { x: value };
  return value;
};
const cyclic = () => {
  const o = { a: 1 };
  o.self = o;
  return o;
};
const deepArray = (levels) => {
  let value = [];
  for (let i = 0; i < levels; i++) value = [value, 1];
  return value;
};

/** The module still works: a fresh store and `store` append and read. */
async function stillWorks(store = new EventStore()) {
  const stream = `check:${Math.random()}`;
  await store.appendToStream(stream, [{ type: "Checked", data: { ok: true } }]);
  assert.equal((await store.readStream(stream)).events.length, 1);
  const fresh = new EventStore();
  await fresh.appendToStream("check:1", [{ type: "Checked" }]);
  assert.equal(await fresh.streamExists("check:1"), true);
}

const hostileValues = {
  "1,000 levels": nested(1000),
  "101 levels": nested(101),
  "10,000 levels of arrays": deepArray(10_000),
  "a cycle": cyclic(),
  "a cycle through an array": (() => {
    const a = [];
    a.push({ a });
    return { a };
  })(),
  "a cycle inside Extended JSON": { n: { $numberLong: cyclic() } },
  "a Map": { m: new Map([["a", 1]]) },
  "a Set": { s: new Set([1]) },
  "a function": { f: () => 1 },
  "a symbol": { s: Symbol("s") },
  "a RegExp": { r: /x/ },
  "a Float64Array": { f: new Float64Array(2) },
};

test("hostile event data and metadata are typed errors that write nothing, through both argument paths", async () => {
  const store = new EventStore();
  await store.appendToStream("order:1", [{ type: "Placed" }]);
  const before = JSON.stringify(store.documents());
  for (const [what, value] of Object.entries(hostileValues)) {
    for (const event of [{ type: "E", data: value }, { type: "E", metadata: { custom: value } }, { type: "E", data: { list: [value] } }]) {
      const error = await store.appendToStream("order:1", [event]).catch((e) => e);
      // Too deep is core's refusal (as in every layer); a value that cannot be stored is a TypeError.
      const expected = /levels/.test(what) ? InvalidEventError : TypeError;
      assert.ok(error instanceof expected, `${what}: ${error}`);
      assert.doesNotMatch(String(error), /RuntimeError|memory access/);
    }
  }
  const reason = (value) => store.appendToStream("order:1", [{ type: "E", data: value }]).catch((e) => e.message);
  assert.match(await reason(nested(1000)), /nests deeper than 100 levels/);
  const deep = await store.appendToStream("order:1", [{ type: "E" }, { type: "E", metadata: { m: nested(100) } }]).catch((e) => e);
  assert.deepEqual([deep.index, deep.reason, deep.details.reason], [1, "tooDeep", { reason: "tooDeep", field: "metadata", limit: 100 }]);
  assert.match(await reason(cyclic()), /cyclic/);
  assert.match(await reason({ m: new Map() }), /a Map cannot be stored.*Object\.fromEntries/);
  assert.match(await reason({ s: new Set() }), /a Set cannot be stored/);
  assert.equal(JSON.stringify(store.documents()), before, "nothing was written");
  // Exactly 100 levels is accepted and stored.
  await store.appendToStream("order:1", [{ type: "Deep", data: nested(99) }]);
  await stillWorks(store);
});

test("unknown keys and misspelt options are TypeErrors naming them, never ignored", async () => {
  const misspelt = (f, name) => assert.throws(f, (e) => e instanceof TypeError && e.message.includes(`\`${name}\``), name);
  misspelt(() => new EventStore({ databse: "shop" }), "databse");
  misspelt(() => new EventStore({ storage: { kind: "single", nmae: "x" } }), "nmae");
  misspelt(() => new EventStore({ storage: { kind: "perStreamType", prefx: "x" } }), "prefx");
  misspelt(() => new Engine({ sedd: 1 }), "sedd");
  misspelt(() => new Simulation({ clients: [], valuse: "native" }), "valuse");
  misspelt(() => new Simulation({ clients: [{ name: "a", ops: [], stor: null }] }), "stor");
  misspelt(() => new Simulation({ clients: [{ name: "a", ops: [{ op: "read", stream: "a:1", form: 1n }] }] }), "form");
  assert.throws(() => new EventStore({ commandLog: cyclic() }), TypeError);
  assert.throws(() => new EventStore({ maxAttempts: 0 }), TypeError);
  assert.throws(() => new EventStore({ layout: "emmet" }), TypeError);
  const store = new EventStore();
  await assert.rejects(store.appendToStream("order:1", [{ type: "E", metdata: {} }]), /unknown option `metdata`/);
  await assert.rejects(store.appendToStream("order:1", [{ type: "E", kind: "Command" }]), TypeError);
  await assert.rejects(store.appendToStream("order:1", [{ type: "E" }], { expectedVersion: 0n }), /`expectedVersion`/);
  await assert.rejects(store.readStream("order:1", { form: 1n }), /`form`/);
  await assert.rejects(store.readStream("order:1", { from: cyclic() }), TypeError);
  await assert.rejects(store.aggregateStream("order:1", { evolve: (s) => s, initialState: () => 0, read: { form: 1n } }), /`form`/);
  // Emmett's message kind is accepted: every appended message is an event.
  await store.appendToStream("order:1", [{ type: "E", kind: "Event" }]);
  assert.deepEqual(Object.keys((await store.readStream("order:1")).events[0]), ["type", "data", "metadata"]);
  await stillWorks(store);
});

test("the engine, the simulator, executors and seeded ids refuse hostile input and keep working", async () => {
  const engine = new Engine();
  for (const value of [nested(1000), cyclic(), { m: new Map() }]) {
    const command = { kind: "findOne", database: "d", collection: "c", filter: value, projection: null };
    assert.throws(() => engine.execute(command), TypeError);
  }
  assert.equal(engine.execute({ kind: "findOne", database: "d", collection: "c", filter: {}, projection: null }).kind, "found");

  for (const [what, value] of Object.entries(hostileValues)) {
    const ops = [{ op: "append", stream: "order:1", events: [{ type: "E", data: value }] }];
    assert.throws(() => new Simulation({ clients: [{ name: "a", ops }] }), /levels/.test(what) ? InvalidEventError : TypeError);
  }

  // An executor that answers with a deep or cyclic document gave no usable reply.
  for (const document of [nested(1000), cyclic()]) {
    const store = new EventStore({ executor: () => ({ kind: "found", document }) });
    const error = await store.readStream("order:1").catch((e) => e);
    assert.ok(error instanceof UnavailableError, String(error));
    assert.match(error.message, /invalid reply/);
  }
  assert.throws(() => seededEventIds(cyclic()), TypeError);
  await stillWorks();
});

test("one number rule: integers in Int32 range are Int32, other integers Int64, the rest Double", async () => {
  const store = new EventStore();
  const data = { small: 42, big: 5_000_000_000, negative: -2_147_483_649, fraction: 0.5, whole: 1.0, huge: 1e300, negZero: -0 };
  await store.appendToStream("n:1", [{ type: "Numbers", data }]);
  const { huge, ...stored } = store.documents()["streamdoc.n"][0].events[0].data;
  assert.equal(Number(huge.$numberDouble), 1e300, "a Double");
  assert.deepEqual(stored, {
    small: { $numberInt: "42" },
    big: { $numberLong: "5000000000" },
    negative: { $numberLong: "-2147483649" },
    fraction: { $numberDouble: "0.5" },
    whole: { $numberInt: "1" },
    negZero: { $numberDouble: "-0.0" },
  });
  const [event] = (await store.readStream("n:1")).events;
  assert.equal(event.data.big, 5_000_000_000n, "an Int64 reads back as a bigint");
  assert.equal(event.data.fraction, 0.5);
});
