// The gallery: sessions to start from, each a few operations or a race with a schedule.
import { packageRace, raceStateOf } from "./package-races";
import { scheduleFor } from "./schedules";
import {
  type AppendOp,
  DEFAULT_SEGMENT_BYTES,
  defaultRace,
  emptySession,
  type RaceState,
  type Session,
  type ViewId,
} from "./session";

export interface Scenario {
  id: string;
  title: string;
  /** What a person sees in it, in a sentence or two. */
  blurb: string;
  view: ViewId;
  build: (base: Session) => Session;
}

const append = (stream: string, type: string, data: object, expected: AppendOp["expected"]): AppendOp => ({
  op: "append",
  stream,
  type,
  data: JSON.stringify(data, null, 2),
  metadata: "{}",
  expected,
});

/** A race scenario: its clients, and a schedule of whole operations in this order. */
function race(base: Session, patch: Partial<RaceState>, operations: number[]): Session {
  const r: RaceState = { ...defaultRace(), ...patch };
  return { ...base, race: { ...r, schedule: scheduleFor(r, { kind: "operations", order: operations }), step: 0 } };
}

/** A race of the package's gallery (`races()`), as it defines it (setup, retries, schedule, lost replies). */
function packageScenario(id: string, title: string, blurb: string): Scenario {
  return {
    id,
    title: packageRace(id)?.title ?? title,
    blurb,
    view: "race",
    build: (base) => {
      const race = raceStateOf(id);
      return race ? { ...base, race } : base;
    },
  };
}

