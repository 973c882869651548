// The package's EventStore under Emmett's own command handlers: every scenario runs on
// streamdoc (the in-memory engine, in the Emmett layout) and on Emmett's
// `getInMemoryEventStore()`, the control, and asserts the same observable results. The
// options streamdoc refuses are checked on streamdoc alone.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CommandHandler,
  DeciderCommandHandler,
  EmmettError,
  getInMemoryEventStore,
  isExpectedVersionConflictError,
  STREAM_DOES_NOT_EXIST as EMMETT_STREAM_DOES_NOT_EXIST,
} from "@event-driven-io/emmett";
import {
  ConcurrencyConflictError,
  EventStore,
  InvalidStreamNameError,
  STREAM_DOES_NOT_EXIST,
  STREAM_EXISTS,
  StreamdocError,
} from "streamdoc";

const stores = [
  ["streamdoc", (options) => new EventStore({ layout: "emmett", ...options })],
  ["emmett", (options) => getInMemoryEventStore(options)],
];

/** Runs `scenario(makeStore)` on both stores; returns their results by name. */
async function onBoth(scenario) {
  const results = {};
  for (const [name, make] of stores) results[name] = await scenario(make, name);
  return results;
}

/** Runs `scenario` on both stores and asserts that both give the same result. */
async function same(scenario) {
  const { streamdoc, emmett } = await onBoth(scenario);
  assert.deepEqual(streamdoc, emmett);
  return streamdoc;
}

// ---------------------------------------------------------------- the shopping cart

const cart = {
  initialState: () => ({ status: "empty", items: [] }),
  evolve: (state, event) => {
    switch (event.type) {
      case "ProductItemAdded":
        return { status: "open", items: [...state.items, event.data] };
      case "ShoppingCartConfirmed":
        return { ...state, status: "confirmed" };
      default:
        return state;
    }
  },
};
const added = (productId, quantity) => ({ type: "ProductItemAdded", data: { productId, quantity } });
const confirmed = () => ({ type: "ShoppingCartConfirmed", data: { at: "noon" } });

const decide = (command, state) => {
  switch (command.type) {
    case "AddProductItem":
      if (state.status === "confirmed") throw new Error("confirmed");
      return added(command.data.productId, command.data.quantity);
    case "ConfirmShoppingCart":
      return confirmed();
  }
};

/** What Emmett code reads of an event. */
const seen = (e) => ({
  type: e.type,
  data: e.data,
  streamName: e.metadata.streamName,
  streamPosition: e.metadata.streamPosition,
  messageId: typeof e.metadata.messageId,
});

/** What a command handler's result says, without its generated parts. */
const outcome = (r) => ({
  nextExpectedStreamVersion: r.nextExpectedStreamVersion,
  createdNewStream: r.createdNewStream,
  newState: r.newState,
  newEvents: r.newEvents,
});

test("a shopping cart through CommandHandler gives the same results and events", async () => {
  const result = await same(async (make) => {
    const store = make();
    const handle = CommandHandler(cart);
    const first = await handle(store, "shopping_cart:1", () => added("shoes", 1));
    const second = await handle(store, "shopping_cart:1", (state) => (state.items.length ? [added("hat", 2)] : []));
    const third = await handle(store, "shopping_cart:1", [() => confirmed(), () => []]);
    const read = await store.readStream("shopping_cart:1");
    return {
      outcomes: [first, second, third].map(outcome),
      events: read.events.map(seen),
      currentStreamVersion: read.currentStreamVersion,
      exists: await store.streamExists("shopping_cart:1"),
    };
  });
  assert.equal(result.currentStreamVersion, 3n);
  assert.deepEqual(
    result.outcomes.map((o) => [o.nextExpectedStreamVersion, o.createdNewStream]),
    [
      [1n, true],
      [2n, false],
      [3n, false],
    ],
  );
  assert.equal(result.events[2].messageId, "string");
});

