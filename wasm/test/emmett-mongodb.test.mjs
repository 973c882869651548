// streamdoc and `@event-driven-io/emmett-mongodb` on one live server (MONGODB_URI): a read
// model written by emmett-mongodb's `mongoDBInlineProjection` is read by streamdoc, one
// written by streamdoc is read by emmett-mongodb's `projections.inline` queries, and
// appends alternating between the two stores keep the read model the fold of the events.
// Both stores use the Emmett layout in one database of this run, dropped afterwards.
// Without MONGODB_URI: fails when CI is set, otherwise says why and skips.
//
// emmett-mongodb 0.42.4 (pinned) names @event-driven-io/emmett 0.42.4 as a peer, which the
// registry does not serve; its build bundles the Emmett code it uses and imports none of
// it, so package.json `overrides` that peer with the 0.42.0 installed for emmett.test.mjs.
// Its peer `mongodb` (^6.10.0) is the installed driver.
import { test } from "node:test";
import assert from "node:assert/strict";
import { projections } from "@event-driven-io/emmett";
import { getMongoDBEventStore, mongoDBInlineProjection } from "@event-driven-io/emmett-mongodb";
import { EventStore, NO_CONCURRENCY_CHECK, STREAM_DOES_NOT_EXIST } from "streamdoc";
import { mongoExecutor } from "streamdoc/mongodb";
import { liveServer } from "./live.mjs";


const server = liveServer("the emmett-mongodb interoperability tests", "em");
const { skip } = server;
const database = (suffix) => server.database(suffix);

/**
 * The shopping cart summary, as the options of `mongoDBInlineProjection`: the same object
 * configures both stores. emmett-mongodb hands `evolve` every event of an append that has
 * one it handles (streamdoc only those), so unhandled types leave the state as it is.
 */
const summary = {
  name: "summary",
  canHandle: ["ProductItemAdded", "ProductItemRemoved", "ShoppingCartCleared"],
  initialState: () => ({ status: "empty", total: 0, items: [] }),
  evolve: (state, event) => {
    switch (event.type) {
      case "ProductItemAdded":
        return { status: "open", total: state.total + event.data.price, items: [...state.items, event.data.productId] };
      case "ProductItemRemoved":
        return { status: state.status, total: state.total - event.data.price, items: state.items.filter((i) => i !== event.data.productId) };
      case "ShoppingCartCleared":
        return null;
      default:
        return state;
    }
  },
};
const added = (productId, price) => ({ type: "ProductItemAdded", data: { productId, price } });
const removed = (productId, price) => ({ type: "ProductItemRemoved", data: { productId, price } });
const cleared = () => ({ type: "ShoppingCartCleared", data: {} });
const noted = () => ({ type: "NoteAdded", data: { text: "gift" } });

/** emmett-mongodb's store and streamdoc's on database `db`, with the summary projection. */
function stores(db) {
  const storage = { type: "COLLECTION_PER_STREAM_TYPE", databaseName: db };
  return {
    emmett: getMongoDBEventStore({ client: server.client, storage, projections: projections.inline([mongoDBInlineProjection(summary)]) }),
    streamdoc: new EventStore({ layout: "emmett", storage, executor: mongoExecutor(server.client), projections: [summary] }),
  };
}

/** The read model's state as the events give it: the summary folded from scratch. */
function fold(events) {
  let state = null;
  for (const event of events.filter((e) => summary.canHandle.includes(e.type))) {
    state = summary.evolve(state ?? summary.initialState(), event);
  }
  return state;
}

/** A read model without `_metadata`. */
const stateOf = (model) => {
  if (model === null) return null;
  const { _metadata, ...state } = model;
  return state;
};

/** The raw `projections` field of a stream document. */
async function rawProjections(db, streamName) {
  const doc = await server.client.db(db).collection("emt:shopping_cart").findOne({ streamName });
  return doc.projections;
}

