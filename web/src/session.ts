// The session as data: what the person did (the store's operations, its configuration,
// the race and where they are in it, the view). It is all the page keeps: the URL hash
// holds it (compressed with lz-string, stamped with the package's version), and every
// view is computed from it by replaying it on the package.
import LZString from "lz-string";
import { version as packageVersion } from "streamdoc/package.json";

/** The version of the session's shape: a link of another format is not restored. */
export const SESSION_FORMAT = 1;
/** The package this page runs (from its package.json, at build time). */
export const PACKAGE_VERSION: string = packageVersion;
/** The hash's prefix: `#s1.` then the compressed JSON. */
const HASH_PREFIX = `#s${SESSION_FORMAT}.`;

export type ViewId = "operate" | "documents" | "log" | "race" | "gallery";
export const VIEWS: readonly ViewId[] = ["operate", "documents", "log", "race", "gallery"];

/** An expected version as the person picks it. */
export type Expected = "any" | "noStream" | "exists" | number;

/** An append on the page's store. `data` and `metadata` are JSON texts, as typed. */
export interface AppendOp {
  op: "append";
  stream: string;
  type: string;
  data: string;
  metadata: string;
  expected: Expected;
  /** Adds `padding: "xxx…"` of this many characters to the data (the 16 MiB wall). */
  pad?: number;
  /** Runs the same append this many times (default 1). */
  repeat?: number;
}

/** A read on the page's store: inclusive 1-based positions. */
export interface ReadOp {
  op: "read";
  stream: string;
  from?: number;
  to?: number;
  maxCount?: number;
  /** Reads the archived stream (`readStream`'s `fromArchive`). */
  fromArchive?: boolean;
}

/** `archiveStream` on the page's store. */
export interface ArchiveOp {
  op: "archive";
  stream: string;
  expected: Expected;
}

/** `closeStream` on the page's store: `summary` is the successor's first event, as a JSON text `{ type, data }`. */
export interface CloseOp {
  op: "closeStream";
  stream: string;
  successor: string;
  summary: string;
  expected: Expected;
}

/** `streamStatus` on the page's store. */
export interface StatusOp {
  op: "status";
  stream: string;
}

/** What a session replays on the page's store (archive, close and status came later; older sessions have none). */
export type StoreOp = AppendOp | ReadOp | ArchiveOp | CloseOp | StatusOp;

/**
 * The page's inline projection: the JS source of one projection options object (as the
 * package's `projections` option takes it), and whether the store has it. The source is
 * kept while it is switched off.
 */
export interface ProjectionConfig {
  enabled: boolean;
  source: string;
}

/**
 * Where the page's store puts streams (`custom` is the source of a JS function), and its
 * inline projection. `projection` is optional: sessions saved before it have none.
 */
export interface StoreConfig {
  layout: "streamdoc" | "emmett";
  storage: "perStreamType" | "single" | "custom";
  custom: string;
  projection?: ProjectionConfig;
  /** Streams stored as segments of at most `maxBytes` (the package's `segments`); sessions saved before it have none. */
  segments?: SegmentsConfig;
}

/** The segment size the page offers first: the largest core takes (12 MiB). */
export const DEFAULT_SEGMENT_BYTES = 12 * 1024 * 1024;

/** The package's `segments` option, and whether the store has it (the size is kept while it is off). */
export interface SegmentsConfig {
  enabled: boolean;
  maxBytes: number;
}

/**
 * One operation of a racing client, on the race's stream. `archive`, `closeStream` and
 * `status` (and `read` with `fromArchive`) came later: older sessions have none, and
 * read as they did.
 */
export type RaceOp =
  | { op: "append"; expected: Expected; type: string; ids?: string[] }
  | { op: "read"; fromArchive?: boolean }
  | { op: "retry"; expected: Expected; type: string }
  /** `archiveStream` (`expected`: its expected version; `"any"` archives wherever the stream is). */
  | { op: "archive"; expected: Expected }
  /** `closeStream` into `successor`, which starts with a summary event of type `type`. */
  | { op: "closeStream"; expected: Expected; successor: string; type: string }
  /** `streamStatus`. */
  | { op: "status" };

export interface RaceClient {
  name: string;
  ops: RaceOp[];
}