test("a shopping cart through DeciderCommandHandler gives the same results and events", async () => {
  await same(async (make) => {
    const store = make();
    const handle = DeciderCommandHandler({ ...cart, decide });
    const outcomes = [];
    outcomes.push(await handle(store, "shopping_cart:2", { type: "AddProductItem", data: { productId: "a", quantity: 1 } }));
    outcomes.push(
      await handle(store, "shopping_cart:2", [
        { type: "AddProductItem", data: { productId: "b", quantity: 3 } },
        { type: "ConfirmShoppingCart", data: {} },
      ]),
    );
    const refused = await handle(store, "shopping_cart:2", {
      type: "AddProductItem",
      data: { productId: "c", quantity: 1 },
    }).catch((e) => e.message);
    const { events } = await store.readStream("shopping_cart:2");
    return { outcomes: outcomes.map(outcome), refused, events: events.map(seen) };
  });
});

// ---------------------------------------------------------------- conflicts

/** A handler that, on its first call only, lets a second writer append first. */
function racing(store, stream) {
  let calls = 0;
  const handler = async (state) => {
    calls++;
    if (calls === 1) await store.appendToStream(stream, [added("racer", 1)]);
    return added(`mine-${state.items.length}`, 1);
  };
  return { handler, calls: () => calls };
}

test("a conflict is retried by onVersionConflict and then succeeds", async () => {
  await same(async (make) => {
    const store = make();
    await store.appendToStream("shopping_cart:3", [added("first", 1)]);
    const { handler, calls } = racing(store, "shopping_cart:3");
    const handle = CommandHandler({ ...cart, retry: { onVersionConflict: 2 } });
    const result = await handle(store, "shopping_cart:3", handler);
    const { events } = await store.readStream("shopping_cart:3");
    return { result: outcome(result), calls: calls(), events: events.map(seen) };
  });
});

test("retry given as a handle option reaches the store's calls and is left to the handler", async () => {
  await same(async (make) => {
    const store = make();
    await store.appendToStream("shopping_cart:4", [added("first", 1)]);
    const { handler, calls } = racing(store, "shopping_cart:4");
    const result = await CommandHandler(cart)(store, "shopping_cart:4", handler, { retry: { onVersionConflict: 1 } });
    return { result: outcome(result), calls: calls() };
  });
});

test("a handler whose expected version went stale fails with an error Emmett recognises", async () => {
  const errors = await onBoth(async (make) => {
    const store = make();
    await store.appendToStream("shopping_cart:5", [added("first", 1)]);
    const { handler } = racing(store, "shopping_cart:5");
    return CommandHandler(cart)(store, "shopping_cart:5", handler).then(
      () => assert.fail("the append should conflict"),
      (e) => e,
    );
  });
  const view = (e) => ({
    recognised: isExpectedVersionConflictError(e),
    isEmmettError: EmmettError.isInstanceOf(e, EmmettError.Codes.ConcurrencyError),
    errorCode: e.errorCode,
    mapped: EmmettError.mapFrom(e).errorCode,
    current: e.current,
    expected: String(e.expected),
  });
  assert.deepEqual(view(errors.streamdoc), view(errors.emmett));
  assert.deepEqual(view(errors.streamdoc), {
    recognised: true,
    isEmmettError: true,
    errorCode: 412,
    mapped: 412,
    current: "2",
    expected: "1",
  });
  // streamdoc's own fields and classes stay.
  const e = errors.streamdoc;
  assert.ok(e instanceof ConcurrencyConflictError && e instanceof StreamdocError);
  assert.equal(e.expected, 1n); // a bigint; Emmett's `expected` is the string "1"
  assert.equal(e.actual, 2n);
});

test("a conflict on a missing stream reports current \"0\", as Emmett does", async () => {
  const errors = await onBoth(async (make) => {
    const store = make();
    return store.appendToStream("shopping_cart:6", [added("x", 1)], { expectedStreamVersion: 1n }).catch((e) => e);
  });
  assert.equal(errors.streamdoc.current, errors.emmett.current);
  assert.equal(errors.streamdoc.actual, null);
  assert.ok(isExpectedVersionConflictError(errors.streamdoc));
});

