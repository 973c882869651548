// The live server of a suite (MONGODB_URI): without it a suite fails when CI is set and
// otherwise says why and skips. `liveServer(what, prefix)` registers the suite's before/after
// hooks: one client for the suite, and every database it named dropped at the end.
import { after, before } from "node:test";

export function liveServer(what, prefix) {
  const uri = process.env.MONGODB_URI;
  if (!uri && process.env.CI) {
    throw new Error(`MONGODB_URI is not set: CI must run ${what} against a live server`);
  }
  const skip = uri ? false : `MONGODB_URI is not set: ${what} are skipped`;
  if (skip) console.log(`# ${skip}`);
  const run = `${prefix}${process.pid}${Date.now().toString(36)}`;
  const created = new Set();
  const server = {
    uri,
    skip,
    /** The suite's client (set once the `before` hook ran). */
    client: null,
    /** A database of this run, dropped after the suite. */
    database(suffix) {
      const name = `sd_${run}_${suffix}`.slice(0, 48);
      created.add(name);
      return name;
    },
    /** Drops `name` after the suite too (a database a store created beside the ones named). */
    dropLater(name) {
      created.add(name);
    },
  };
  before(async () => {
    if (skip) return;
    const { MongoClient } = await import("mongodb");
    server.client = await MongoClient.connect(uri, { serverSelectionTimeoutMS: 10_000 });
  });
  after(async () => {
    if (!server.client) return;
    for (const name of created) await server.client.db(name).dropDatabase();
    await server.client.close();
  });
  return server;
}