/** The race lab: the clients, the design, the schedule (client indexes) and the step shown. */
export interface RaceState {
  stream: string;
  clients: RaceClient[];
  /** The design under test (`"streamdoc"`: the real one). */
  design: string;
  /** Which client moved at each step, in order. Steps past `step` are the future. */
  schedule: number[];
  /** How many steps of the schedule have run. */
  step: number;
  /** The steps (indexes into `schedule`) whose reply is lost. */
  lost: number[];
  /** The package's race (`races()` id) this is, unchanged: built with `Simulation.fromRace`. */
  from?: string;
}

export interface Session {
  format: typeof SESSION_FORMAT;
  /** The package version that made the session. */
  package: string;
  /** The gallery scenario it started from, if any. */
  scenario: string | null;
  /** The store's clock starts here (ms since 1970) and ticks a second a call: replays are exact. */
  epoch: number;
  /** The seed of the generated event ids. */
  seed: number;
  config: StoreConfig;
  ops: StoreOp[];
  race: RaceState;
  view: ViewId;
}

export const DEFAULT_CUSTOM_STORAGE = `// Where a stream lives: called with { name, type, id }.
({ name, type, id }) => ({
  database: "shop",
  collection: type === "cart" ? "carts" : "streams",
})`;

export const DEFAULT_PROJECTION = `// An inline projection: its read model lives in the stream's document, at
// projections.summary, written by the append's own updateOne.
({
  name: "summary",
  // Only these event types reach evolve; any other leaves the read model as it is.
  canHandle: ["OrderPlaced", "ItemAdded", "OrderCancelled"],
  initialState: () => ({ items: 0, total: 0 }),
  // The new state, or null to delete the read model.
  evolve: (state, event) => {
    switch (event.type) {
      case "OrderPlaced":
        return { ...state, total: state.total + (event.data.total ?? 0) };
      case "ItemAdded":
        return { items: state.items + 1, total: state.total + (event.data.price ?? 0) };
      case "OrderCancelled":
        return null;
      default:
        return state;
    }
  },
})`;

export function defaultRace(): RaceState {
  return {
    stream: "order:1",
    clients: [
      { name: "a", ops: [{ op: "append", expected: "noStream", type: "OrderPlaced" }] },
      { name: "b", ops: [{ op: "append", expected: "noStream", type: "OrderPlaced" }] },
    ],
    design: "streamdoc",
    schedule: [],
    step: 0,
    lost: [],
  };
}

export function emptySession(now = Date.now()): Session {
  return {
    format: SESSION_FORMAT,
    package: PACKAGE_VERSION,
    scenario: null,
    epoch: Math.floor(now / 1000) * 1000,
    seed: 1 + Math.floor((now / 1000) % 1_000_000),
    config: { layout: "streamdoc", storage: "perStreamType", custom: DEFAULT_CUSTOM_STORAGE },
    ops: [],
    race: defaultRace(),
    view: "operate",
  };
}

/** The session as a URL hash. */
export function encodeSession(session: Session): string {
  return HASH_PREFIX + LZString.compressToEncodedURIComponent(JSON.stringify(session));
}

/** What a link restored, and what it could not. */
export interface Restored {
  session: Session;
  /** Plain-words notes about what was not restored or may differ (empty: all of it). */
  notes: string[];
}

