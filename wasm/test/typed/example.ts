// A typed usage example of the published types, compiled with `tsc --strict` in a fresh
// project by the packaging test (and run there). Every line that must NOT compile is
// marked `@ts-expect-error`, so the types are checked in both directions.
import {
  ConcurrencyConflictError,
  Engine,
  EventStore,
  STREAM_DOES_NOT_EXIST,
  Simulation,
  StreamdocError,
  ProjectionError,
  InvalidQueryError,
  SubscriptionError,
  StreamArchivedError,
  type AggregateStreamResult,
  type ArchiveStreamResult,
  type CloseStreamResult,
  type StreamStatus,
  type Batch,
  type SubscribeOptions,
  type Subscription,
  type SubscriptionStats,
  type InlineProjectionDefinition,
  type ReadModel,
  type ClientScript,
  type Command,
  type Executor,
  type NewEvent,
  type RecordedEvent,
  type Reply,
} from "streamdoc";
import { mongoExecutor } from "streamdoc/mongodb";
import type { MongoClient } from "mongodb";

type OrderPlaced = NewEvent<"OrderPlaced", { total: number; currency: string }>;
type OrderPaid = NewEvent<"OrderPaid", { method: "card" | "cash" }>;
type OrderEvent = RecordedEvent<"OrderPlaced", { total: number; currency: string }> | RecordedEvent<"OrderPaid", { method: "card" | "cash" }>;

interface Order {
  total: number;
  paid: boolean;
}

interface Summary {
  total: number;
  lines: number;
}
type CartEvent = RecordedEvent<"ItemAdded", { price: number }> | RecordedEvent<"CartCleared", { reason: string }>;

/** An inline projection, typed: its state and the events it handles. */
const summary: InlineProjectionDefinition<Summary, CartEvent> = {
  name: "summary",
  canHandle: ["ItemAdded", "CartCleared"],
  initialState: () => ({ total: 0, lines: 0 }),
  // With an initial state, the state is never null.
  evolve: (state: Summary, event) => {
    switch (event.type) {
      case "ItemAdded":
        return { total: state.total + event.data.price, lines: state.lines + 1 };
      case "CartCleared":
        return null;
    }
  },
  indexes: [{ total: -1 }],
};

async function projections(): Promise<number> {
  const store = new EventStore({
    projections: [
      summary,
      // Without initialState the first state is null: the parameter says so.
      { type: "inline", projection: { name: "notes", canHandle: ["Noted"], evolve: (state: { notes: number } | null) => ({ notes: (state?.notes ?? 0) + 1 }) } },
    ],
  });
  await store.appendToStream("cart:1", [{ type: "ItemAdded", data: { price: 5 } }, { type: "ItemAdded", data: { price: 7 } }]);
  const model: ReadModel<Summary> | null = await store.readModel<Summary>("cart:1", "summary");
  const position: bigint | undefined = model?._metadata.streamPosition;
  const found: ReadModel<Summary>[] = await store.projections.inline.find<Summary>(
    { streamType: "cart", projectionName: "summary" },
    { total: { $gte: 10 } },
    { sort: { total: -1 }, limit: 10 },
  );
  const one = await store.projections.inline.findOne<Summary>({ streamName: "cart:1", projectionName: "summary" });
  const count: number = await store.projections.inline.count({ streamNames: ["cart:1"], projectionName: "summary" });
  const rebuilt: bigint = (await store.rebuildReadModels("cart:1")).streamPosition;
  const streams: number = (await store.rebuildAllReadModels("cart", "summary")).streams;
  // @ts-expect-error findOne takes a stream name, or a stream type (and id): not both
  await store.projections.inline.findOne({ streamName: "cart:1", streamType: "cart" }).catch(() => undefined);
  // @ts-expect-error sort directions are 1 or -1
  await store.projections.inline.find({ streamType: "cart" }, {}, { sort: { total: 2 } }).catch(() => undefined);
  const refused = await store.projections.inline.find({ streamType: "cart" }, { $where: "1" }).catch((e: unknown) => e);
  if (!(refused instanceof InvalidQueryError) || refused.errorCode !== 400) throw new Error("expected an InvalidQueryError");
  const broken = new EventStore({ projections: [{ canHandle: ["X"], evolve: () => { throw new Error("no"); } }] });
  const failed = await broken.appendToStream("cart:1", [{ type: "X" }]).catch((e: unknown) => e);
  if (!(failed instanceof ProjectionError) || failed.projection !== "_default") throw new Error("expected a ProjectionError");
  void [position, one, rebuilt, streams];
  return (model?.total ?? 0) + found.length + count;
}

