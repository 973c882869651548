// One-event appends at known expected positions on the live server at MONGODB_URI, from
// Node, side by side in one run: `@event-driven-io/emmett-mongodb`, the `streamdoc`
// package over the Node driver (`streamdoc/mongodb`), and the bare driver sending the one
// `updateOne` the package sends. Asserts nothing about time: it exits non-zero only when
// an append fails or a stream does not hold what was appended.
//
//   STREAMDOC_BENCH_SIZE    `full` (2,000 appends over 200 streams, 5 rounds) or `tiny`
//                           (50 appends over 10 streams, 1 round): default `full`
//   STREAMDOC_BENCH_SERVER  the server's label (default: what `buildInfo` says)
//   STREAMDOC_BENCH_DIR     where to write `node-<slug>.md`, `node-<slug>.json` and to
//                           append `targets.jsonl` (nothing is written without it)
//
// Every round gives each contender fresh streams (in a database of its own, whose index
// the warm-up round created) and alternates who goes first. A round of W writers splits
// the streams among them (stream s to writer s mod W); each writer appends one event at
// a time, each at the position it knows, so no append conflicts. The commands are counted
// in a separate, unmeasured round on a client with `monitorCommands: true` (fresh
// databases, so it includes the first use of a collection), from its `commandStarted`
// events, leaving out the connection's own (HANDSHAKE below).
import { randomUUID } from "node:crypto";
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Long, MongoClient } from "mongodb";
import { getMongoDBEventStore } from "@event-driven-io/emmett-mongodb";
import { EventStore } from "streamdoc";
import { mongoExecutor } from "streamdoc/mongodb";

const SIZES = {
  full: { appends: 2_000, streams: 200, rounds: 5 },
  tiny: { appends: 50, streams: 10, rounds: 1 },
};
const sizeName = process.env.STREAMDOC_BENCH_SIZE ?? "full";
const size = SIZES[sizeName];
if (!size) throw new Error(`STREAMDOC_BENCH_SIZE must be one of ${Object.keys(SIZES).join(", ")}, not ${sizeName}`);
const uri = process.env.MONGODB_URI;
if (!uri) throw new Error("MONGODB_URI is not set: the live benchmark needs a server");
const WRITERS = [1, 8];
/** The connection's own commands, not counted. */
const HANDSHAKE = new Set(["hello", "isMaster", "ismaster", "ping", "buildInfo", "saslStart", "saslContinue", "authenticate", "getnonce", "endSessions"]);
const TARGET_DRIVER = "the npm package within 1.10× of the bare driver's time";
const TARGET_EMMETT = "the npm package ≥ 1.2× Emmett's appends/s";

const perStream = size.appends / size.streams;
const run = `sdbench_${process.pid}${Date.now().toString(36)}`;
const version = (pkg) => JSON.parse(readFileSync(new URL(`./node_modules/${pkg}/package.json`, import.meta.url), "utf8")).version;
const versions = { node: process.version, mongodb: version("mongodb"), emmett: version("@event-driven-io/emmett-mongodb") };
const event = (k) => ({ type: "CounterIncremented", data: { by: 1, k } });

// ----- The contenders: `open(client, database)` → `append(streamName, streamId, k)`, k
// the stream's position before the append (0: the stream does not exist yet).

/** `@event-driven-io/emmett-mongodb`: a `findOne` for the position, then the `updateOne`. */
function emmett(client, database) {
  const store = getMongoDBEventStore({ client, storage: { type: "COLLECTION_PER_STREAM_TYPE", databaseName: database } });
  return {
    append: (name, _id, k) => store.appendToStream(name, [event(k)], { expectedStreamVersion: BigInt(k) }),
    events: async (name) => {
      const d = await client.db(database).collection("emt:counter").findOne({ streamName: name });
      return d && { position: Number(d.metadata.streamPosition), count: d.messages.length };
    },
  };
}

