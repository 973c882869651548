// The same appends through the package and through the HTTP API (`streamdoc serve` on
// its embedded engine) give the same stored documents, byte for byte, and the same
// events on reading: one event shape and one number rule on every layer; archives, closes
// and statuses answer alike and leave the same tombstones and successors.
//
// The server's binary comes from STREAMDOC_BIN (`cargo xtask test` builds it and sets
// it). Without it the test fails in CI and says why it skips elsewhere.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { BSON } from "mongodb";
import { EventStore, STREAM_DOES_NOT_EXIST } from "streamdoc";

const { EJSON } = BSON;
const binary = process.env.STREAMDOC_BIN;

/**
 * Starts `streamdoc serve` on a free port, on its embedded engine (whatever
 * `MONGODB_URI` the test run has): resolves to its URL and a way to stop it.
 */
async function serve() {
  const { MONGODB_URI: _, ...env } = process.env;
  const child = spawn(binary, ["serve", "--bind", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "inherit"], env });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`streamdoc serve exited with ${code}`)));
    lines.on("line", (line) => {
      const found = /serving .* on (http:\/\/\S+?)\/? /.exec(line);
      if (found) resolve(found[1]);
    });
  });
  return { url, stop: () => child.kill("SIGTERM") };
}

// Appends with every kind of JSON value, and numbers on each side of each boundary.
const appends = [
  {
    stream: "order:eu:42",
    expected: "noStream",
    events: [
      {
        id: "e-1",
        type: "OrderPlaced",
        data: {
          total: 42,
          big: 5_000_000_000,
          negative: -2_147_483_649,
          int32Max: 2_147_483_647,
          fraction: 0.25,
          whole: 1.0,
          zero: 0,
          huge: 1e300,
          text: "née ☕",
          flags: [true, false, null],
          nested: { list: [1, { deeper: [2.5, "x"] }], empty: {} },
          "$set": 1,
          "a.b": 2,
        },
        metadata: { by: "alice", tags: ["vip"] },
      },
      { id: "e-2", type: "ItemAdded", data: { sku: "A-1", qty: 3 } },
    ],
  },
  { stream: "order:eu:42", expected: 2, events: [{ id: "e-3", type: "OrderPaid", data: { amount: 99.99 } }] },
  { stream: "cart:7", expected: "any", events: [{ id: "c-1", type: "Opened" }] },
];

/** Canonical Extended JSON as relaxed Extended JSON, the HTTP API's form for reads. */
const relaxed = (value) => EJSON.serialize(EJSON.deserialize(value, { relaxed: false }), { relaxed: true });

test("the package and the HTTP API store the same documents and return the same events", { skip: !binary && !process.env.CI && "STREAMDOC_BIN is not set (`cargo xtask test` sets it)" }, async () => {
  assert.ok(binary, "STREAMDOC_BIN must name the streamdoc binary in CI");
  const server = await serve();
  assert.equal((await (await fetch(`${server.url}/health`)).json()).store, "memory");
  try {
    // Through the HTTP API.
    for (const a of appends) {
      const headers = { "content-type": "application/json" };
      if (a.expected === "noStream") headers["if-none-match"] = "*";
      else if (typeof a.expected === "number") headers["if-match"] = `"${a.expected}"`;
      const response = await fetch(`${server.url}/streams/${a.stream}`, {
        method: "POST",
        headers,
        body: JSON.stringify({ events: a.events }),
      });
      assert.equal(response.status, 200, await response.text());
    }
    const streams = [...new Set(appends.map((a) => a.stream))];
    const served = {};
    for (const stream of streams) {
      served[stream] = {
        document: await (await fetch(`${server.url}/streams/${stream}/document`)).json(),
        read: await (await fetch(`${server.url}/streams/${stream}`)).json(),
      };
    }

    // Through the package, with the server's times and ids, so that only the layer differs.
    const times = [];
    for (const a of appends) {
      const events = served[a.stream].read.events;
      const event = events.find((e) => e.metadata.eventId === a.events[0].id);
      times.push(new Date(event.metadata.recordedAt.$date));
    }
    const store = new EventStore({ clock: () => times.shift(), values: "canonical" });
    const expected = { noStream: STREAM_DOES_NOT_EXIST, any: undefined };
    for (const a of appends) {
      const expectedStreamVersion = typeof a.expected === "number" ? BigInt(a.expected) : expected[a.expected];
      await store.appendToStream(a.stream, a.events, { expectedStreamVersion });
    }
    const documents = Object.values(store.documents()).flat();

    for (const stream of streams) {
      const mine = documents.find((d) => d.streamName === stream);
      const theirs = served[stream].document;
      // The generated `_id` is the one thing that differs; then every byte must agree.
      const id = { $oid: "000000000000000000000000" };
      const bytes = (doc) => Buffer.from(BSON.serialize(EJSON.deserialize({ ...doc, _id: id }, { relaxed: false })));
      assert.ok(bytes(mine).equals(bytes(theirs)), `${stream}: stored documents differ\n  package ${JSON.stringify(mine)}\n  HTTP    ${JSON.stringify(theirs)}`);

      // Reads: one event shape with the same values (the HTTP API writes relaxed Extended
      // JSON, which gives an Int64 as a plain number: the package's canonical events in
      // that form must be the HTTP API's exactly).
      const events = (await store.readStream(stream)).events;
      // (Dates are compared as instants: `…:31.78Z` and `…:31.780Z` are one time.)
      const reparsed = served[stream].read.events.map((e) => EJSON.serialize(EJSON.deserialize(e), { relaxed: true }));
      assert.deepEqual(reparsed, events.map(relaxed), stream);
      assert.deepEqual(Object.keys(served[stream].read.events[0]), ["type", "data", "metadata"]);
    }
    // The number rule, spelled out.
    const data = documents.find((d) => d.streamName === "order:eu:42").events[0].data;
    assert.deepEqual([data.total, data.big, data.negative, data.fraction, data.whole], [
      { $numberInt: "42" },
      { $numberLong: "5000000000" },
      { $numberLong: "-2147483649" },
      { $numberDouble: "0.25" },
      { $numberInt: "1" },
    ]);
  } finally {
    server.stop();
  }
});