test("a read model written by emmett-mongodb's mongoDBInlineProjection is read by streamdoc", { skip }, async () => {
  const db = database("fromemmett");
  const { emmett, streamdoc } = stores(db);
  await emmett.appendToStream("shopping_cart:1", [added("shoes", 100), noted(), added("hat", 20)], {
    expectedStreamVersion: STREAM_DOES_NOT_EXIST,
  });
  await emmett.appendToStream("shopping_cart:1", [removed("hat", 20)], { expectedStreamVersion: 3n });
  await emmett.appendToStream("shopping_cart:2", [added("socks", 5)]);

  const byEmmett = await emmett.projections.inline.findOne({ streamName: "shopping_cart:1", projectionName: "summary" });
  assert.deepEqual(byEmmett, {
    status: "open",
    total: 100,
    items: ["shoes"],
    _metadata: { streamId: "1", name: "summary", schemaVersion: 1, streamPosition: 4n },
  });
  assert.deepEqual(await streamdoc.readModel("shopping_cart:1", "summary"), byEmmett);
  const of = { streamType: "shopping_cart", projectionName: "summary" };
  const found = await streamdoc.projections.inline.find(of);
  assert.deepEqual(found, await emmett.projections.inline.find(of, undefined, { sort: { total: -1 } }));
  assert.deepEqual(found, await emmett.projections.inline.find({ ...of }, {}, { sort: { items: 1 } }));
  assert.deepEqual(await streamdoc.projections.inline.findOne({ streamName: "shopping_cart:1", projectionName: "summary" }), byEmmett);
  assert.equal(await streamdoc.projections.inline.count(of, { total: { $lt: 50 } }), 1);
  // streamdoc reads emmett-mongodb's events, and its fold agrees with the stored model.
  const { events } = await streamdoc.readStream("shopping_cart:1");
  assert.deepEqual(events.map((e) => e.metadata.streamPosition), [1n, 2n, 3n, 4n]);
  assert.deepEqual(stateOf(byEmmett), fold(events));
});