/** The package, over the Node driver through `streamdoc/mongodb`. */
function streamdoc(client, database) {
  const store = new EventStore({ database, executor: mongoExecutor(client) });
  return {
    append: (name, _id, k) => store.appendToStream(name, [event(k)], { expectedStreamVersion: BigInt(k) }),
    events: async (name) => {
      const d = await client.db(database).collection("counter").findOne({ streamName: name });
      return d && { position: Number(d.metadata.streamPosition), count: d.events.length };
    },
  };
}

/**
 * The bare driver: the `updateOne` the package sends (its filter, update and upsert, as
 * command monitoring shows them), built here from JavaScript values. The first append
 * creates the document (an upsert at position 0), later ones require the position.
 */
function driver(client, database) {
  const collection = client.db(database).collection("counter");
  let indexed = null;
  return {
    async append(name, id, k) {
      indexed ??= collection.createIndex({ streamName: 1 }, { name: "streamName_1", unique: true });
      await indexed;
      const now = new Date();
      const position = Long.fromNumber(k + 1);
      const update = {
        $push: {
          events: {
            $each: [{ ...event(k), metadata: { eventId: randomUUID(), streamName: name, streamPosition: position, recordedAt: now } }],
          },
        },
        $set: { "metadata.streamPosition": position, "metadata.updatedAt": now },
      };
      if (k === 0) update.$setOnInsert = { "metadata.streamId": id, "metadata.streamType": "counter", "metadata.createdAt": now };
      const filter = { streamName: { $eq: name }, "metadata.streamPosition": Long.fromNumber(k), "metadata.sealedAt": { $exists: false } };
      const r = await collection.updateOne(filter, update, { upsert: k === 0 });
      if (r.matchedCount + r.upsertedCount !== 1) throw new Error(`the append to ${name} at ${k} matched nothing`);
    },
    events: async (name) => {
      const d = await collection.findOne({ streamName: name });
      return d && { position: Number(d.metadata.streamPosition), count: d.events.length };
    },
  };
}

const CONTENDERS = { emmett, streamdoc, driver };
const LABELS = {
  emmett: `Emmett (\`@event-driven-io/emmett-mongodb\` ${versions.emmett})`,
  streamdoc: "streamdoc (the npm package, `streamdoc/mongodb`)",
  driver: "the bare driver (the package's `updateOne`)",
};

// ----- Measuring.

