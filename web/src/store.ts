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
  type NewEvent,
  NO_CONCURRENCY_CHECK,
  type ProjectionOption,
  type RecordedEvent,
  STREAM_DOES_NOT_EXIST,
  STREAM_EXISTS,
  type StorageOption,
  type StoredDocuments,
} from "streamdoc";
import type {
  AppendOp,
  ArchiveOp,
  CloseOp,
  Expected,
  ProjectionConfig,
  ReadOp,
  Session,
  StatusOp,
  StoreConfig,
  StoreOp,
} from "./session";
import { errorInWords, statusInWords } from "./words";

/** One command the store sent: the operation (index in the session) and the step that sent it. */
export interface LoggedCommand {
  op: number;
  step: string;
  command: string;
  reply: string;
}

/** What an append did to the page's read model: its projection's name and what the update did to it. */
export interface ReadModelChange {
  projection: string;
  change: "written" | "deleted" | "unchanged";
}

export type OpOutcome =
  | {
      ok: true;
      text: string;
      read?: { version: bigint; exists: boolean; events: RecordedEvent[] };
      readModel?: ReadModelChange;
    }
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

/** The page's projection, compiled: the package's option and the name of its read model. */
export interface CompiledProjection {
  /** `projections.<name>` in the stream document (the package's default name when it gives none). */
  name: string;
  option: ProjectionOption;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * Compiles the projection's source (one options object, as the package's `projections`
 * option takes it: bare, or Emmett's `{ type: "inline", projection }`) into that option;
 * throws in words. Its `evolve` is called by the package as written; the page only sees
 * what it returned (`onEvolve(deleted)`), to say what the append did to the read model.
 * What the package refuses in the object (a missing `canHandle`, an unknown key, a name
 * with a dot) the package says when the store is made.
 */
export function compileProjection(source: string, onEvolve: (deleted: boolean) => void = () => {}): CompiledProjection {
  let make: () => unknown;
  try {
    make = new Function(`"use strict"; return (${source}\n);`) as () => unknown;
  } catch (e) {
    throw new Error(`the projection does not compile: ${(e as Error).message}`);
  }
  let value: unknown;
  try {
    value = make();
  } catch (e) {
    throw new Error(`the projection's source failed when run: ${(e as Error)?.message ?? e}`);
  }
  const shape = "one projection options object, like ({ name, canHandle: [...], evolve(state, event) { ... } })";
  if (!isObject(value)) throw new Error(`the projection must be ${shape}`);
  const registered = value.type !== undefined || value.projection !== undefined;
  const definition = registered ? value.projection : value;
  if (!isObject(definition)) return { name: "_default", option: value as ProjectionOption };
  const name = typeof definition.name === "string" ? definition.name : "_default";
  const observed: Record<string, unknown> = { ...definition };
  const { evolve, initialState } = definition;
  if (typeof evolve === "function") {
    observed.evolve = (state: unknown, event: unknown) => {
      const returned = evolve.call(null, state, event);
      onEvolve(returned === null || returned === undefined);
      return returned;
    };
  }
  if (typeof initialState === "function") {
    observed.initialState = () => {
      try {
        return initialState.call(null);
      } catch (e) {
        throw new Error(`the projection's initialState threw: ${(e as Error)?.message ?? e}`);
      }
    };
  }
  const option = (registered ? { ...value, projection: observed } : observed) as unknown as ProjectionOption;
  return { name, option };
}

/** The package's refusal of the projection's options object, in words (`null`: not about the projection). */
function projectionRefusal(e: unknown): Error | null {
  const message = e instanceof TypeError ? e.message : "";
  const found = /^options\.projections\[0\](?:\.projection)?/.exec(message);
  if (!found) return null;
  const rest = message.slice(found[0].length);
  const said = rest.startsWith(".") ? `its ${rest.slice(1)}` : rest.startsWith(": ") ? rest.slice(2) : `it${rest}`;
  return new Error(`the projection is refused: ${said}`);
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
  /** The read model's projection, when the configuration has one on. */
  readonly projection: CompiledProjection | null;
  private readonly store: EventStore;
  private sent = 0;
  /** What the projection's evolve last returned during the current append (`null`: not called). */
  private evolved: "written" | "deleted" | null = null;

  constructor(session: Pick<Session, "config" | "epoch" | "seed">, remote?: Remote) {
    let tick = 0;
    const execute: Executor = remote?.executor ?? ((command) => this.engine.execute(command));
    try {
      this.projection = projectionOf(session.config.projection, (deleted) => {
        this.evolved = deleted ? "deleted" : "written";
      });
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
        ...(this.projection ? { projections: [this.projection.option] } : {}),
        ...(session.config.segments?.enabled ? { segments: { maxBytes: session.config.segments.maxBytes } } : {}),
      };
      this.store = new EventStore(options);
    } catch (e) {
      // No store to hand back: the engine made for it is freed here.
      this.engine.free();
      throw (session.config.projection?.enabled && projectionRefusal(e)) || e;
    }
  }

