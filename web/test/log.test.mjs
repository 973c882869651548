// The command log: every command with its reply and step, and the session exported as a
// mongosh script which, run on the package's Engine through a small mongosh stand-in
// (`db`, `Long`, `ISODate`, `ObjectId`, …), gives the documents the page holds.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Engine } from "streamdoc";
import { assertNoProblems, openScenario, playground, showView, skip } from "./harness.mjs";

const pg = playground();
before(() => pg.setup());
after(() => pg.teardown());

/**
 * mongosh's globals over an Engine: each collection method becomes the engine's command
 * (documents in canonical Extended JSON, numbers as mongosh's driver encodes them: an
 * integer in Int32 range as an Int32, any other number as a Double).
 */
function mongoshOn(engine) {
  const wrap = (type, value) => ({ __bson: { [type]: value } });
  const canonical = (v) => {
    if (v && typeof v === "object" && "__bson" in v) return v.__bson;
    if (Array.isArray(v)) return v.map(canonical);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canonical(x)]));
    if (typeof v === "number") {
      return Number.isInteger(v) && Math.abs(v) <= 0x7fffffff
        ? { $numberInt: String(v) }
        : { $numberDouble: String(v) };
    }
    return v;
  };
  const run = (command) => {
    const reply = engine.execute(command);
    if (reply.kind === "duplicateKey" || reply.kind === "serverError")
      throw new Error(`MongoServerError: ${reply.message}`);
    return reply;
  };
  const collection = (database, name) => ({
    createIndex: (keys, options) =>
      run({
        kind: "createIndex",
        database,
        collection: name,
        keys: canonical(keys),
        name: options.name,
        unique: !!options.unique,
      }),
    findOne: (filter, projection) =>
      run({
        kind: "findOne",
        database,
        collection: name,
        filter: canonical(filter),
        projection: projection ? canonical(projection) : null,
      }),
    updateOne: (filter, update, options) =>
      run({
        kind: "updateOne",
        database,
        collection: name,
        filter: canonical(filter),
        update: canonical(update),
        upsert: !!options?.upsert,
      }),
    insertOne: (document) => run({ kind: "insertOne", database, collection: name, document: canonical(document) }),
    deleteOne: (filter) => run({ kind: "deleteOne", database, collection: name, filter: canonical(filter) }),
  });
  const printed = [];
  return {
    printed,
    globals: {
      db: { getSiblingDB: (database) => ({ getCollection: (name) => collection(database, name) }) },
      Long: (s) => wrap("$numberLong", String(s)),
      Double: (n) => wrap("$numberDouble", Number.isInteger(n) ? n.toFixed(1) : String(n)),
      ISODate: (s) => wrap("$date", { $numberLong: String(Date.parse(s)) }),
      ObjectId: (hex) => wrap("$oid", hex),
      Decimal128: (s) => wrap("$numberDecimal", s),
      print: (...args) => printed.push(args.join(" ")),
    },
  };
}

/** Runs a mongosh script with the stand-in's globals. */
function runScript(script, globals) {
  const names = Object.keys(globals);
  new Function(...names, `"use strict";\n${script}`)(...names.map((n) => globals[n]));
}

test("the exported mongosh script, run on the package's Engine, gives the page's documents", {
  skip,
  timeout: 90_000,
}, async () => {
  const page = await pg.open("/");
  // A session with creations, appends, a duplicate key (a racing creation) and reads.
  await openScenario(page, "cart");
  await showView(page, "operate");
  await page.fill("#stream-type", "order");
  await page.fill("#stream-id", "eu:1");
  await page.check('input[name="expected"][value="noStream"]');
  await page.click("#append");
  await page.click("#append");
  await page.waitForSelector('.outcome[data-op="6"].error');

  await showView(page, "log");
  const steps = await page.$$eval(".command", (els) => els.map((e) => e.dataset.step));
  assert.ok(steps.includes("creating the unique streamName index"), steps.join());
  assert.ok(steps.includes("conditional append"), steps.join());
  assert.ok(steps.includes("checking the stream after a conflict"), steps.join());
  const replies = await page.$$eval(".command .reply", (els) => els.map((e) => e.textContent));
  assert.ok(
    replies.some((r) => /MongoServerError\[11000\]: E11000 duplicate key error/.test(r)),
    replies.join("\n"),
  );
  assert.ok(replies.some((r) => /matchedCount: 1, modifiedCount: 1/.test(r)));

  await page.click("#show-script");
  const script = await page.textContent("#mongosh-script");
  assert.match(script, /^\/\/ The streamdoc playground's session/);
  assert.match(
    script,
    /try \{ db\.getSiblingDB\("streamdoc"\)\.getCollection\("order"\)\.updateOne\(.*\); \} catch \(e\) \{ print\(e\.message\); \}/,
  );

  await showView(page, "gallery");
  await page.click("#export-json");
  const exported = JSON.parse(await page.textContent("#export-text"));
  assert.deepEqual(Object.keys(exported.documents).sort(), ["streamdoc.cart", "streamdoc.order"]);

  const engine = new Engine();
  const shell = mongoshOn(engine);
  runScript(script, shell.globals);
  assert.equal(shell.printed.length, 1, "the one duplicate key went on, printed");
  assert.match(shell.printed[0], /E11000/);
  assert.deepEqual(engine.documents(), exported.documents);
  engine.free();
  assertNoProblems(page);
});