test("other errors carry Emmett's errorCode for the same situation", async () => {
  const store = new EventStore();
  const invalid = await store.appendToStream("no-colon", [added("x", 1)]).catch((e) => e);
  assert.ok(invalid instanceof InvalidStreamNameError);
  assert.equal(invalid.errorCode, EmmettError.Codes.ValidationError);
  assert.equal(EmmettError.mapFrom(invalid).errorCode, 400);
  assert.equal(isExpectedVersionConflictError(invalid), false);
  const empty = await store.appendToStream("cart:1", []).catch((e) => e);
  assert.equal(empty.errorCode, 400);
  const range = await store.readStream("cart:1", { from: 3n, to: 1n }).catch((e) => e);
  assert.equal(range.errorCode, 400);
  const unavailable = await new EventStore({
    executor: () => {
      throw new Error("down");
    },
  })
    .appendToStream("cart:1", [added("x", 1)])
    .catch((e) => e);
  assert.equal(unavailable.errorCode, 500);
  assert.equal(
    await store.appendToStream("cart:2", [added("x", 1)], { expectedStreamVersion: STREAM_EXISTS }).catch((e) => e.errorCode),
    412,
  );
});

// ---------------------------------------------------------------- upcasting

/** Version 1 of ProductItemAdded spelt the quantity `qty`. */
const upcast = (event) =>
  event.type === "ProductItemAdded" && "qty" in event.data
    ? { ...event, data: { productId: event.data.productId, quantity: event.data.qty }, metadata: { upcasted: true } }
    : event;

test("aggregateStream applies schema.versioning.upcast to each event before evolve", async () => {
  await same(async (make) => {
    const store = make();
    await store.appendToStream("shopping_cart:7", [{ type: "ProductItemAdded", data: { productId: "old", qty: 4 } }]);
    await store.appendToStream("shopping_cart:7", [added("new", 1)]);
    const seenByEvolve = [];
    const { state, streamExists } = await store.aggregateStream("shopping_cart:7", {
      ...cart,
      evolve: (s, e) => {
        seenByEvolve.push({ ...seen(e), upcasted: e.metadata.upcasted ?? false });
        return cart.evolve(s, e);
      },
      read: { schema: { versioning: { upcast } } },
    });
    const read = await store.readStream("shopping_cart:7", { schema: { versioning: { upcast } } });
    return { state, streamExists, seenByEvolve, read: read.events.map(seen) };
  });
});

test("CommandHandler's schema upcasts the events it folds", async () => {
  await same(async (make) => {
    const store = make();
    await store.appendToStream("shopping_cart:8", [{ type: "ProductItemAdded", data: { productId: "old", qty: 2 } }]);
    const handle = CommandHandler({ ...cart, schema: { versioning: { upcast } } });
    const result = await handle(store, "shopping_cart:8", (state) => added(`after-${state.items[0].quantity}`, 1));
    return outcome(result);
  });
});

test("aggregateStream folds a read range: inclusive 1-based positions, as readStream reads them", async () => {
  const store = new EventStore({ layout: "emmett" });
  await store.appendToStream("shopping_cart:9", [added("a", 1), added("b", 2), added("c", 3), added("d", 4)]);
  const fold = (read) => store.aggregateStream("shopping_cart:9", { ...cart, read });
  const ids = (r) => r.state.items.map((i) => i.productId);
  assert.deepEqual(ids(await fold({ from: 2n, to: 3n })), ["b", "c"]);
  assert.deepEqual(ids(await fold({ from: 2n, maxCount: 1n })), ["b"]);
  assert.deepEqual(ids(await fold({ to: 2n, schema: { versioning: { upcast } } })), ["a", "b"]);
  const r = await fold({ from: 3n });
  assert.deepEqual(ids(r), ["c", "d"]);
  // The stream's version, not the number of events folded.
  assert.equal(r.currentStreamVersion, 4n);
  // Emmett's in-memory store slices 0-based, end exclusive: { from: 2n, to: 3n } is the third event.
  const emmett = getInMemoryEventStore();
  await emmett.appendToStream("shopping_cart:9", [added("a", 1), added("b", 2), added("c", 3), added("d", 4)]);
  const control = await emmett.aggregateStream("shopping_cart:9", { ...cart, read: { from: 2n, to: 3n } });
  assert.deepEqual(ids(control), ["c"]);
});