export async function main(): Promise<string> {
  let now = Date.UTC(2026, 0, 1);
  const store = new EventStore({ database: "shop", layout: "emmett", clock: () => (now += 1000), idSeed: 1n });

  const placed: OrderPlaced = { type: "OrderPlaced", data: { total: 42, currency: "EUR" } };
  const created = await store.appendToStream<OrderPlaced>("order:1", [placed], { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
  const version: bigint = created.nextExpectedStreamVersion;
  const paid: OrderPaid = { type: "OrderPaid", data: { method: "card" } };
  await store.appendToStream("order:1", [paid], { expectedStreamVersion: version });

  // @ts-expect-error versions are bigint, not number
  await store.appendToStream("order:1", [paid], { expectedStreamVersion: 1 }).catch(() => undefined);
  // @ts-expect-error only the three constants are accepted as words
  await store.appendToStream("order:1", [paid], { expectedStreamVersion: "ANY" }).catch(() => undefined);

  try {
    await store.appendToStream("order:1", [paid], { expectedStreamVersion: version });
  } catch (error) {
    if (!(error instanceof ConcurrencyConflictError)) throw error;
    const actual: bigint | null = error.actual;
    const kind: "ConcurrencyConflict" = error.kind;
    void [actual, kind];
  }

  const read = await store.readStream<OrderEvent>("order:1", { from: 1n, maxCount: 10n });
  const first = read.events[0];
  if (first && first.type === "OrderPlaced") {
    const total: number = first.data.total;
    // The system fields are in `metadata`, beside the caller's.
    const position: bigint = first.metadata.streamPosition;
    const stream: string = first.metadata.streamName;
    const id: string | undefined = first.metadata.eventId;
    void [total, position, stream, id];
  }

  const order: AggregateStreamResult<Order> = await store.aggregateStream<Order, OrderEvent>("order:1", {
    initialState: () => ({ total: 0, paid: false }),
    evolve: (state, event) => {
      switch (event.type) {
        case "OrderPlaced":
          return { ...state, total: event.data.total };
        case "OrderPaid":
          return { ...state, paid: true };
      }
    },
  });

  // A custom executor: any function from a command to a reply.
  const engine = new Engine({ sliceProjection: false });
  const log: string[] = [];
  const executor: Executor = async (command: Command): Promise<Reply> => {
    log.push(`${command.kind} ${command.database}.${command.collection}`);
    return engine.execute(command);
  };
  const shared = new EventStore({ executor, storage: { kind: "custom", resolve: (s) => ({ database: `t_${s.id}`, collection: s.type }) } });
  await shared.appendToStream("cart:1", [{ type: "ItemAdded", data: { sku: "x", at: new Date(0), qty: 2n } }]);
  const exists: boolean = await shared.streamExists("cart:1");

  const racer = (name: string): ClientScript => ({
    name,
    ops: [{ op: "append", stream: "order:9", events: [{ type: "OrderPlaced" }], expected: STREAM_DOES_NOT_EXIST }],
  });
  const report = new Simulation({ clients: [racer("a"), racer("b")] }).explore({ limit: 100 });
  const schedules: number = report.schedules;

  const err: StreamdocError | undefined = undefined;
  void err;
  const readModels = await projections();
  const subscriptions = await subscribed();
  const archived = await archiving();
  return JSON.stringify({ total: order.state.total, paid: order.state.paid, exists, schedules, commands: log.length, readModels, subscriptions, archived });
}

/** A subscription: typed batches, stats and the error class; 3 when it ran. */
async function subscribed(): Promise<number> {
  const store = new EventStore();
  await store.appendToStream("order:1", [{ type: "OrderPlaced", data: { total: 1, currency: "EUR" } }]);
  const positions: bigint[] = [];
  const options: SubscribeOptions = { consumer: "mailer", streamType: "order", manual: true, batchSize: 10 };
  const sub: Subscription = store.subscribe<OrderEvent>(options, async (batch: Batch<OrderEvent>) => {
    for (const e of batch.events) {
      if (e.type === "OrderPlaced") positions.push(batch.after + e.metadata.streamPosition);
    }
  });
  const delivered: number = await sub.catchUp();
  const stats: SubscriptionStats = sub.stats();
  const wrong = () => {
    // @ts-expect-error: the source is "auto", "changeStream" or "polling"
    store.subscribe({ consumer: "x", source: "push" }, () => {});
    // @ts-expect-error: the consumer is required
    store.subscribe({ streamType: "order" }, () => {});
  };
  void wrong;
  const reason = (e: unknown): string | null => (e instanceof SubscriptionError ? e.reason : null);
  void reason;
  await sub.stop();
  await sub.done;
  return delivered + positions.length + stats.batches;
}

type Sale = RecordedEvent<"Sold", { amount: number }>;

/** Archiving and closing the books, typed: 12 (the carried-over total) when it ran. */
async function archiving(): Promise<number> {
  const store = new EventStore({ archive: { suffix: "_archive" } });
  await store.appendToStream("shift:1", [{ type: "Sold", data: { amount: 5 } }, { type: "Sold", data: { amount: 7 } }]);
  const closed: CloseStreamResult = await store.closeStream<Sale>("shift:1", {
    successor: "shift:2",
    expectedStreamVersion: 2n,
    summary: ({ events }) => ({ type: "ShiftOpened", data: { carriedOver: events.reduce((n, e) => n + e.data.amount, 0) } }),
  });
  const status: StreamStatus = await store.streamStatus("shift:2");
  const from: string | undefined = status.predecessor?.streamName;
  const late = await store.appendToStream("shift:1", [{ type: "Sold" }]).catch((e: unknown) => e);
  if (!(late instanceof StreamArchivedError) || late.position !== closed.closedAt || late.successor !== "shift:2") {
    throw new Error("expected a StreamArchivedError");
  }
  const old = await store.readStream<Sale>("shift:1", { fromArchive: true });
  const archived: ArchiveStreamResult = await store.archiveStream("shift:2", { expectedStreamVersion: closed.nextExpectedStreamVersion });
  const wrong = () => {
    // @ts-expect-error: a summary is an event or a function, not a string
    void store.closeStream("shift:3", { successor: "shift:4", summary: "ShiftOpened" });
    // @ts-expect-error: the successor is required
    void store.closeStream("shift:3", { summary: { type: "ShiftOpened" } });
    // @ts-expect-error: the archive is a suffix or a database
    new EventStore({ archive: { prefix: "old_" } });
    // @ts-expect-error: aggregateStream does not read the archive
    void store.aggregateStream("shift:1", { initialState: () => 0, evolve: (n: number) => n, read: { fromArchive: true } });
  };
  void [wrong, from, old, archived];
  const [opened] = (await store.readStream<RecordedEvent<"ShiftOpened", { carriedOver: number }>>("shift:2", { fromArchive: true })).events;
  return opened?.data.carriedOver ?? 0;
}

/** Typed against the driver's MongoClient; not run (no server here). */
export function onMongo(client: MongoClient): EventStore {
  return new EventStore({ database: "app", executor: mongoExecutor(client) });
}
