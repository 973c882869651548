// The benchmarks must keep running: a small run of each, asserting what they measure
// (never how fast): both stores hold every appended event, the corpus replays, the
// exploration covers every schedule. Figures: `cargo xtask wasm bench`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { argumentPaths, exploration, versusEmmett } from "./benchmarks.mjs";

test("the append benchmark runs both stores over the same load", async () => {
  const { stores, ratio } = await versusEmmett({ appends: 300, streams: 100, rounds: 1 });
  assert.ok(Number.isFinite(ratio) && ratio > 0);
  for (const store of [stores.streamdoc, stores.emmett]) {
    const read = await store.readStream("counter:7");
    assert.equal(read.events.length, 3);
    assert.equal(read.currentStreamVersion, 3n);
  }
  const docs = stores.streamdoc.documents()["streamdoc.counter"];
  assert.equal(docs.length, 100);
});

test("the exploration benchmark covers every schedule", () => {
  assert.equal(exploration(1).schedules, 2520);
  const five = exploration(1, { clients: 5 });
  assert.equal(five.schedules, 113400);
  assert.ok(five.states < five.schedules / 10, `${five.states} states`);
  assert.equal(exploration(1, { race: "five-writers" }).schedules, 15220800);
});

test("the argument-path benchmark stores the same events through both paths", async () => {
  const { stores, ratio } = await argumentPaths({ appends: 200, streams: 50, rounds: 1 });
  assert.ok(Number.isFinite(ratio) && ratio > 0);
  const events = async (store) => (await store.readStream("counter:7")).events.map((e) => [e.type, e.data]);
  assert.deepEqual(await events(stores.encoded), await events(stores.property));
  assert.equal((await events(stores.encoded)).length, 4);
});