// ---------------------------------------------------------------- onAfterCommit

test("onAfterCommit is called once per append with the appended events, and awaited", async () => {
  await same(async (make) => {
    const calls = [];
    let settled = false;
    const store = make({
      hooks: {
        onAfterCommit: async (events, ...rest) => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          settled = true;
          calls.push({ events: events.map(seen), rest });
        },
      },
    });
    await CommandHandler(cart)(store, "shopping_cart:10", () => [added("a", 1), added("b", 2)]);
    const awaited = settled;
    await store.appendToStream("shopping_cart:10", [confirmed()], { expectedStreamVersion: 2n });
    const refused = await store
      .appendToStream("shopping_cart:10", [confirmed()], { expectedStreamVersion: EMMETT_STREAM_DOES_NOT_EXIST })
      .catch((e) => e.errorCode);
    return { calls, awaited, refused };
  });
});

test("a failing onAfterCommit does not fail the acknowledged append: it is logged", async (t) => {
  const logged = t.mock.method(console, "error", () => {});
  const results = await same(async (make) => {
    const store = make({
      hooks: {
        onAfterCommit: () => {
          throw new Error("hook failed");
        },
      },
    });
    const result = await store.appendToStream("shopping_cart:11", [added("a", 1)]);
    const { events } = await store.readStream("shopping_cart:11");
    return { result, events: events.map(seen) };
  });
  assert.equal(results.result.nextExpectedStreamVersion, 1n);
  assert.equal(logged.mock.callCount(), 2);
  assert.deepEqual(
    logged.mock.calls.map((c) => [c.arguments[0], c.arguments[1].message]),
    [
      ["Error in on after commit hook", "hook failed"],
      ["Error in on after commit hook", "hook failed"],
    ],
  );
});

test("onAfterCommit gets the events as readStream returns them, on an executor too", async () => {
  const calls = [];
  const { Engine } = await import("streamdoc");
  const engine = new Engine();
  const store = new EventStore({
    executor: async (command) => engine.execute(command),
    hooks: { onAfterCommit: (events) => calls.push(events) },
  });
  await store.appendToStream("cart:12", [added("a", 1)]);
  await store.appendToStream("cart:12", [added("b", 1), added("c", 1)]);
  const { events } = await store.readStream("cart:12");
  assert.deepEqual(calls, [events.slice(0, 1), events.slice(1)]);
});

// ---------------------------------------------------------------- storage in Emmett's spelling

test("Emmett's storage options are aliases of streamdoc's own", async () => {
  const places = async (options) => {
    const store = new EventStore({ layout: "emmett", ...options });
    await store.appendToStream("shopping_cart:1", [added("a", 1)]);
    await store.appendToStream("order:1", [added("a", 1)]);
    return Object.keys(store.documents()).sort();
  };
  assert.deepEqual(await places({ storage: { type: "SINGLE_COLLECTION", collectionName: "carts", databaseName: "shop" } }), [
    "shop.carts",
  ]);
  assert.deepEqual(
    await places({ storage: { type: "SINGLE_COLLECTION", collectionName: "carts", databaseName: "shop" } }),
    await places({ database: "shop", storage: { kind: "single", name: "carts" } }),
  );
  assert.deepEqual(await places({ storage: "SINGLE_COLLECTION" }), ["streamdoc.emt:streams"]);
  assert.deepEqual(await places({ storage: { type: "COLLECTION_PER_STREAM_TYPE", databaseName: "shop" } }), [
    "shop.emt:order",
    "shop.emt:shopping_cart",
  ]);
  assert.deepEqual(await places({ storage: { type: "COLLECTION_PER_STREAM_TYPE" } }), await places({}));
  assert.deepEqual(
    await places({
      database: "shop",
      storage: {
        type: "CUSTOM",
        collectionFor: (streamType) =>
          streamType === "order" ? { collectionName: "orders", databaseName: "sales" } : `custom_${streamType}`,
      },
    }),
    ["sales.orders", "shop.custom_shopping_cart"],
  );
  const store = new EventStore({
    storage: { type: "CUSTOM", collectionFor: () => 42 },
  });
  await assert.rejects(store.appendToStream("order:1", [added("a", 1)]), TypeError);
});