  /** Runs one operation (the session's `index`-th), logging its commands. */
  async run(op: StoreOp, index: number): Promise<OpOutcome> {
    try {
      switch (op.op) {
        case "append":
          return await this.append(op, index);
        case "read":
          return await this.read(op, index);
        case "archive":
          return await this.archive(op, index);
        case "closeStream":
          return await this.close(op, index);
        default:
          return await this.status(op, index);
      }
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
    let evolved: "written" | "deleted" | null = null;
    for (let i = 0; i < repeat; i++) {
      const event = { type: op.type, data, ...(Object.keys(metadata).length > 0 ? { metadata } : {}) };
      this.evolved = null;
      last = await this.logged(index, () =>
        this.store.appendToStream(op.stream, [event], { expectedStreamVersion: expectedVersion(op.expected) }),
      );
      evolved = this.evolved ?? evolved;
    }
    const created = last.createdNewStream ? `created ${op.stream}; ` : "";
    const times = repeat > 1 ? `${repeat} events appended` : "appended";
    const text = `${created}${times}: ${op.stream} is at version ${last.nextExpectedStreamVersion}.`;
    if (this.projection === null) return { ok: true, text };
    const readModel: ReadModelChange = { projection: this.projection.name, change: evolved ?? "unchanged" };
    return { ok: true, text: `${text} ${readModelInWords(readModel)}`, readModel };
  }

  private async read(op: ReadOp, index: number): Promise<OpOutcome> {
    const range = {
      ...(op.from !== undefined ? { from: BigInt(op.from) } : {}),
      ...(op.to !== undefined ? { to: BigInt(op.to) } : {}),
      ...(op.maxCount !== undefined ? { maxCount: BigInt(op.maxCount) } : {}),
      ...(op.fromArchive ? { fromArchive: true } : {}),
    };
    const result = await this.logged(index, () => this.store.readStream(op.stream, range));
    const read = { version: result.currentStreamVersion, exists: result.streamExists, events: result.events };
    if (!result.streamExists) {
      const text = op.fromArchive
        ? `${op.stream} is not in the archive: no events.`
        : `${op.stream} does not exist yet (version 0): no events.`;
      return { ok: true, text, read };
    }
    const count = result.events.length === 1 ? "1 event" : `${result.events.length} events`;
    const where = op.fromArchive ? " from the archive" : "";
    return {
      ok: true,
      text: `read ${count} of ${op.stream}${where}, which is at version ${result.currentStreamVersion}.`,
      read,
    };
  }

  private async archive(op: ArchiveOp, index: number): Promise<OpOutcome> {
    const result = await this.logged(index, () =>
      this.store.archiveStream(op.stream, { expectedStreamVersion: expectedVersion(op.expected) }),
    );
    const next = result.successor ? `, continued by ${result.successor}` : "";
    return {
      ok: true,
      text: `archived ${op.stream} at version ${result.streamPosition}${next}: its events are in the archive collection, a tombstone stays.`,
    };
  }

  private async close(op: CloseOp, index: number): Promise<OpOutcome> {
    const summary = parseJson(op.summary, "summary") as unknown as NewEvent;
    const result = await this.logged(index, () =>
      this.store.closeStream(op.stream, {
        successor: op.successor,
        summary,
        expectedStreamVersion: expectedVersion(op.expected),
      }),
    );
    return {
      ok: true,
      text: `closed the books of ${op.stream} at version ${result.closedAt}: it is archived, and ${result.successor} starts with the summary (version ${result.nextExpectedStreamVersion}).`,
    };
  }

  private async status(op: StatusOp, index: number): Promise<OpOutcome> {
    const status = await this.logged(index, () => this.store.streamStatus(op.stream));
    return { ok: true, text: `${op.stream}: ${statusInWords(status).replace(/^status: /, "")}.` };
  }

  documents(): StoredDocuments {
    return this.engine.documents();
  }

  free(): void {
    this.store.free();
    this.engine.free();
  }
}

/** What the append did to the read model, in a sentence. */
export function readModelInWords({ projection, change }: ReadModelChange): string {
  const at = `projections.${projection}`;
  if (change === "written") return `The same update wrote the read model ${at}.`;
  if (change === "deleted") return `The same update deleted the read model ${at} (evolve returned null).`;
  return `The read model ${at} is unchanged: the projection handles no event of this append.`;
}

/** The configuration's projection compiled, or `null` when it is off. */
function projectionOf(config: ProjectionConfig | undefined, onEvolve: (deleted: boolean) => void) {
  return config?.enabled ? compileProjection(config.source, onEvolve) : null;
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
