// The calls browser.test.mjs makes through the package's browser build in Chromium and
// through its Node build in Node. Plain JavaScript with no imports, so that the page
// loads it as it is: it takes the package's module namespace and returns plain JSON.
// A fixed clock and id seed make both runs produce the same events and documents.

/** Runs the scenario on `streamdoc` (the package's exports); resolves to JSON-safe data. */
export async function scenario(streamdoc) {
  const { ConcurrencyConflictError, EventStore, STREAM_DOES_NOT_EXIST, Simulation } = streamdoc;
  let now = Date.UTC(2026, 0, 1);
  const store = new EventStore({ clock: () => (now += 1000), idSeed: 42, commandLog: true });
  const placed = (total) => ({ type: "OrderPlaced", data: { total, lines: [{ sku: "A-1", qty: 2 }], note: "née" } });

  const created = await store.appendToStream("order:1", [placed(42)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  const next = await store.appendToStream("order:1", [{ type: "OrderPaid", data: { amount: 42.5, big: 2n ** 40n } }], {
    expectedStreamVersion: 1n,
  });
  const conflict = await store
    .appendToStream("order:1", [placed(7)], { expectedStreamVersion: STREAM_DOES_NOT_EXIST })
    .then(() => null, (error) => ({ isConflictClass: error instanceof ConcurrencyConflictError, ...describe(error) }));
  const read = await store.readStream("order:1");
  const aggregated = await store.aggregateStream("order:1", {
    initialState: () => ({ total: 0, events: 0 }),
    evolve: (state, event) => ({ total: state.total + (event.data.total ?? 0), events: state.events + 1 }),
  });

  // Two clients racing to create the same stream: every interleaving, then one of them.
  const racer = (name) => ({
    name,
    ops: [{ op: "append", stream: "order:9", events: [{ type: "OrderPlaced", data: { by: name } }], expected: STREAM_DOES_NOT_EXIST }],
  });
  const exploration = new Simulation({ clients: [racer("a"), racer("b")] }).explore();
  const sim = new Simulation({ clients: [racer("a"), racer("b")] });
  sim.run([0, 1, 1, 0]);

  return toJson({
    created,
    next,
    conflict,
    read,
    aggregated,
    documents: store.documents(),
    commandLog: store.commandLog(),
    exploration,
    simulation: {
      trace: sim.trace(),
      outcomes: sim.outcomes(),
      documents: sim.documents(),
      violations: sim.checkInvariants(),
    },
  });
}

/** An error's class name and its own fields (the store's errors carry their details there). */
function describe(error) {
  return { name: error.name, message: error.message, ...error };
}

/**
 * `value` as JSON data: bigints become `"<digits>n"` (so they stay apart from numbers
 * and strings), Dates ISO strings, errors `describe`d, typed arrays number arrays.
 */
export function toJson(value) {
  return JSON.parse(
    JSON.stringify(value, (_, v) => {
      if (typeof v === "bigint") return `${v}n`;
      if (v instanceof Error) return describe(v);
      if (ArrayBuffer.isView(v)) return Array.from(v);
      return v;
    }),
  );
}