// ---------------------------------------------------------------- reads with an expected version

test("a read with an expected version: the events where it matches, Emmett's conflict where it does not", async () => {
  // Emmett's in-memory readStream throws its conflict synchronously; streamdoc's rejects.
  const outcome = (call) =>
    Promise.resolve()
      .then(call)
      .then(
      (r) => ({ events: r.events?.length ?? null, state: r.state ?? null, current: r.currentStreamVersion }),
      (e) => ({ conflict: isExpectedVersionConflictError(e), errorCode: e.errorCode, current: e.current }),
    );
  const results = await same(async (make) => {
    const store = make();
    await store.appendToStream("shopping_cart:20", [added("a", 1), added("b", 2)]);
    const read = (expectedStreamVersion) => outcome(() => store.readStream("shopping_cart:20", { expectedStreamVersion }));
    const aggregate = (expectedStreamVersion) =>
      outcome(() => store.aggregateStream("shopping_cart:20", { ...cart, read: { expectedStreamVersion } }));
    return {
      matches: await read(2n),
      stale: await read(1n),
      exists: await read("STREAM_EXISTS"),
      mustNotExist: await read("STREAM_DOES_NOT_EXIST"),
      missing: await outcome(() => store.readStream("shopping_cart:21", { expectedStreamVersion: "STREAM_EXISTS" })),
      missingAtZero: await outcome(() => store.readStream("shopping_cart:21", { expectedStreamVersion: 0n })),
      aggregated: await aggregate(2n),
      aggregateStale: await aggregate(3n),
    };
  });
  assert.deepEqual(results.matches, { events: 2, state: null, current: 2n });
  assert.deepEqual(results.stale, { conflict: true, errorCode: 412, current: "2" });
  assert.equal(results.mustNotExist.conflict, true);
  assert.equal(results.missing.conflict, true);
  assert.equal(results.aggregateStale.conflict, true);
});

test("a command handler given a stale expected version fails at the read, before the handler runs", async () => {
  const results = await same(async (make) => {
    const store = make();
    await store.appendToStream("shopping_cart:22", [added("a", 1)]);
    let ran = 0;
    const error = await CommandHandler(cart)(
      store,
      "shopping_cart:22",
      () => {
        ran += 1;
        return added("b", 1);
      },
      { expectedStreamVersion: 5n },
    ).catch((e) => e);
    const after = await store.readStream("shopping_cart:22");
    return { conflict: isExpectedVersionConflictError(error), ran, events: after.events.length };
  });
  assert.deepEqual(results, { conflict: true, ran: 0, events: 1 });
});

// ---------------------------------------------------------------- what streamdoc refuses