export const SCENARIOS: Scenario[] = [
  {
    id: "cart",
    title: "A shopping cart",
    blurb: "Four appends at exact versions and a read: one stream, one document, its events in order.",
    view: "documents",
    build: (base) => ({
      ...base,
      ops: [
        append("cart:alice", "CartOpened", { currency: "EUR" }, "noStream"),
        append("cart:alice", "ItemAdded", { sku: "tea-earl-grey", quantity: 2, price: 4.5 }, 1),
        append("cart:alice", "ItemAdded", { sku: "mug-blue", quantity: 1, price: 12 }, 2),
        append("cart:alice", "CheckedOut", { total: 21 }, 3),
        { op: "read", stream: "cart:alice" },
      ],
    }),
  },
  {
    id: "first-append",
    title: "The racing first append",
    blurb:
      "Two writers create the same stream at once. Both upserts match nothing; the unique index on streamName turns the second insert into E11000, reported as a conflict.",
    view: "race",
    build: (base) =>
      race(
        base,
        {
          stream: "order:1",
          clients: [
            { name: "a", ops: [{ op: "append", expected: "noStream", type: "OrderPlaced" }] },
            { name: "b", ops: [{ op: "append", expected: "noStream", type: "OrderPlaced" }] },
          ],
        },
        [],
      ),
  },
  {
    id: "stale-writer",
    title: "A stale writer",
    blurb:
      "b reads the stream at version 1, a appends in the meantime, and b's append at version 1 matches nothing: a conflict, nothing lost.",
    view: "race",
    build: (base) =>
      race(
        base,
        {
          stream: "order:7",
          clients: [
            {
              name: "a",
              ops: [
                { op: "append", expected: "noStream", type: "OrderPlaced" },
                { op: "append", expected: 1, type: "OrderPaid" },
              ],
            },
            { name: "b", ops: [{ op: "read" }, { op: "append", expected: 1, type: "OrderCancelled" }] },
          ],
        },
        [0, 1, 0, 1],
      ),
  },
  {
    id: "wall",
    title: "The 16 MiB wall",
    blurb:
      "Sixteen events of a million characters each fill a stream's document to 95% of MongoDB's limit; the next append is refused and the stream is unchanged.",
    view: "documents",
    build: (base) => ({
      ...base,
      ops: [
        { ...append("blob:1", "ChunkStored", { part: "one of many" }, "any"), pad: 1_000_000, repeat: 16 },
        { ...append("blob:1", "ChunkStored", { part: "one too many" }, "any"), pad: 1_000_000 },
      ],
    }),
  },
  {
    id: "wall-segments",
    title: "The 16 MiB wall, in segments",
    blurb:
      "The same seventeen appends on a store with segments of at most 12 MiB: the append that would take the first segment past it seals that segment and opens segment 1 (two conditional commands in the log), and the append the wall refused lands there. Two documents, one stream.",
    view: "documents",
    build: (base) => ({
      ...base,
      config: { ...base.config, segments: { enabled: true, maxBytes: DEFAULT_SEGMENT_BYTES } },
      ops: [
        { ...append("blob:1", "ChunkStored", { part: "one of many" }, "any"), pad: 1_000_000, repeat: 16 },
        { ...append("blob:1", "ChunkStored", { part: "one too many" }, "any"), pad: 1_000_000 },
      ],
    }),
  },
  {
    id: "close-the-books",
    title: "Closing the books",
    blurb:
      "A cashier's shift sells twice, then is closed into the next shift, which starts with a summary. The closed shift is sealed and archived (a tombstone stays), refuses a late sale, and is read back from the archive.",
    view: "operate",
    build: (base) => ({
      ...base,
      ops: [
        append("shift:1", "Sold", { amount: 5 }, "noStream"),
        append("shift:1", "Sold", { amount: 7 }, 1),
        {
          op: "closeStream",
          stream: "shift:1",
          successor: "shift:2",
          summary: JSON.stringify({ type: "ShiftOpened", data: { carriedOver: 12 } }, null, 2),
          expected: 2,
        },
        append("shift:1", "Sold", { amount: 1 }, "any"),
        { op: "status", stream: "shift:1" },
        { op: "status", stream: "shift:2" },
        { op: "read", stream: "shift:1", fromArchive: true },
      ],
    }),
  },
  {
    id: "archive-race",
    title: "An archive racing an append",
    blurb:
      "a creates the stream and appends again at version 1; b archives it with no check in between. Whichever command lands first decides: here the archive seals the stream at version 1 and a's second append is refused as archived (move a first to see the archive take both events).",
    view: "race",
    build: (base) =>
      race(
        base,
        {
          stream: "order:5",
          clients: [
            {
              name: "a",
              ops: [
                { op: "append", expected: "noStream", type: "OrderPlaced" },
                { op: "append", expected: 1, type: "OrderPaid" },
              ],
            },
            { name: "b", ops: [{ op: "archive", expected: "any" }, { op: "status" }] },
          ],
        },
        [0, 1, 0, 1],
      ),
  },
  {
    id: "emmett",
    title: "An Emmett-layout stream",
    blurb: "The same appends in the layout of @event-driven-io/emmett-mongodb: messageId, emt: collections.",
    view: "documents",
    build: (base) => ({
      ...base,
      config: { ...base.config, layout: "emmett" },
      ops: [
        append("shopping_cart:1", "ProductItemAdded", { productId: "p-1", quantity: 3 }, "noStream"),
        append("shopping_cart:1", "ShoppingCartConfirmed", { confirmedAt: "2026-01-01" }, 1),
      ],
    }),
  },
  packageScenario(
    "lost-reply",
    "A lost reply and its retry",
    "Two writers create the same stream; a's write is applied but its reply is lost. a retries with the same event id and finds its own event: success once, not a duplicate (switch the design to the blind retry to see the duplicate).",
  ),
  packageScenario(
    "read-then-append",
    "Read, then append with no check",
    "Two writers append with no expected version: each reads the position, then appends at it; the loser re-reads and appends after. With a lost reply (the explorer's faults), such a retry can duplicate.",
  ),
  packageScenario(
    "four-writers",
    "Four writers, one stream",
    "Four writers create the same stream at once: one wins, three get E11000 and report a conflict. Check all 43,920 schedules.",
  ),
  packageScenario(
    "five-writers",
    "Five writers, one stream",
    "The same race with five writers: 15,220,800 schedules, checked through the fewer than 2,000 distinct states they reach.",
  ),
];

/** The session of a scenario, fresh. */
export function scenarioSession(scenario: Scenario, now = Date.now()): Session {
  const base = emptySession(now);
  return { ...scenario.build(base), scenario: scenario.id, view: scenario.view };
}