/** A result of the package with its `bigint`s as JSON numbers, as the HTTP API writes them. */
const json = (value) => JSON.parse(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? Number(v) : v)));

test("archive, close and status: the package and the HTTP API answer alike and store the same documents", { skip: !binary && !process.env.CI && "STREAMDOC_BIN is not set (`cargo xtask test` sets it)" }, async () => {
  assert.ok(binary, "STREAMDOC_BIN must name the streamdoc binary in CI");
  const server = await serve();
  const call = async (method, path, body, headers = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: { "content-type": "application/json", ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    assert.equal(response.status, 200, `${method} ${path}: ${text}`);
    return JSON.parse(text);
  };
  const sales = [
    { id: "s-1", type: "Sold", data: { amount: 5 } },
    { id: "s-2", type: "Sold", data: { amount: 7 } },
  ];
  const summary = { type: "ShiftOpened", data: { carriedOver: 12 }, metadata: { by: "till 3" } };
  const streams = ["shift:1", "shift:2", "order:1", "order:2"];
  try {
    // Through the HTTP API.
    await call("POST", "/streams/shift:1", { events: sales }, { "if-none-match": "*" });
    const closed = await call("POST", "/streams/shift:1/close", { successor: "shift:2", summary });
    await call("POST", "/streams/order:1", { events: [{ id: "o-1", type: "Placed" }] });
    const archived = await call("POST", "/streams/order:1/archive", undefined, { "if-match": '"1"' });
    const statuses = [];
    for (const stream of streams) statuses.push(await call("GET", `/streams/${stream}/status`));
    const fromArchive = await call("GET", "/streams/shift:1?fromArchive=true");
    const documents = {};
    for (const stream of streams.slice(0, 3)) documents[stream] = await call("GET", `/streams/${stream}/document`);

    // Through the package, with the server's times (one reading per operation), so that only the layer differs.
    const at = (value) => new Date(Number(value.$date.$numberLong ?? Date.parse(value.$date)));
    const times = [
      at(documents["shift:1"].metadata.createdAt),
      at(documents["shift:1"].metadata.archivedAt),
      at(documents["order:1"].metadata.createdAt),
      at(documents["order:1"].metadata.archivedAt),
    ];
    const store = new EventStore({ clock: () => times.shift(), values: "canonical" });
    await store.appendToStream("shift:1", sales, { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
    const mineClosed = await store.closeStream("shift:1", { successor: "shift:2", summary });
    await store.appendToStream("order:1", [{ id: "o-1", type: "Placed" }]);
    const mineArchived = await store.archiveStream("order:1", { expectedStreamVersion: 1n });
    assert.equal(times.length, 0, "one clock reading per operation");

    assert.deepEqual(json(mineClosed), closed);
    assert.deepEqual(json(mineArchived), archived);
    const mineStatuses = [];
    for (const stream of streams) mineStatuses.push(json(await store.streamStatus(stream)));
    assert.deepEqual(mineStatuses, statuses);
    assert.deepEqual(statuses.map((s) => s.state), ["archived", "live", "archived", "missing"]);
    const mineRead = (await store.readStream("shift:1", { fromArchive: true })).events;
    const reparsed = fromArchive.events.map((e) => EJSON.serialize(EJSON.deserialize(e), { relaxed: true }));
    assert.deepEqual(reparsed, mineRead.map(relaxed));
    assert.equal(reparsed.length, 2);

    // The tombstones and the successor, byte for byte (the generated `_id` aside).
    // (The live collection's documents: the archive collection holds copies under the same names.)
    const stored = store.documents()["streamdoc.shift"].concat(store.documents()["streamdoc.order"]);
    const id = { $oid: "000000000000000000000000" };
    const bytes = (doc) => Buffer.from(BSON.serialize(EJSON.deserialize({ ...doc, _id: id }, { relaxed: false })));
    for (const stream of streams.slice(0, 3)) {
      const mine = stored.find((d) => d.streamName === stream);
      assert.ok(mine, `${stream}: no live document in the package's store`);
      assert.ok(bytes(mine).equals(bytes(documents[stream])), `${stream}: stored documents differ\n  package ${JSON.stringify(mine)}\n  HTTP    ${JSON.stringify(documents[stream])}`);
    }
  } finally {
    server.stop();
  }
});
