// The `streamdoc/mongodb` adapter against a live server (MONGODB_URI; FerretDB in CI):
// the basic API, a racing creation, and the corpus subset the server supports. Each
// test uses databases of its own and drops them. Without MONGODB_URI: fails when CI is
// set, otherwise says why and skips.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ConcurrencyConflictError, EventStore, STREAM_DOES_NOT_EXIST } from "streamdoc";
import { mongoExecutor } from "streamdoc/mongodb";
import { isSubset, problems, loadCorpus, replay } from "./corpus.mjs";

const uri = process.env.MONGODB_URI;
if (!uri && process.env.CI) {
  throw new Error("MONGODB_URI is not set: CI must run the MongoDB adapter's tests against a live server");
}
const skip = uri ? false : "MONGODB_URI is not set: the live-server tests of streamdoc/mongodb are skipped";
if (skip) console.log(`# ${skip}`);

/** Scenarios some servers treat differently (tests/scenarios/README.md, tests/DEVIATIONS.md). */
const UNSUPPORTED_TAGS = ["bigDocument", "dollarKeys"];
/**
 * Where FerretDB (what CI runs) answers differently from MongoDB, by scenario: what it
 * answers instead. On FerretDB the comparison checks that answer; on MongoDB the
 * scenario must pass as recorded.
 */
const FERRETDB_DEVIATIONS = {
  "event-numeric-and-special-types": {
    why: "FerretDB 1.x refuses nested arrays in documents (BadValue 2)",
    operation: 0,
    expect: { error: { kind: "Server", code: 2 } },
  },
  "event-nested-arrays-in-ranged-reads": {
    why: "FerretDB 1.x refuses nested arrays in documents (BadValue 2)",
    operation: 0,
    expect: { error: { kind: "Server", code: 2 } },
  },
};
const run = `js${process.pid}${Date.now().toString(36)}`;
let client;
const created = new Set();

before(async () => {
  if (skip) return;
  const { MongoClient } = await import("mongodb");
  client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 10_000 });
});

after(async () => {
  if (!client) return;
  for (const name of created) await client.db(name).dropDatabase();
  await client.close();
});

const database = (suffix) => {
  const name = `sd_${run}_${suffix}`.slice(0, 48);
  created.add(name);
  return name;
};

test("append, read and conflict through the driver", { skip }, async () => {
  const store = new EventStore({ database: database("api"), executor: mongoExecutor(client) });
  const created = await store.appendToStream("order:1", [{ type: "OrderPlaced", data: { total: 42, big: 5n } }], {
    expectedStreamVersion: STREAM_DOES_NOT_EXIST,
  });
  assert.deepEqual(created, { nextExpectedStreamVersion: 1n, createdNewStream: true });
  await store.appendToStream("order:1", [{ type: "OrderPaid" }], { expectedStreamVersion: 1n });
  const stale = await store.appendToStream("order:1", [{ type: "X" }], { expectedStreamVersion: 1n }).catch((e) => e);
  assert.ok(stale instanceof ConcurrencyConflictError);
  assert.equal(stale.actual, 2n);
  const read = await store.readStream("order:1", { from: 1n, to: 1n });
  assert.deepEqual(read.events.map((e) => [e.type, e.data]), [["OrderPlaced", { total: 42, big: 5n }]]);
  assert.equal(read.currentStreamVersion, 2n);
  const raw = await client.db(database("api")).collection("order").findOne({ streamName: "order:1" });
  assert.equal(raw.events.length, 2);
  assert.equal(typeof raw.metadata.streamPosition, "number", "Int64 positions read back as numbers by the driver");
});

test("a racing creation: exactly one store wins, the other gets a typed conflict", { skip }, async () => {
  const db = database("race");
  const stores = [0, 1].map(() => new EventStore({ database: db, executor: mongoExecutor(client) }));
  // Both create the index first, so that the two upserts really race.
  await Promise.all(stores.map((s) => s.streamExists("order:warmup")));
  await Promise.all(stores.map((s) => s.appendToStream("order:warmup", [{ type: "W" }])));
  const results = await Promise.allSettled(
    stores.map((s, i) => s.appendToStream("order:1", [{ id: `e${i}`, type: "OrderPlaced" }], { expectedStreamVersion: STREAM_DOES_NOT_EXIST })),
  );
  const won = results.filter((r) => r.status === "fulfilled");
  const lost = results.filter((r) => r.status === "rejected");
  assert.equal(won.length, 1, results.map((r) => r.status).join(", "));
  assert.ok(lost[0].reason instanceof ConcurrencyConflictError, String(lost[0].reason));
  assert.equal(lost[0].reason.actual, 1n);
  assert.equal(await client.db(db).collection("order").countDocuments({ streamName: "order:1" }), 1);
});

test("the corpus subset the server supports gives core's results and documents", { skip }, async () => {
  const scenarios = loadCorpus().filter((s) => !s.tags.some((t) => UNSUPPORTED_TAGS.includes(t)));
  const info = await client.db("admin").command({ buildInfo: 1 });
  const ferretdb = "ferretdb" in info || "ferretdbFeatures" in info || /ferret/i.test(JSON.stringify(info));
  assert.ok(scenarios.length >= 50, `only ${scenarios.length} scenarios`);
  const failures = [];
  for (const [n, scenario] of scenarios.entries()) {
    // A database of this run for the scenario's, renamed back before comparing.
    const original = scenario.config.database ?? "streamdoc_test";
    const isolated = database(`c${n}`);
    const renamed = { ...scenario, config: { ...scenario.config, database: isolated } };
    const execute = mongoExecutor(client);
    const target = {
      execute,
      async dump(db) {
        const out = {};
        const { databases } = await client.db().admin().listDatabases({ nameOnly: true });
        for (const { name } of databases.filter((d) => d.name === db || d.name.startsWith(`${db}_`))) {
          created.add(name);
          for (const { name: coll } of await client.db(name).listCollections({}, { nameOnly: true }).toArray()) {
            const docs = await client.db(name).collection(coll).find({}, { promoteValues: false }).toArray();
            const { BSON } = await import("mongodb");
            out[`${original}${name.slice(db.length)}.${coll}`] = docs.map((d) => BSON.EJSON.serialize(d, { relaxed: false }));
          }
        }
        return out;
      },
    };
    const output = await replay(renamed, target);
    // Names in errors carry the isolated database: spell them as the scenario does.
    output.results = JSON.parse(JSON.stringify(output.results).replaceAll(isolated, original));
    const deviation = ferretdb ? FERRETDB_DEVIATIONS[scenario.name] : undefined;
    if (deviation) {
      const actual = output.results[deviation.operation];
      if (!isSubset(deviation.expect, actual)) failures.push(`${scenario.name}: expected FerretDB's deviation (${deviation.why}), got ${JSON.stringify(actual)}`);
      continue;
    }
    for (const p of problems(scenario, output)) failures.push(`${scenario.name}: ${p}`);
  }
  assert.deepEqual(failures, [], failures.join("\n\n"));
});