/** One round: the appends of `writers` writers on fresh streams `counter:{tag}s{s}`. */
async function round(store, tag, writers) {
  const latencies = [];
  const writer = async (w) => {
    for (let k = 0; k < perStream; k++) {
      for (let s = w; s < size.streams; s += writers) {
        const id = `${tag}s${s}`;
        const started = performance.now();
        await store.append(`counter:${id}`, id, k);
        latencies.push(performance.now() - started);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  const ms = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] * 1000;
  return { perSecond: (size.appends / ms) * 1000, p50: at(0.5), p99: at(0.99) };
}

/** Every stream of round `tag` holds `perStream` events, the last at `perStream`. */
async function check(name, store, tag) {
  for (let s = 0; s < size.streams; s++) {
    const got = await store.events(`counter:${tag}s${s}`);
    if (!got || got.position !== perStream || got.count !== perStream) {
      throw new Error(`${name}: stream counter:${tag}s${s} holds ${JSON.stringify(got)}, not ${perStream} events`);
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The structure of a command's document: its keys and each value's BSON type. */
function shape(v) {
  if (Array.isArray(v)) return v.map(shape);
  if (v instanceof Date) return "date";
  if (typeof v === "number") return Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31 ? "Int32" : "Double";
  if (v === null || typeof v !== "object") return typeof v;
  if (v._bsontype) return v._bsontype;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
}

const timed = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 10_000 });
const counted = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 10_000, monitorCommands: true });
const databases = [];
const database = (what) => {
  const name = `${run}_${what}`.slice(0, 60);
  databases.push(name);
  return name;
};
let failed = false;
try {
  const info = await timed.db("admin").command({ buildInfo: 1 });
  const server =
    process.env.STREAMDOC_BENCH_SERVER ??
    (info.mongoJavaServer ? `mongo-java-server ${info.mongoJavaServer}` : info.ferretdbVersion ? `FerretDB ${info.ferretdbVersion}` : `MongoDB ${info.version}`);
  const slug = server.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

  // The commands per append, and the shape of the updates, from a monitored round each.
  let current = null;
  const commands = {};
  const updates = {};
  counted.on("commandStarted", (e) => {
    if (current === null || HANDSHAKE.has(e.commandName)) return;
    commands[current][e.commandName] = (commands[current][e.commandName] ?? 0) + 1;
    if (e.commandName === "update") (updates[current] ??= []).push(e.command.updates);
  });
  for (const writers of WRITERS) {
    for (const name of Object.keys(CONTENDERS)) {
      const key = `${name}/${writers}`;
      commands[key] = {};
      current = key;
      const store = CONTENDERS[name](counted, database(`c${writers}_${name}`));
      await round(store, "count", writers);
      current = null;
      await check(name, store, "count");
    }
  }
  // Same structure and types: the first update (the creating upsert) and a later one.
  const sameCommand = [0, size.streams].every(
    (i) => JSON.stringify(shape(updates["streamdoc/1"][i])) === JSON.stringify(shape(updates["driver/1"][i])),
  );
  if (!sameCommand) {
    console.warn("warning: the bare driver's update differs from the package's:");
    console.warn(JSON.stringify(shape(updates["streamdoc/1"][size.streams])), JSON.stringify(shape(updates["driver/1"][size.streams])));
  }

  const results = {};
  for (const writers of WRITERS) {
    const stores = Object.fromEntries(Object.keys(CONTENDERS).map((n) => [n, CONTENDERS[n](timed, database(`t${writers}_${n}`))]));
    const rounds = Object.fromEntries(Object.keys(CONTENDERS).map((n) => [n, []]));
    const names = Object.keys(CONTENDERS);
    for (let r = -1; r < size.rounds; r++) {
      const order = names.map((_, i) => names[(i + r + 1) % names.length]);
      for (const name of order) {
        const tag = r < 0 ? "warm" : `r${r}`;
        const figures = await round(stores[name], tag, writers);
        if (r >= 0) rounds[name].push(figures);
      }
    }
    for (const name of names) await check(name, stores[name], `r${size.rounds - 1}`);
    results[writers] = Object.fromEntries(
      names.map((name) => {
        const rs = rounds[name];
        const rates = rs.map((x) => x.perSecond);
        const key = `${name}/${writers}`;
        const count = commands[key];
        const once = count.createIndexes ?? 0;
        const per = Object.fromEntries(Object.entries(count).filter(([c]) => c !== "createIndexes").map(([c, n]) => [c, n / size.appends]));
        return [
          name,
          {
            appends_per_s: median(rates),
            min_appends_per_s: Math.min(...rates),
            max_appends_per_s: Math.max(...rates),
            p50_us: median(rs.map((x) => x.p50)),
            p99_us: median(rs.map((x) => x.p99)),
            commands_per_append: per,
            create_indexes: once,
          },
        ];
      }),
    );
  }

  // ----- Reporting.
  const fmt = (n) => Math.round(n).toLocaleString("en-US");
  const cmds = (r) => {
    const per = Object.entries(r.commands_per_append).map(([c, n]) => `${n === 1 ? "" : `${n.toFixed(2)} × `}\`${c}\``);
    const total = Object.values(r.commands_per_append).reduce((a, b) => a + b, 0);
    return `${total.toFixed(2)} (${per.join(" + ")}); \`createIndexes\` × ${r.create_indexes} in all`;
  };
  const lines = [];
  lines.push(`## From Node: streamdoc, Emmett and the bare driver on ${server}`, "");
  lines.push(
    `${fmt(size.appends)} one-event appends over ${fmt(size.streams)} streams (${perStream} per stream), each at the position its writer knows, ` +
      `from Node ${versions.node} with the driver ${versions.mongodb}; after a warm-up round, the median of ${size.rounds} rounds in which the three alternate, ` +
      `with the rounds' range. Latency is per append (p50 and p99, the median over the rounds). Commands are counted from the driver's \`commandStarted\` events ` +
      `in a separate round on fresh collections (the connection's own \`hello\`, \`ping\`, \`buildInfo\`, \`saslStart\`/\`saslContinue\` and \`endSessions\` left out).`,
    "",
  );
  for (const writers of WRITERS) {
    const r = results[writers];
    lines.push(`${writers === 1 ? "One writer" : `${writers} concurrent writers`}:`, "");
    lines.push("| contender | appends/s (min–max) | p50 | p99 | commands per append |", "|---|---|---|---|---|");
    for (const name of Object.keys(CONTENDERS)) {
      const x = r[name];
      lines.push(
        `| ${LABELS[name]} | ${fmt(x.appends_per_s)} (${fmt(x.min_appends_per_s)}–${fmt(x.max_appends_per_s)}) | ${fmt(x.p50_us)} µs | ${fmt(x.p99_us)} µs | ${cmds(x)} |`,
      );
    }
    lines.push("");
  }
  const ratio = (w) => ({
    driver: results[w].driver.appends_per_s / results[w].streamdoc.appends_per_s,
    emmett: results[w].streamdoc.appends_per_s / results[w].emmett.appends_per_s,
  });
  const one = ratio(1);
  const eight = ratio(8);
  const extra = (w) => 1e6 / results[w].streamdoc.appends_per_s - 1e6 / results[w].driver.appends_per_s;
  lines.push(
    `The package takes ${one.driver.toFixed(2)}× the bare driver's time per append with one writer (${fmt(extra(1))} µs more per append) and ` +
      `${eight.driver.toFixed(2)}× with eight, sending the same single \`update\` per append${sameCommand ? "" : " (but the bare driver's command differed in shape in this run)"}; ` +
      `the difference is the store's own work (the stream name, the event's id and positions, the command in Extended JSON and back). ` +
      `Emmett reads the stream's position with a \`find\` before each \`update\`, so the package does ${one.emmett.toFixed(2)}× Emmett's appends/s with one writer ` +
      `and ${eight.emmett.toFixed(2)}× with eight. Starting together, eight writers send ${results[8].streamdoc.create_indexes} \`createIndexes\` through the package ` +
      `and ${results[8].emmett.create_indexes} through Emmett.`,
    "",
  );
  const markdown = lines.join("\n");
  console.log(`\n${markdown}`);

  const targets = [
    { section: "node", server, target: TARGET_DRIVER, measured: `${one.driver.toFixed(2)}×`, met: one.driver <= 1.1 },
    { section: "node", server, target: TARGET_EMMETT, measured: `${one.emmett.toFixed(2)}×`, met: one.emmett >= 1.2, informational: true },
  ];
  for (const t of targets) console.log(JSON.stringify(t));
  const dir = process.env.STREAMDOC_BENCH_DIR;
  if (dir) {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, `node-${slug}.md`), markdown);
    const raw = {
      section: "node",
      server,
      size: sizeName,
      ...size,
      writers: WRITERS,
      versions,
      same_command: sameCommand,
      emmett_appends_per_s: results[1].emmett.appends_per_s,
      streamdoc_appends_per_s: results[1].streamdoc.appends_per_s,
      driver_appends_per_s: results[1].driver.appends_per_s,
      package_time_vs_driver: one.driver,
      package_vs_emmett: one.emmett,
      results,
    };
    await writeFile(join(dir, `node-${slug}.json`), `${JSON.stringify(raw, null, 2)}\n`);
    await appendFile(join(dir, "targets.jsonl"), targets.map((t) => `${JSON.stringify(t)}\n`).join(""));
  }
} catch (error) {
  failed = true;
  console.error(error);
} finally {
  for (const name of databases) await timed.db(name).dropDatabase().catch(() => {});
  await timed.close();
  await counted.close();
}
if (failed) process.exitCode = 1;