/** Reads a session from a URL hash; `null` for an empty hash (a fresh page). */
export function decodeSession(hash: string, fresh: () => Session = emptySession): Restored | null {
  if (hash === "" || hash === "#") return null;
  const format = /^#s(\d+)\./.exec(hash)?.[1];
  if (format === undefined) {
    return { session: fresh(), notes: ["This link does not hold a playground session, so the page starts empty."] };
  }
  if (format !== String(SESSION_FORMAT)) {
    return {
      session: fresh(),
      notes: [
        `This link holds a session of format ${format}, and this page reads format ${SESSION_FORMAT} only: ` +
          "nothing of it could be restored, so the page starts empty.",
      ],
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(LZString.decompressFromEncodedURIComponent(hash.slice(HASH_PREFIX.length)) || "null");
  } catch {
    parsed = null;
  }
  if (!isRecord(parsed)) {
    return {
      session: fresh(),
      notes: ["This link's session cannot be read (it may have been cut short), so the page starts empty."],
    };
  }
  return restore(parsed, fresh());
}

/** Takes each part of a decoded session that has the right shape; says what it dropped. */
function restore(raw: Record<string, unknown>, base: Session): Restored {
  const notes: string[] = [];
  const session = { ...base };
  const made = typeof raw.package === "string" ? raw.package : "an unknown version";
  if (made !== PACKAGE_VERSION) {
    notes.push(
      `This link was made with streamdoc ${made}; this page runs streamdoc ${PACKAGE_VERSION}. ` +
        "The session is replayed on this version, so documents and commands may differ from what its author saw.",
    );
  }
  const take = <K extends keyof Session>(key: K, valid: (v: unknown) => boolean, what: string) => {
    if (raw[key] === undefined) return;
    if (valid(raw[key])) session[key] = raw[key] as Session[K];
    else notes.push(`The link's ${what} could not be read and was left out.`);
  };
  take("scenario", (v) => v === null || typeof v === "string", "scenario name");
  take("epoch", Number.isFinite, "clock");
  take("seed", Number.isInteger, "id seed");
  take("config", isConfig, "store configuration");
  take("ops", (v) => Array.isArray(v) && v.every(isOp), "store operations");
  take("race", isRace, "race");
  take("view", (v) => VIEWS.includes(v as ViewId), "view");
  session.package = PACKAGE_VERSION;
  return { session, notes };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const isString = (v: unknown): v is string => typeof v === "string";
const isCount = (v: unknown) => v === undefined || (Number.isInteger(v) && (v as number) >= 0);

export function isExpected(v: unknown): v is Expected {
  return v === "any" || v === "noStream" || v === "exists" || (Number.isInteger(v) && (v as number) >= 0);
}

function isConfig(v: unknown): v is StoreConfig {
  return (
    isRecord(v) &&
    (v.layout === "streamdoc" || v.layout === "emmett") &&
    (v.storage === "perStreamType" || v.storage === "single" || v.storage === "custom") &&
    isString(v.custom) &&
    (v.projection === undefined ||
      (isRecord(v.projection) && typeof v.projection.enabled === "boolean" && isString(v.projection.source))) &&
    (v.segments === undefined ||
      (isRecord(v.segments) &&
        typeof v.segments.enabled === "boolean" &&
        Number.isInteger(v.segments.maxBytes) &&
        (v.segments.maxBytes as number) > 0))
  );
}

function isOp(v: unknown): v is StoreOp {
  if (!isRecord(v) || !isString(v.stream)) return false;
  if (v.op === "read") {
    return (
      isCount(v.from) &&
      isCount(v.to) &&
      isCount(v.maxCount) &&
      (v.fromArchive === undefined || typeof v.fromArchive === "boolean")
    );
  }
  if (v.op === "status") return true;
  if (v.op === "archive") return isExpected(v.expected);
  if (v.op === "closeStream") return isString(v.successor) && isString(v.summary) && isExpected(v.expected);
  return (
    v.op === "append" &&
    isString(v.type) &&
    isString(v.data) &&
    isString(v.metadata) &&
    isExpected(v.expected) &&
    isCount(v.pad) &&
    isCount(v.repeat)
  );
}

function isRaceOp(v: unknown): v is RaceOp {
  if (!isRecord(v)) return false;
  if (v.op === "read") return v.fromArchive === undefined || typeof v.fromArchive === "boolean";
  if (v.op === "status") return true;
  if (v.op === "archive") return isExpected(v.expected);
  if (v.op === "closeStream") return isExpected(v.expected) && isString(v.successor) && isString(v.type);
  if (v.op !== "append" && v.op !== "retry") return false;
  return (
    isExpected(v.expected) &&
    isString(v.type) &&
    (v.ids === undefined || (Array.isArray(v.ids) && v.ids.every(isString)))
  );
}

function isRace(v: unknown): v is RaceState {
  if (!isRecord(v) || !isString(v.stream) || !isString(v.design)) return false;
  const indexes = (list: unknown) => Array.isArray(list) && list.every((i) => Number.isInteger(i) && i >= 0);
  return (
    Array.isArray(v.clients) &&
    v.clients.length >= 1 &&
    v.clients.length <= (v.from === undefined ? 4 : 5) &&
    (v.from === undefined || isString(v.from)) &&
    v.clients.every((c) => isRecord(c) && isString(c.name) && Array.isArray(c.ops) && c.ops.every(isRaceOp)) &&
    indexes(v.schedule) &&
    (v.schedule as number[]).every((i) => i < (v.clients as unknown[]).length) &&
    Number.isInteger(v.step) &&
    (v.step as number) >= 0 &&
    (v.step as number) <= (v.schedule as unknown[]).length &&
    indexes(v.lost)
  );
}