test("options that are not implemented, or unknown, are TypeErrors naming them", async () => {
  const store = new EventStore({ layout: "emmett" });
  await store.appendToStream("shopping_cart:1", [added("a", 1)]);
  const refused = async (promise, pattern) => {
    await assert.rejects(promise, (e) => e instanceof TypeError && pattern.test(e.message));
  };
  await refused(store.readStream("shopping_cart:1", { form: 1n }), /unknown option `form`/);
  await refused(store.readStream("shopping_cart:1", { schema: { version: {} } }), /unknown option `version`/);
  await refused(store.readStream("shopping_cart:1", { schema: { versioning: { upcats: upcast } } }), /unknown option `upcats`/);
  await refused(store.readStream("shopping_cart:1", { schema: { versioning: { upcast: 1 } } }), /upcast must be a function/);
  await refused(store.aggregateStream("shopping_cart:1", { ...cart, reads: {} }), /unknown option `reads`/);
  await refused(store.aggregateStream("shopping_cart:1", { ...cart, read: { maxcount: 1n } }), /unknown option `maxcount`/);
  await refused(store.appendToStream("shopping_cart:1", [added("b", 1)], { expectedVersion: 1n }), /unknown option `expectedVersion`/);
  await refused(
    store.appendToStream("shopping_cart:1", [added("b", 1)], { schema: {}, expectedVersion: 1n }),
    /unknown option `expectedVersion`/,
  );
  await refused(
    store.appendToStream("shopping_cart:1", [added("b", 1)], { schema: { versioning: { downcast: (e) => e } } }),
    /downcast is not supported yet/,
  );
  assert.equal((await store.readStream("shopping_cart:1")).events.length, 1, "nothing refused was written");
  assert.throws(() => new EventStore({ hooks: { onAfterComit: () => {} } }), /unknown option `onAfterComit`/);
  assert.throws(() => new EventStore({ hooks: { onAfterCommit: 1 } }), /onAfterCommit must be a function/);
  assert.throws(() => new EventStore({ hook: {} }), /unknown option `hook`/);
  assert.throws(() => new EventStore({ storage: { type: "SHARDED" } }), /storage\.type must be/);
  assert.throws(() => new EventStore({ storage: "SHARDED" }), TypeError);
  assert.throws(() => new EventStore({ storage: { type: "SINGLE_COLLECTION", name: "x" } }), /unknown option `name`/);
  assert.throws(() => new EventStore({ storage: { type: "CUSTOM" } }), /collectionFor must be a function/);
  assert.throws(
    () => new EventStore({ database: "a", storage: { type: "COLLECTION_PER_STREAM_TYPE", databaseName: "b" } }),
    /name different databases/,
  );
});

test("events read back: messageId in the Emmett layout, eventId in streamdoc's", async () => {
  for (const [layout, id, absent] of [
    ["emmett", "messageId", "eventId"],
    ["streamdoc", "eventId", "messageId"],
  ]) {
    const store = new EventStore({ layout });
    await store.appendToStream("shopping_cart:1", [added("a", 1)]);
    const [event] = (await store.readStream("shopping_cart:1")).events;
    assert.equal(typeof event.metadata[id], "string", layout);
    assert.equal(event.metadata[absent], undefined, layout);
    assert.equal(event.metadata.streamName, "shopping_cart:1");
    assert.equal(event.metadata.streamPosition, 1n);
    // Emmett's in-memory store also gives `kind: "Event"` and `metadata.globalPosition`; streamdoc gives `recordedAt`.
    assert.equal(event.kind, undefined);
    assert.ok(event.metadata.recordedAt instanceof Date);
  }
});

test("bare stream ids, as Emmett applications often use, with a default stream type", async () => {
  // Without one, a name with no colon is refused: streamdoc cannot tell its collection.
  await assert.rejects(new EventStore().appendToStream("7f3a", [added("a", 1)]), InvalidStreamNameError);
  const results = await same(async (make, name) => {
    const store = name === "streamdoc" ? make({ defaultStreamType: "shopping_cart" }) : make();
    await CommandHandler(cart)(store, "7f3a", () => added("a", 1));
    await CommandHandler(cart)(store, "7f3a", () => added("b", 2));
    const { state } = await store.aggregateStream("7f3a", cart);
    const { events } = await store.readStream("7f3a");
    return { state, names: events.map((e) => e.metadata.streamName), positions: events.map((e) => e.metadata.streamPosition) };
  });
  assert.deepEqual(results.names, ["7f3a", "7f3a"]);
  assert.deepEqual(results.positions, [1n, 2n]);
  // The stream lives in the default type's collection, with the whole name as its id.
  const store = new EventStore({ layout: "emmett", defaultStreamType: "shopping_cart", commandLog: true });
  await store.appendToStream("7f3a", [added("a", 1)]);
  const write = store.commandLog().find((e) => /updateOne/.test(e.command));
  assert.match(write.command, /getCollection\("emt:shopping_cart"\)/);
  assert.match(write.command, /"metadata.streamType": "shopping_cart"/);
  assert.match(write.command, /"metadata.streamId": "7f3a"/);
  assert.throws(() => new EventStore({ defaultStreamType: "a:b" }), /default stream type/);
});