test("a read model written by streamdoc is read by emmett-mongodb's findOne, find and count", { skip }, async () => {
  const db = database("fromstreamdoc");
  const { emmett, streamdoc } = stores(db);
  for (const [id, items] of [
    ["1", [added("a", 30)]],
    ["2", [added("b", 10), added("c", 15)]],
    ["3", [added("d", 50), noted()]],
    ["4", [added("e", 20), removed("e", 20)]],
    ["5", [added("f", 1), cleared()]],
  ]) {
    await streamdoc.appendToStream(`shopping_cart:${id}`, items, { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  }
  const of = { streamType: "shopping_cart", projectionName: "summary" };
  const { findOne, find, count } = emmett.projections.inline;
  const ours = streamdoc.projections.inline;

  assert.deepEqual(await findOne({ streamName: "shopping_cart:2", projectionName: "summary" }), await streamdoc.readModel("shopping_cart:2", "summary"));
  assert.deepEqual(await findOne({ streamName: "shopping_cart:2", projectionName: "summary" }), {
    status: "open",
    total: 25,
    items: ["b", "c"],
    _metadata: { streamId: "2", name: "summary", schemaVersion: 1, streamPosition: 2n },
  });
  assert.deepEqual(await findOne({ ...of, streamId: "3" }), await ours.findOne({ ...of, streamId: "3" }));
  assert.equal(await findOne({ streamName: "shopping_cart:5", projectionName: "summary" }), null, "deleted ($unset) reads as absent");
  // Emmett's queries take fresh filter objects: it rewrites them in place.
  const queries = [
    [() => ({ ...of }), () => ({}), () => ({ sort: { total: 1 } })],
    [() => ({ ...of }), () => ({ total: { $gte: 15 } }), () => ({ sort: { total: -1 }, skip: 1, limit: 2 })],
    [() => ({ ...of, streamIds: ["1", "3", "5"] }), () => ({}), () => ({ sort: { total: -1 } })],
    [() => ({ projectionName: "summary", streamNames: ["shopping_cart:4", "shopping_cart:2"] }), () => ({ status: "open" }), () => ({ sort: { total: 1 } })],
    [() => ({ ...of }), () => ({ $or: [{ items: "d" }, { total: 0 }] }), () => ({ sort: { total: 1 } })],
  ];
  for (const [filter, query, options] of queries) {
    const theirs = await find(filter(), query(), options());
    assert.deepEqual(await ours.find(filter(), query(), options()), theirs, JSON.stringify([filter(), query(), options()]));
    assert.equal(await ours.count(filter(), query()), await count(filter(), query()));
  }
  assert.deepEqual((await find({ ...of }, {}, { sort: { total: -1 } })).map((m) => m.total), [50, 30, 25, 0]);
  // emmett-mongodb 0.42.4 does not prefix the fields of a sort given as pairs
  // (`[["total", -1]]` sorts on the stream document's own `total`, which it has not), so
  // its order is the server's natural one; streamdoc sorts on the read model's field.
  assert.deepEqual((await ours.find({ ...of }, {}, { sort: [["total", -1]] })).map((m) => m.total), [50, 30, 25, 0]);
  assert.equal(await count({ ...of }), 4);
  assert.deepEqual(await find({ projectionName: "summary", streamNames: [] }), await ours.find({ projectionName: "summary", streamNames: [] }));
  // emmett-mongodb reads streamdoc's events too.
  const { events } = await emmett.readStream("shopping_cart:2");
  assert.deepEqual(events.map((e) => [e.type, e.metadata.streamPosition]), [["ProductItemAdded", 1n], ["ProductItemAdded", 2n]]);
});

test("appends alternating between emmett-mongodb and streamdoc keep the read model the fold of the events", { skip }, async () => {
  const db = database("alternating");
  const { emmett, streamdoc } = stores(db);
  const stream = "shopping_cart:7";
  const steps = [
    ["emmett", [added("shoes", 100)], STREAM_DOES_NOT_EXIST],
    ["streamdoc", [added("hat", 20), noted()], 1n],
    ["emmett", [removed("shoes", 100)], 3n],
    ["streamdoc", [added("scarf", 7)], 4n],
    ["streamdoc", [noted()], 5n],
    ["emmett", [cleared()], 6n], // emmett-mongodb stores the deleted read model as null
    ["streamdoc", [added("gloves", 3)], 7n],
    ["streamdoc", [cleared()], NO_CONCURRENCY_CHECK], // streamdoc $unsets it
    ["emmett", [added("boots", 60)], 9n],
    ["streamdoc", [added("belt", 4)], NO_CONCURRENCY_CHECK],
    ["emmett", [added("tie", 2), noted()], 11n],
    ["streamdoc", [removed("boots", 60)], 13n],
  ];
  const raw = [];
  for (const [who, events, expectedStreamVersion] of steps) {
    const store = who === "emmett" ? emmett : streamdoc;
    await store.appendToStream(stream, events, { expectedStreamVersion });
    const { events: all, currentStreamVersion } = await streamdoc.readStream(stream);
    const expected = fold(all);
    const ours = await streamdoc.readModel(stream, "summary");
    const theirs = await emmett.projections.inline.findOne({ streamName: stream, projectionName: "summary" });
    const at = `after ${who} appended ${events.map((e) => e.type).join(", ")} at ${String(expectedStreamVersion)}`;
    assert.deepEqual(stateOf(ours), expected, at);
    assert.deepEqual(theirs, ours, at);
    if (ours !== null) {
      assert.deepEqual(ours._metadata.name, "summary");
      assert.ok(ours._metadata.streamPosition <= currentStreamVersion, at);
    }
    assert.equal(await streamdoc.projections.inline.count({ streamNames: [stream], projectionName: "summary" }), ours === null ? 0 : 1, at);
    assert.equal(await emmett.projections.inline.count({ streamNames: [stream], projectionName: "summary" }), ours === null ? 0 : 1, at);
    raw.push((await rawProjections(db, stream))?.summary);
  }
  // The two spellings of a deleted read model: emmett-mongodb's null, streamdoc's absence.
  assert.equal(raw[5], null);
  assert.equal(raw[7], undefined);
  const final = await streamdoc.readModel(stream, "summary");
  assert.deepEqual(stateOf(final), { status: "open", total: 6, items: ["belt", "tie"] });
  assert.equal(final._metadata.streamPosition, 14n);
});
