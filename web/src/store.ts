// The page's event store: the package's `EventStore` on the package's in-memory `Engine`,
// through an executor that counts the commands so that each command of the store's log
// is tied to the operation that sent it. The page decides nothing here: it translates the
// form's choices into the package's options and replays the session's operations.
import {
  Engine,
  EventStore,
  type EventStoreOptions,
  type Executor,
  type ExpectedStreamVersion,
  NO_CONCURRENCY_CHECK,
  type RecordedEvent,
  STREAM_DOES_NOT_EXIST,
  STREAM_EXISTS,
  type StorageOption,
  type StoredDocuments,
} from "streamdoc";
import type { AppendOp, Expected, ReadOp, Session, StoreConfig, StoreOp } from "./session";
import { errorInWords } from "./words";

/** One command the store sent: the operation (index in the session) and the step that sent it. */
export interface LoggedCommand {
  op: number;
  step: string;
  command: string;
  reply: string;
}

export type OpOutcome =
  | { ok: true; text: string; read?: { version: bigint; exists: boolean; events: RecordedEvent[] } }
  | { ok: false; text: string };

/** The package's expected version for the form's choice. */
export function expectedVersion(expected: Expected): ExpectedStreamVersion {
  if (typeof expected === "number") return BigInt(expected);
  if (expected === "noStream") return STREAM_DOES_NOT_EXIST;
  if (expected === "exists") return STREAM_EXISTS;
  return NO_CONCURRENCY_CHECK;
}

/** Compiles the custom storage's source into the package's resolver (throws in words). */
export function customResolver(source: string): (stream: { name: string; type: string; id: string }) => {
  database: string;
  collection: string;
} {
  let fn: unknown;
  try {
    fn = new Function(`"use strict"; return (${source}\n);`)();
  } catch (e) {
    throw new Error(`the custom storage function does not compile: ${(e as Error).message}`);
  }
  if (typeof fn !== "function") throw new Error("the custom storage must be a function of { name, type, id }");
  const resolve = fn as ReturnType<typeof customResolver>;
  return (stream) => {
    try {
      return resolve(stream);
    } catch (e) {
      throw new Error(`the custom storage function failed for ${stream.name}: ${(e as Error)?.message ?? e}`);
    }
  };
}

export function storageOption(config: StoreConfig): StorageOption {
  switch (config.storage) {
    case "single":
      return { kind: "single" };
    case "custom":
      return { kind: "custom", resolve: customResolver(config.custom) };
    default:
      return { kind: "perStreamType" };
  }
}

/** Keeps this many of the store's last commands: more than one operation sends. */
const LOG_WINDOW = 64;

/** Another place for the store's commands than the page's engine (a host's scratch database). */
export interface Remote {
  executor: Executor;
  /** The database of the per-type and single storages. */
  database: string;
}

/** The session's store: one engine (or a remote executor), one `EventStore`, and the commands it sent. */
export class PageStore {
  readonly engine = new Engine();
  readonly commands: LoggedCommand[] = [];
  private readonly store: EventStore;
  private sent = 0;

  constructor(session: Pick<Session, "config" | "epoch" | "seed">, remote?: Remote) {
    let tick = 0;
    const execute: Executor = remote?.executor ?? ((command) => this.engine.execute(command));
    const options: EventStoreOptions = {
      ...(remote && session.config.storage !== "custom" ? { database: remote.database } : {}),
      layout: session.config.layout,
      storage: storageOption(session.config),
      executor: (command) => {
        this.sent++;
        return execute(command);
      },
      commandLog: LOG_WINDOW,
      idSeed: session.seed,
      // One second a call from the session's start: a replay gives the same documents.
      clock: () => session.epoch + 1000 * tick++,
    };
    this.store = new EventStore(options);
  }

  /** Runs one operation (the session's `index`-th), logging its commands. */
  async run(op: StoreOp, index: number): Promise<OpOutcome> {
    try {
      return op.op === "append" ? await this.append(op, index) : await this.read(op, index);
    } catch (e) {
      return { ok: false, text: errorInWords(e) };
    }
  }

  private async logged<T>(index: number, action: () => Promise<T>): Promise<T> {
    const before = this.sent;
    try {
      return await action();
    } finally {
      const count = this.sent - before;
      if (count > 0) {
        const entries = this.store.commandLog().slice(-count);
        for (const entry of entries) this.commands.push({ op: index, ...entry });
      }
    }
  }

  private async append(op: AppendOp, index: number): Promise<OpOutcome> {
    const data = parseJson(op.data, "data");
    const metadata = parseJson(op.metadata, "metadata");
    if (op.pad) data.padding = "x".repeat(op.pad);
    const repeat = Math.max(1, op.repeat ?? 1);
    let last = { nextExpectedStreamVersion: 0n, createdNewStream: false };
    for (let i = 0; i < repeat; i++) {
      const event = { type: op.type, data, ...(Object.keys(metadata).length > 0 ? { metadata } : {}) };
      last = await this.logged(index, () =>
        this.store.appendToStream(op.stream, [event], { expectedStreamVersion: expectedVersion(op.expected) }),
      );
    }
    const created = last.createdNewStream ? `created ${op.stream}; ` : "";
    const times = repeat > 1 ? `${repeat} events appended` : "appended";
    return { ok: true, text: `${created}${times}: ${op.stream} is at version ${last.nextExpectedStreamVersion}.` };
  }

  private async read(op: ReadOp, index: number): Promise<OpOutcome> {
    const range = {
      ...(op.from !== undefined ? { from: BigInt(op.from) } : {}),
      ...(op.to !== undefined ? { to: BigInt(op.to) } : {}),
      ...(op.maxCount !== undefined ? { maxCount: BigInt(op.maxCount) } : {}),
    };
    const result = await this.logged(index, () => this.store.readStream(op.stream, range));
    const read = { version: result.currentStreamVersion, exists: result.streamExists, events: result.events };
    if (!result.streamExists) {
      return { ok: true, text: `${op.stream} does not exist yet (version 0): no events.`, read };
    }
    const count = result.events.length === 1 ? "1 event" : `${result.events.length} events`;
    return {
      ok: true,
      text: `read ${count} of ${op.stream}, which is at version ${result.currentStreamVersion}.`,
      read,
    };
  }

  documents(): StoredDocuments {
    return this.engine.documents();
  }

  free(): void {
    this.store.free();
    this.engine.free();
  }
}

function parseJson(text: string, what: string): Record<string, unknown> {
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`the ${what} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`the ${what} must be a JSON object, like {"total": 42}`);
  }
  return value as Record<string, unknown>;
}

/** What replaying a session gives. */
export interface Replay {
  store: PageStore | null;
  outcomes: OpOutcome[];
  /** Why no store could be made (a custom storage function that does not compile). */
  configError: string | null;
}

/** A new store with the session's configuration, and every operation of the session run on it. */
export async function replay(session: Session, remote?: Remote): Promise<Replay> {
  let store: PageStore;
  try {
    store = new PageStore(session, remote);
  } catch (e) {
    const configError = errorInWords(e);
    // Every operation fails for the same reason: it is said on each.
    return { store: null, outcomes: session.ops.map(() => ({ ok: false, text: configError })), configError };
  }
  const outcomes: OpOutcome[] = [];
  for (const [index, op] of session.ops.entries()) outcomes.push(await store.run(op, index));
  return { store, outcomes, configError: null };
}
