//! `EventStore`: core's store in JavaScript, on the in-memory engine or a JavaScript
//! executor. Every method converts its arguments, builds one core operation and runs
//! it with the driver loop of its calling convention.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use js_sys::{Array, Function, Object, Promise};
use streamdoc_core::ops::{AnyOp, Append, AppendResult, Operation, QueryAnswer, ReadRange, ReadResult, Summary};
use streamdoc_core::{
    driver, Clock, Engine, Error, ExpectedVersion, IdGenerator, OpSpec, RecordedEvent, StoreConfig, StoreContext,
};
use wasm_bindgen::prelude::*;

use crate::encoded_append;
use crate::error::{self, Guard};
use crate::executor::{self, CommandLog, JsExecutor};
use crate::js::{check_options, get, is_absent, optional_function, set, type_error};
use crate::ops;
use crate::options::{self, Callbacks};
use crate::projections::{self, DEFAULT_PROJECTION_NAME};
use crate::values::{self, Values};
use crate::versions;

#[wasm_bindgen(module = "/js/emmett.js")]
extern "C" {
    /// The append's result once `hook(events)` has settled (its failure logged).
    #[wasm_bindgen(js_name = afterCommit)]
    fn after_commit(committed: Promise, hook: &Function) -> Promise;
    /// An event as read, upcast as Emmett does.
    #[wasm_bindgen(js_name = upcastEvent, catch)]
    fn upcast_event(event: &JsValue, upcast: &Function) -> Result<JsValue, JsValue>;
    /// Emmett's `projections.inline` queries of a store, as guarded functions.
    #[wasm_bindgen(js_name = inlineQueries)]
    fn inline_queries(store: StoreHandle) -> JsValue;
}

/// A projection name argument: a string, or absent for Emmett's default (`_default`).
fn projection_name(v: &JsValue, method: &str) -> Result<Option<String>, JsValue> {
    if is_absent(v) {
        return Ok(None);
    }
    v.as_string().map(Some).ok_or_else(|| type_error(format!("{method}: projectionName must be a string")))
}

/// A stored read model as JavaScript (its state and `_metadata`), or `null`.
fn read_model_to_js(document: Option<&bson::Document>, mode: Values) -> JsValue {
    document.map_or(JsValue::NULL, |d| values::document_to_js(d, mode))
}

/// The read models of a query's answer.
fn models(answer: QueryAnswer) -> Result<Vec<streamdoc_core::projection::ReadModel>, JsValue> {
    answer.into_models().map_err(|e| error::to_js(&e))
}

/// The number of a count's answer.
fn count(answer: QueryAnswer) -> Result<JsValue, JsValue> {
    answer.into_count().map(|n| JsValue::from_f64(n as f64)).map_err(|e| error::to_js(&e))
}

/// The options of `aggregateStream`'s `read`: the range, Emmett's
/// `expectedStreamVersion` (checked by core's read: a `ConcurrencyConflictError` when
/// the stream is elsewhere), `schema` and `retry` (its command handler's, which it
/// spreads into the store's calls).
const READ_OPTIONS: [&str; 6] = ["from", "to", "maxCount", "expectedStreamVersion", "schema", "retry"];

/// The options of `readStream`: those of a read, and `fromArchive` (read an archived
/// stream from the archive collection).
const READ_STREAM_OPTIONS: [&str; 7] =
    ["from", "to", "maxCount", "expectedStreamVersion", "schema", "retry", "fromArchive"];

/// The options of `archiveStream`.
const ARCHIVE_OPTIONS: [&str; 1] = ["expectedStreamVersion"];

/// The options of `closeStream`.
const CLOSE_OPTIONS: [&str; 3] = ["successor", "summary", "expectedStreamVersion"];

/// The range, the expected version and the upcast of `readStream`'s options (or
/// `aggregateStream`'s `read`), whose keys may be `allowed`.
fn read_options(
    options: &JsValue,
    allowed: &[&str],
    what: &str,
) -> Result<(ReadRange, ExpectedVersion, Option<Function>), JsValue> {
    check_options(options, allowed, what)?;
    let expected = versions::expected_version(&get(options, "expectedStreamVersion"))?;
    let upcast = match schema_versioning(&get(options, "schema"), &format!("{what}.schema"))? {
        Some(versioning) => optional_function(&versioning, "upcast", &format!("{what}.schema.versioning"))?,
        None => None,
    };
    Ok((ops::read_range(options, what)?, expected, upcast))
}

/// Emmett's `schema: { versioning: { upcast?, downcast? } }`: the `versioning` object.
/// (Reads apply `upcast`, appends would apply `downcast`; each leaves the other, as
/// Emmett's stores do, since its command handler hands one schema to both.)
fn schema_versioning(schema: &JsValue, what: &str) -> Result<Option<JsValue>, JsValue> {
    if is_absent(schema) {
        return Ok(None);
    }
    check_options(schema, &["versioning"], what)?;
    let versioning = get(schema, "versioning");
    if is_absent(&versioning) {
        return Ok(None);
    }
    check_options(&versioning, &["upcast", "downcast"], &format!("{what}.versioning"))?;
    Ok(Some(versioning))
}

/// `appendToStream`'s options when they hold more than `expectedStreamVersion`:
/// Emmett's `schema` (`downcast` is refused: not supported yet) and `retry`. Gives the
/// options with `expectedStreamVersion` alone, or `None` when they hold nothing more.
fn append_options(options: &JsValue) -> Result<Option<JsValue>, JsValue> {
    let schema = get(options, "schema");
    if schema.is_undefined() && get(options, "retry").is_undefined() {
        return Ok(None);
    }
    let what = "appendToStream options";
    check_options(options, &["expectedStreamVersion", "schema", "retry"], what)?;
    if let Some(versioning) = schema_versioning(&schema, &format!("{what}.schema"))? {
        if !is_absent(&get(&versioning, "downcast")) {
            return Err(type_error(format!(
                "{what}.schema.versioning.downcast is not supported yet: the store writes each event's metadata \
                 (stream name, position, id) itself, so it cannot store a downcast recorded message as Emmett does"
            )));
        }
    }
    let plain = Object::new();
    set(&plain, "expectedStreamVersion", &get(options, "expectedStreamVersion"));
    Ok(Some(plain.into()))
}

/// A folded event: upcast first when there is an upcast, then `evolve`.
fn evolve_with(
    evolve: &Function,
    upcast: Option<&Function>,
    state: &JsValue,
    event: &JsValue,
) -> Result<JsValue, JsValue> {
    match upcast {
        Some(upcast) => evolve.call2(&JsValue::NULL, state, &upcast_event(event, upcast)?),
        None => evolve.call2(&JsValue::NULL, state, event),
    }
}

#[wasm_bindgen(typescript_custom_section)]
const STORE_TYPES: &'static str = r#"
/** Where streams live. */
export type StorageOption =
  /** One collection per stream type, named `{prefix}{streamType}` (prefix: `""`, or `"emt:"` in the Emmett layout). */
  | { kind: "perStreamType"; prefix?: string }
  /** Every stream in one collection (default name `streams`, or `emt:streams` in the Emmett layout). */
  | { kind: "single"; name?: string }
  /** Wherever a function says; it must return the same place for the same stream every time. */
  | { kind: "custom"; resolve: (stream: StreamNameParts) => Namespace }
  /** `@event-driven-io/emmett-mongodb`'s spelling of `perStreamType`; `databaseName` stands for `database`. */
  | "COLLECTION_PER_STREAM_TYPE"
  | { type: "COLLECTION_PER_STREAM_TYPE"; databaseName?: string }
  /** emmett-mongodb's spelling of `single` (`collectionName` is `name`). */
  | "SINGLE_COLLECTION"
  | { type: "SINGLE_COLLECTION"; collectionName?: string; databaseName?: string }
  /** emmett-mongodb's custom storage: a collection per stream type, in `databaseName` (or `database`) unless it says which. */
  | {
      type: "CUSTOM";
      databaseName?: string;
      collectionFor: (streamType: string) => string | { collectionName: string; databaseName?: string };
    };

/** A stream name split at its first colon. */
export interface StreamNameParts {
  /** `{type}:{id}`. */
  name: string;
  type: string;
  id: string;
}

/** A database and a collection. */
export interface Namespace {
  database: string;
  collection: string;
}

/** Options of `new EventStore(options)`. */
export interface EventStoreOptions {
  /** The database (for every storage but a custom one). Default `"streamdoc"`. */
  database?: string;
  /** Field and collection names: streamdoc's own, or compatible with `@event-driven-io/emmett-mongodb`. */
  layout?: "streamdoc" | "emmett";
  /** Where streams live. Default: a collection per stream type. */
  storage?: StorageOption;
  /** How often a `NO_CONCURRENCY_CHECK`/`STREAM_EXISTS` append re-reads after losing a race. Default 64. */
  maxAttempts?: number;
  /** The stream type of names without a colon (`"7f3a"` is then stream `7f3a` of this type, in its collection). Default: such names are an `InvalidStreamNameError`. */
  defaultStreamType?: string;
  /** Runs the store's commands (e.g. `mongoExecutor(client)` from `streamdoc/mongodb`). Default: a private in-memory engine. */
  executor?: Executor;
  /** An in-memory engine to run on in the process (shared with other stores and simulations given it), instead of a private one; not with `executor`. */
  engine?: Engine;
  /** The time of each append (`recordedAt`, `updatedAt`). Default `Date.now`. */
  clock?: () => Date | number;
  /** A seed making generated event ids deterministic. Default: a random seed. */
  idSeed?: number | bigint;
  /** Generates the ids of events given without one (instead of `idSeed`). */
  generateEventId?: () => string;
  /** How BSON values come back in events: `"native"` (default) or `"canonical"` Extended JSON. */
  values?: "native" | "canonical";
  /** Keep the last commands for `commandLog()`: `true` (1000) or how many. Default off. */
  commandLog?: boolean | number;
  /** Emmett's hooks. */
  hooks?: EventStoreHooks;
  /**
   * Inline projections: read models kept in each stream's document at
   * `projections.<name>`, written by the append's own conditional update (so they never
   * disagree with the events). Each is the options object of emmett-mongodb's
   * `mongoDBInlineProjection({ ... })` (not its result), bare or in Emmett's registration
   * `{ type: "inline", projection }`.
   */
  projections?: ProjectionOption[];
  /**
   * Where `archiveStream` and `closeStream` move archived streams: the live collection's
   * name plus `suffix` in its database (default `{ suffix: "_archive" }`), or the live
   * collection's name in another `database`.
   */
  archive?: { suffix: string } | { database: string };
  /**
   * Store every stream as segments (documents of at most `maxBytes` of events, 1 to
   * 12 MiB), so a stream is never too large. Not with `layout: "emmett"` or
   * `projections` (an `InvalidConfigError` with `reason: "unsupported"`).
   */
  segments?: { maxBytes: number | bigint };
}

/**
 * An inline projection: emmett-mongodb's `mongoDBInlineProjection` options, plus
 * `streamTypes` and `indexes`. `evolve` must be synchronous.
 */
export interface InlineProjectionDefinition<State extends object = object, E extends RecordedEvent = RecordedEvent> {
  /** The read model lives at `projections.<name>`. Default `"_default"`, as in Emmett. */
  name?: string;
  /** The event types it handles: only these reach `evolve`. */
  canHandle: E["type"][];
  /** The state before the first event (called once, when the store is created). Without it, `evolve` gets `null` first. */
  initialState?: () => State;
  /**
   * Folds one event: the new state, or `null` (or `undefined`) to delete the read model.
   * Synchronous: a returned Promise fails the append. `state` is `null` before the first
   * event (and after a delete) only when there is no `initialState`: with one, declare
   * the parameter `state: State`.
   */
  evolve(state: State | null, event: E): State | null | undefined;
  /** Stored in `_metadata.schemaVersion`; a read model of another version is refolded from the stream's events by the next append. Default 1. */
  schemaVersion?: number;
  /** Only streams of these types have this read model. Default: every type. */
  streamTypes?: string[];
  /** Indexes over read model fields, e.g. `{ status: 1, total: -1 }`, created with the collection's unique index. */
  indexes?: Record<string, 1 | -1>[];
}

/** A projection as `options.projections` takes it: a definition, or Emmett's registration of one. */
export type ProjectionOption<State extends object = object, E extends RecordedEvent = RecordedEvent> =
  | InlineProjectionDefinition<State, E>
  | { type: "inline"; projection: InlineProjectionDefinition<State, E> };

/** What a read model records about itself (emmett-mongodb's `MongoDBReadModelMetadata`). */
export interface ReadModelMetadata {
  /** The stream's id (its name after the type). */
  streamId: string;
  /** The projection's name. */
  name: string;
  schemaVersion: number;
  /** The stream's position when the read model was last written. */
  streamPosition: bigint;
}

/** A stored read model: the state's fields and `_metadata` (emmett-mongodb's `MongoDBReadModel`). */
export type ReadModel<State extends object = DefaultRecord> = State & { _metadata: ReadModelMetadata };

/** A filter on a read model's own fields, e.g. `{ status: "open", total: { $gte: 10 } }` (`$and`, `$or`, `$nor` at the top; `$where` and the like are refused). */
export type ReadModelFilter = { [field: string]: BsonValue | ExtendedJson };

/** The stream of `projections.inline.findOne`: a stream name, or a stream type (and id). */
export type SingleReadModelStreamFilter = { projectionName?: string } & (
  | { streamName: string; streamType?: never; streamId?: never }
  | { streamType: string; streamId?: string; streamName?: never }
);

/** The streams of `projections.inline.find` and `count`: stream names (of one type; `[]` finds nothing), or a stream type (and ids; `[]` is every id). */
export type MultiReadModelStreamFilter = { projectionName?: string } & (
  | { streamNames: string[]; streamType?: never; streamIds?: never }
  | { streamType: string; streamIds?: string[]; streamNames?: never }
);

/** `projections.inline.find`'s options; `sort` is on read model fields (ties are ordered by stream name). */
export interface ReadModelQueryOptions {
  skip?: number;
  limit?: number;
  sort?: [string, 1 | -1][] | Record<string, 1 | -1>;
}

/** emmett-mongodb's `projections.inline` queries. */
export interface InlineProjectionQueries {
  /** The first read model that matches (by stream name), or `null`. */
  findOne<State extends object = DefaultRecord>(
    streamFilter: SingleReadModelStreamFilter,
    projectionQuery?: ReadModelFilter,
  ): Promise<ReadModel<State> | null>;
  /** The read models that match, in `sort` order (then by stream name). */
  find<State extends object = DefaultRecord>(
    streamFilter: MultiReadModelStreamFilter,
    projectionQuery?: ReadModelFilter,
    queryOptions?: ReadModelQueryOptions,
  ): Promise<ReadModel<State>[]>;
  /** How many read models match. */
  count(streamFilter: MultiReadModelStreamFilter, projectionQuery?: ReadModelFilter): Promise<number>;
}

/** What `rebuildReadModels` did. */
export interface RebuildResult {
  /** False when there is no such stream (nothing is written). */
  streamExists: boolean;
  /** The position the read models were rebuilt at. */
  streamPosition: bigint;
}

/** streamdoc's own query over one projection's read models (core's `ProjectionQuery`). */
export interface ReadModelQuery {
  /** The stream type whose streams are searched. */
  streamType: string;
  /** The projection's name (default `"_default"`). */
  projection?: string;
  /** Only these streams. */
  streams?: string[];
  /** A filter on the read model's fields, e.g. `{ status: "open", total: { $gt: 10 } }`. */
  filter?: Record<string, unknown>;
  /** A sort on the read model's fields, `{ field: 1 | -1 }` or `[[field, 1 | -1]]`. */
  sort?: Record<string, 1 | -1> | Array<[string, 1 | -1]>;
  skip?: number | bigint;
  /** At most this many (0: no limit). */
  limit?: number | bigint;
}

/** What `rebuildAllReadModels` did. */
export interface RebuildAllResult {
  /** How many streams were rebuilt. */
  streams: number;
}

/** Emmett's `DefaultEventStoreOptions["hooks"]`. */
export interface EventStoreHooks {
  /**
   * Called after each acknowledged append with the events it wrote, as `readStream`
   * returns them, and awaited before the append resolves. If it throws (or the events
   * cannot be read back), the error is logged with `console.error` and the append
   * still resolves, as in Emmett.
   */
  onAfterCommit?: (events: RecordedEvent[]) => unknown;
}

/** Emmett's `schema` option of reads: `upcast` maps each event as read (its `data` and `metadata`). */
export interface ReadSchemaOptions {
  versioning?: {
    upcast?: (event: RecordedEvent) => { data: DefaultRecord; metadata?: DefaultRecord };
    /** Not applied by reads (Emmett applies it to appends). */
    downcast?: (event: never) => unknown;
  };
}

/** Options of `appendToStream`. */
export interface AppendToStreamOptions {
  /** The stream's expected position. Default `NO_CONCURRENCY_CHECK`. */
  expectedStreamVersion?: ExpectedStreamVersion;
  /** Emmett's schema: `versioning.downcast` is not supported yet (a `TypeError`). */
  schema?: { versioning?: { upcast?: unknown; downcast?: never } };
  /** Emmett's command handler's retry options, which it spreads into the store's calls; the store leaves them to it. */
  retry?: unknown;
}

/** The result of `appendToStream`. */
export interface AppendToStreamResult {
  /** The stream's position after the append: the expected version for the next one. */
  nextExpectedStreamVersion: bigint;
  /** True when this append created the stream. */
  createdNewStream: boolean;
}

/** Options of `readStream`: inclusive, 1-based positions. */
export interface ReadStreamOptions extends ReadOptions {
  /** Read the stream from the archive collection (a stream `archiveStream` or `closeStream` archived). Default false. */
  fromArchive?: boolean;
}

/** Which events a read takes (`readStream`'s options, and `aggregateStream`'s `read`). */
export interface ReadOptions {
  /** First position to read (default 1; 0 reads as 1). */
  from?: bigint;
  /** Last position to read (default: the end). */
  to?: bigint;
  /** At most this many events. */
  maxCount?: bigint;
  /** Where the stream is expected: otherwise the read rejects with `ConcurrencyConflictError`, as Emmett's stores do. Default `NO_CONCURRENCY_CHECK`. */
  expectedStreamVersion?: ExpectedStreamVersion;
  /** Emmett's upcasting of the events read. */
  schema?: ReadSchemaOptions;
  /** Emmett's command handler's retry options, which it spreads into the store's calls; the store leaves them to it. */
  retry?: unknown;
}

/** The result of `readStream`. */
export interface ReadStreamResult<E extends RecordedEvent = RecordedEvent> {
  /** The position of the stream's last event (0n when it does not exist). */
  currentStreamVersion: bigint;
  streamExists: boolean;
  /** The events in the range, in order. */
  events: E[];
}

/** Where a stream is (`streamStatus`). */
export type StreamState =
  /** No document holds the stream. */
  | "missing"
  /** The stream takes appends. */
  | "live"
  /** An archive has sealed it (no more appends) and has not finished moving it yet. */
  | "sealed"
  /** Its events are in the archive collection (`readStream(name, { fromArchive: true })`); the live collection keeps a tombstone. */
  | "archived";

/** What `streamStatus` reports. */
export interface StreamStatus {
  state: StreamState;
  /** The position of the stream's last event (0n when missing). */
  streamPosition: bigint;
  /** The stream that continues this one, when it was closed into one. */
  successor?: string;
  /** The stream this one continues, and where it was closed, when `closeStream` started it. */
  predecessor?: { streamName: string; streamPosition: bigint };
}

/** Options of `archiveStream`. */
export interface ArchiveStreamOptions {
  /** Archive only if the stream is here. Default `NO_CONCURRENCY_CHECK`. */
  expectedStreamVersion?: ExpectedStreamVersion;
}

/** The result of `archiveStream`. */
export interface ArchiveStreamResult {
  /** The position of the archived stream's last event. */
  streamPosition: bigint;
  /** The stream that continues it, when it was closed into one. */
  successor?: string;
}

/** Options of `closeStream`. */
export interface CloseStreamOptions<E extends RecordedEvent = RecordedEvent> {
  /** The stream that continues the closed one; it must not exist yet. */
  successor: string;
  /**
   * The successor's first event: an event, or a synchronous function of the closed
   * stream (as `readStream` returns it, with every event) returning one; it is called
   * again with the new events when an append lands while the close runs. If the function
   * throws or returns no event, the call rejects with a `ProjectionError` (projection
   * `"closeStream.summary"`, `cause`: what it threw) and nothing is written. A summary
   * without an `id` gets `closed:{stream}@{position}`, so a repeated close finds it.
   */
  summary: NewEvent | ((closed: ReadStreamResult<E>) => NewEvent);
  /** Close only if the stream is here. Default `NO_CONCURRENCY_CHECK` (a racing append makes it read again). */
  expectedStreamVersion?: ExpectedStreamVersion;
}

/** The result of `closeStream`. */
export interface CloseStreamResult {
  /** The position the closed stream was archived at. */
  closedAt: bigint;
  /** The successor stream. */
  successor: string;
  /** The successor's position after its summary: the expected version of its next append. */
  nextExpectedStreamVersion: bigint;
}

/** Options of `aggregateStream`. */
export interface AggregateStreamOptions<State, E extends RecordedEvent = RecordedEvent> {
  /** Folds one event into the state. */
  evolve: (state: State, event: E) => State;
  /** The state before the first event. */
  initialState: () => State;
  /** Which events to fold (as `readStream`'s options; default the whole stream), and Emmett's upcasting of each before `evolve`. */
  read?: ReadOptions;
}

/** The result of `aggregateStream`. */
export interface AggregateStreamResult<State> {
  state: State;
  currentStreamVersion: bigint;
  streamExists: boolean;
}

/** One command the store sent, for `commandLog()`. */
export interface CommandLogEntry {
  /** What the operation was doing, e.g. `"conditional append"`. */
  step: string;
  /** The command in mongosh syntax. */
  command: string;
  /** The reply in mongosh syntax, or `no reply: ...`. */
  reply: string;
}

/**
 * An event store. Each stream is one MongoDB document; an append is one conditional
 * `updateOne`. By default the store runs on a private in-memory engine that behaves
 * like MongoDB; give `options.executor` to run the same logic on any server.
 *
 * @example
 * const store = new EventStore();
 * await store.appendToStream("order:1", [{ type: "OrderPlaced", data: { total: 42 } }],
 *   { expectedStreamVersion: STREAM_DOES_NOT_EXIST });
 * const { events } = await store.readStream("order:1");
 */
export class EventStore {
  constructor(options?: EventStoreOptions);
  /** Appends `events` if the stream is where `expectedStreamVersion` says; rejects with `ConcurrencyConflictError` otherwise. */
  appendToStream<E extends NewEvent = NewEvent>(
    streamName: string,
    events: E[],
    options?: AppendToStreamOptions,
  ): Promise<AppendToStreamResult>;
  /** Reads the events of a range of positions. */
  readStream<E extends RecordedEvent = RecordedEvent>(streamName: string, options?: ReadStreamOptions): Promise<ReadStreamResult<E>>;
  /** Folds the whole stream with `evolve`. */
  aggregateStream<State, E extends RecordedEvent = RecordedEvent>(
    streamName: string,
    options: AggregateStreamOptions<State, E>,
  ): Promise<AggregateStreamResult<State>>;
  /** Whether the stream's events are in the live collection (false for a missing or an archived stream: `streamStatus` tells which). */
  streamExists(streamName: string): Promise<boolean>;
  /** Whether the stream is live, sealed, archived or missing, with its position and the streams it continues or is continued by. */
  streamStatus(streamName: string): Promise<StreamStatus>;
  /**
   * Moves the stream to the archive collection (if it is where `expectedStreamVersion`
   * says): seal, copy, then a tombstone in the live collection. Later appends reject
   * with `StreamArchivedError`; `readStream(name, { fromArchive: true })` reads it.
   * Repeating it (after a crash, or again) finishes the same archive and returns the same result.
   */
  archiveStream(streamName: string, options?: ArchiveStreamOptions): Promise<ArchiveStreamResult>;
  /**
   * Closes the books: archives the stream and starts `successor` with `summary`, whose
   * document records `metadata.predecessor`. The answer to a stream nearing the 16 MiB
   * limit, or to a period that ends.
   */
  closeStream<E extends RecordedEvent = RecordedEvent>(streamName: string, options: CloseStreamOptions<E>): Promise<CloseStreamResult>;
  /** The stream's stored read model of `projectionName` (default `"_default"`), with `_metadata`; `null` when there is none. */
  readModel<State extends object = DefaultRecord>(streamName: string, projectionName?: string): Promise<ReadModel<State> | null>;
  /** Recomputes the stream's read models (of `projectionName` only, when given) from its events, at the position it read. */
  rebuildReadModels(streamName: string, projectionName?: string): Promise<RebuildResult>;
  /** Recomputes the read models of every stream of `streamType`, one stream at a time. */
  rebuildAllReadModels(streamType: string, projectionName?: string): Promise<RebuildAllResult>;
  /**
   * The read models `query` finds across the streams of a type, in its order (ties by
   * stream name), each with its stream's name. `filter` and `sort` are on the read
   * model's own fields; values sit under operators, and `$where`, `$expr` and other
   * top-level operators are refused (`InvalidQueryError`).
   */
  findReadModels<State extends object = DefaultRecord>(query: ReadModelQuery): Promise<Array<{ streamName: string; readModel: ReadModel<State> }>>;
  /** How many read models `query` matches (its skip and limit applied). */
  countReadModels(query: ReadModelQuery): Promise<number>;
  /** emmett-mongodb's queries over read models: `projections.inline.findOne`, `find`, `count`. */
  readonly projections: { inline: InlineProjectionQueries };
  /**
   * Subscribes `options.consumer` to new events: `handler` receives each batch (one
   * stream's events right after the consumer's checkpoint, in order), one at a time; the
   * checkpoint moves once what it returned has settled. At least once: a batch whose
   * handler throws is delivered again to the next subscription of the consumer.
   */
  subscribe<E extends RecordedEvent = RecordedEvent>(
    options: SubscribeOptions,
    handler: (batch: Batch<E>) => unknown,
  ): Subscription;
  /** The stored documents, in canonical Extended JSON (in-memory engine only). */
  documents(): StoredDocuments;
  /** The last commands sent, oldest first (needs `options.commandLog`). */
  commandLog(): CommandLogEntry[];
  /** A copy of the engine's state (in-memory engine only). */
  snapshot(): StoreSnapshot;
  /** Puts the engine back in a state taken by `snapshot()`; change-stream subscriptions then sweep it from their restored checkpoints. */
  restore(snapshot: StoreSnapshot): void;
  /** Frees the WebAssembly memory now (otherwise the garbage collector does). */
  free(): void;
}

/** An opaque copy of a store's engine state. */
export class StoreSnapshot {
  private constructor();
  free(): void;
}
"#;

/// Where a store's commands run.
pub(crate) enum Backend {
    /// The in-memory engine: the store's own, or an `Engine` it shares (`options.engine`).
    Engine(Rc<RefCell<Engine>>),
    Js(JsExecutor),
}

pub(crate) struct Inner {
    config: StoreConfig,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    pub(crate) ctx: RefCell<StoreContext>,
    pub(crate) backend: Backend,
    pub(crate) log: CommandLog,
    pub(crate) values: Values,
    callbacks: Rc<Callbacks>,
    pub(crate) guard: Guard,
    /// The store's subscriptions (told when `restore()` replaces the engine).
    pub(crate) subscriptions: crate::subscriptions::Registry,
    /// `hooks.onAfterCommit`.
    on_after_commit: Option<Function>,
}

/// The JavaScript `EventStore` (types in `STORE_TYPES`).
#[wasm_bindgen(skip_typescript)]
pub struct EventStore {
    inner: Rc<Inner>,
}

/// A copy of a store's engine (`snapshot()` / `restore()`).
#[wasm_bindgen(skip_typescript)]
#[derive(Debug)]
pub struct StoreSnapshot {
    engine: Engine,
}

impl std::fmt::Debug for EventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let backend = match self.inner.backend {
            Backend::Engine(_) => "in-memory engine",
            Backend::Js(_) => "JavaScript executor",
        };
        f.debug_struct("EventStore")
            .field("config", &self.inner.config)
            .field("backend", &backend)
            .finish_non_exhaustive()
    }
}

fn rejected(e: JsValue) -> Promise {
    Promise::reject(&e)
}

/// A second reference to a store, for Rust code handed the store as a JavaScript value
/// (a simulation's client). Internal: no TypeScript type.
#[wasm_bindgen(skip_typescript)]
pub struct StoreHandle {
    inner: Rc<Inner>,
}

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreHandle").finish_non_exhaustive()
    }
}

impl StoreHandle {
    /// What builds the store's operations (sharing what it remembers), and where its
    /// JavaScript callbacks report failures.
    pub(crate) fn context(&self) -> (StoreContext, Rc<Callbacks>) {
        (self.inner.ctx.borrow().clone(), self.inner.callbacks.clone())
    }
}

/// Emmett's `projections.inline` queries, which the store's `projections` getter hands
/// to `inlineQueries` (`js/emmett.js`) to be called as guarded functions.
#[wasm_bindgen]
impl StoreHandle {
    #[wasm_bindgen(js_name = findOneInline, skip_typescript)]
    pub fn find_one_inline(&self, stream_filter: JsValue, projection_query: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        let store = EventStore { inner: self.inner.clone() };
        Ok(match projections::find_one_query(&self.inner.config, &stream_filter, &projection_query) {
            Ok(query) => {
                let op = self.inner.ctx.borrow().query_models(query, false);
                store.run(Ok(op), |answer, values| {
                    Ok(read_model_to_js(models(answer)?.first().map(|m| &m.document), values))
                })
            }
            Err(e) => rejected(e),
        })
    }

    #[wasm_bindgen(js_name = findInline, skip_typescript)]
    pub fn find_inline(
        &self,
        stream_filter: JsValue,
        projection_query: JsValue,
        query_options: JsValue,
    ) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        let store = EventStore { inner: self.inner.clone() };
        let query =
            projections::find_query(&self.inner.config, "find", &stream_filter, &projection_query, &query_options);
        Ok(match query {
            Ok(Some(query)) => {
                let op = self.inner.ctx.borrow().query_models(query, false);
                store.run(Ok(op), |answer, values| {
                    let found: Array =
                        models(answer)?.iter().map(|m| values::document_to_js(&m.document, values)).collect();
                    Ok(found.into())
                })
            }
            Ok(None) => Promise::resolve(&JsValue::from(Array::new())),
            Err(e) => rejected(e),
        })
    }

    #[wasm_bindgen(js_name = countInline, skip_typescript)]
    pub fn count_inline(&self, stream_filter: JsValue, projection_query: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        let store = EventStore { inner: self.inner.clone() };
        let query = projections::find_query(
            &self.inner.config,
            "count",
            &stream_filter,
            &projection_query,
            &JsValue::UNDEFINED,
        );
        Ok(match query {
            Ok(Some(query)) => {
                let op = self.inner.ctx.borrow().query_models(query, true);
                store.run(Ok(op), |answer, _| count(answer))
            }
            Ok(None) => Promise::resolve(&JsValue::from_f64(0.0)),
            Err(e) => rejected(e),
        })
    }
}

#[wasm_bindgen]
impl EventStore {
    /// Internal (no TypeScript type): a handle on this store for Rust code.
    #[wasm_bindgen(js_name = "__handle", skip_typescript)]
    pub fn handle(&self) -> Result<StoreHandle, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        Ok(StoreHandle { inner: self.inner.clone() })
    }

    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<EventStore, JsValue> {
        let _call = error::enter_free()?;
        let o = options::store_options(&options)?;
        let ctx = StoreContext::with_shared(o.config.clone(), o.clock.clone(), o.ids.clone())
            .map_err(|e| error::to_js(&e))?;
        let backend = match (o.executor, o.engine) {
            (Some(f), _) => Backend::Js(JsExecutor(f)),
            (None, Some(shared)) => Backend::Engine(shared),
            (None, None) => Backend::Engine(Rc::new(RefCell::new(Engine::new(0)))),
        };
        Ok(EventStore {
            inner: Rc::new(Inner {
                config: o.config,
                clock: o.clock,
                ids: o.ids,
                ctx: RefCell::new(ctx),
                backend,
                log: CommandLog::new(o.log_capacity),
                values: o.values,
                callbacks: o.callbacks,
                guard: Guard::new("EventStore"),
                subscriptions: Default::default(),
                on_after_commit: o.on_after_commit,
            }),
        })
    }

    #[wasm_bindgen(js_name = appendToStream)]
    pub fn append_to_stream(&self, stream: JsValue, events: JsValue, options: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        let prepared = append_options(&options).and_then(|plain| {
            encoded_append::append_arguments(&stream, &events, plain.as_ref().unwrap_or(&options)).map(
                |(stream, events, expected)| {
                    let count = events.len() as u64;
                    (self.inner.ctx.borrow().append(&stream, events, expected), stream, count)
                },
            )
        });
        Ok(match (prepared, &self.inner.on_after_commit) {
            (Ok((op, stream, count)), Some(hook)) => self.run_committed(op, stream, count, hook.clone()),
            (Ok((op, _, _)), None) => self.run(op, |r, _| Ok(ops::append_result(&r))),
            (Err(e), _) => rejected(e),
        })
    }

    #[wasm_bindgen(js_name = readStream)]
    pub fn read_stream(&self, stream: JsValue, options: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        let prepared = (|| {
            let stream = ops::stream_name(&stream)?;
            let what = "readStream options";
            let (range, expected, upcast) = read_options(&options, &READ_STREAM_OPTIONS, what)?;
            let ctx = self.inner.ctx.borrow();
            let op = match get(&options, "fromArchive") {
                v if is_absent(&v) || v.as_bool() == Some(false) => ctx.read_expecting(&stream, range, expected),
                v if v.as_bool() == Some(true) => {
                    let spec = OpSpec::Read { stream, range, expected, from_archive: true };
                    ctx.prepare(&spec).map(|op| match op {
                        AnyOp::Read(read) => read,
                        _ => unreachable!("a read's OpSpec prepares a read"),
                    })
                }
                _ => return Err(type_error(format!("{what}.fromArchive must be a boolean"))),
            };
            Ok((op, upcast))
        })();
        Ok(match prepared {
            Ok((op, None)) => self.run(op, |r, values| Ok(ops::read_result(&r, values))),
            Ok((op, Some(upcast))) => self.run(op, move |r, values| {
                let result = ops::read_result(&r, values);
                let events: Array = r
                    .events
                    .iter()
                    .map(|e| upcast_event(&ops::recorded_event(e, values), &upcast))
                    .collect::<Result<_, _>>()?;
                set(result.unchecked_ref(), "events", &events);
                Ok(result)
            }),
            Err(e) => rejected(e),
        })
    }

    #[wasm_bindgen(js_name = aggregateStream)]
    pub fn aggregate_stream(&self, stream: JsValue, options: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        let values = self.inner.values;
        let prepared = (|| {
            let stream = ops::stream_name(&stream)?;
            check_options(&options, &["evolve", "initialState", "read"], "aggregateStream options")?;
            let function = |key: &str| {
                get(&options, key)
                    .dyn_into::<Function>()
                    .map_err(|_| type_error(format!("aggregateStream: options.{key} must be a function")))
            };
            let evolve = function("evolve")?;
            let initial = function("initialState")?;
            let (range, expected, upcast) =
                read_options(&get(&options, "read"), &READ_OPTIONS, "aggregateStream options.read")?;
            let initial = initial.call0(&JsValue::NULL);
            if range == ReadRange::default() {
                let fold = move |state: Result<JsValue, JsValue>, event: &RecordedEvent| {
                    state.and_then(|s| evolve_with(&evolve, upcast.as_ref(), &s, &ops::recorded_event(event, values)))
                };
                Ok(Aggregation::Whole(self.inner.ctx.borrow().aggregate_expecting(&stream, expected, initial, fold)))
            } else {
                // A range: the events readStream reads, folded.
                Ok(Aggregation::Range(
                    self.inner.ctx.borrow().read_expecting(&stream, range, expected),
                    initial,
                    evolve,
                    upcast,
                ))
            }
        })();
        let result = |state: JsValue, current: u64, exists: bool| {
            let object = Object::new();
            set(&object, "state", &state);
            set(&object, "currentStreamVersion", &JsValue::from(current));
            set(&object, "streamExists", &JsValue::from_bool(exists));
            JsValue::from(object)
        };
        Ok(match prepared {
            Ok(Aggregation::Whole(op)) => {
                self.run(op, move |r, _| Ok(result(r.state?, r.current_stream_version, r.stream_exists)))
            }
            Ok(Aggregation::Range(op, initial, evolve, upcast)) => self.run(op, move |r, values| {
                let mut state = initial?;
                for event in &r.events {
                    state = evolve_with(&evolve, upcast.as_ref(), &state, &ops::recorded_event(event, values))?;
                }
                Ok(result(state, r.current_stream_version, r.stream_exists))
            }),
            Err(e) => rejected(e),
        })
    }

    #[wasm_bindgen(js_name = streamExists)]
    pub fn stream_exists(&self, stream: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        Ok(match ops::stream_name(&stream) {
            Ok(stream) => {
                let op = self.inner.ctx.borrow().exists(&stream);
                self.run(op, |status, _| Ok(JsValue::from_bool(status.exists())))
            }
            Err(e) => rejected(e),
        })
    }

    #[wasm_bindgen(js_name = streamStatus)]
    pub fn stream_status(&self, stream: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        Ok(match ops::stream_name(&stream) {
            Ok(stream) => {
                let op = self.inner.ctx.borrow().exists(&stream);
                self.run(op, |status, _| Ok(ops::stream_status(&status)))
            }
            Err(e) => rejected(e),
        })
    }

    #[wasm_bindgen(js_name = archiveStream)]
    pub fn archive_stream(&self, stream: JsValue, options: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        let prepared = (|| {
            let stream = ops::stream_name(&stream)?;
            check_options(&options, &ARCHIVE_OPTIONS, "archiveStream options")?;
            let expected = versions::expected_version(&get(&options, "expectedStreamVersion"))?;
            Ok(self.inner.ctx.borrow().archive(&stream, expected))
        })();
        Ok(match prepared {
            Ok(op) => self.run(op, |r, _| Ok(ops::archive_result(&r))),
            Err(e) => rejected(e),
        })
    }

    #[wasm_bindgen(js_name = closeStream)]
    pub fn close_stream(&self, stream: JsValue, options: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        let prepared = (|| {
            let stream = ops::stream_name(&stream)?;
            let what = "closeStream options";
            if is_absent(&options) {
                return Err(type_error("closeStream needs options { successor, summary, expectedStreamVersion? }"));
            }
            check_options(&options, &CLOSE_OPTIONS, what)?;
            let successor = get(&options, "successor")
                .as_string()
                .ok_or_else(|| type_error(format!("{what}.successor must be a stream name (a string)")))?;
            let expected = versions::expected_version(&get(&options, "expectedStreamVersion"))?;
            let summary = match get(&options, "summary") {
                f if f.is_function() => Summary::Computed(projections::js_summary(
                    f.unchecked_into(),
                    (stream.clone(), successor.clone()),
                    self.inner.values,
                    self.inner.callbacks.clone(),
                )),
                e if e.is_object() => Summary::Event(ops::summary_event(&e, &successor, &format!("{what}.summary"))?),
                _ => {
                    return Err(type_error(format!(
                        "{what}.summary must be an event {{ type, data?, metadata?, id? }} or a function \
                         (readResult) => event"
                    )))
                }
            };
            Ok(self.inner.ctx.borrow().close_stream(&stream, expected, &successor, summary))
        })();
        Ok(match prepared {
            Ok(op) => self.run(op, |r, _| Ok(ops::close_result(&r))),
            Err(e) => rejected(e),
        })
    }

    #[wasm_bindgen(js_name = readModel)]
    pub fn read_model(&self, stream: JsValue, projection: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        let prepared = (|| {
            let stream = ops::stream_name(&stream)?;
            let name = projection_name(&projection, "readModel")?;
            Ok(self.inner.ctx.borrow().read_model(&stream, name.as_deref().unwrap_or(DEFAULT_PROJECTION_NAME)))
        })();
        Ok(match prepared {
            Ok(op) => self.run(op, |model, values| Ok(read_model_to_js(model.as_ref().map(|m| &m.document), values))),
            Err(e) => rejected(e),
        })
    }

    #[wasm_bindgen(js_name = rebuildReadModels)]
    pub fn rebuild_read_models(&self, stream: JsValue, projection: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        let prepared = (|| {
            let stream = ops::stream_name(&stream)?;
            let name = projection_name(&projection, "rebuildReadModels")?;
            Ok(self.inner.ctx.borrow().rebuild(&stream, name.as_deref()))
        })();
        Ok(match prepared {
            Ok(op) => self.run(op, |r, _| Ok(ops::rebuild_result(&r))),
            Err(e) => rejected(e),
        })
    }

    #[wasm_bindgen(js_name = rebuildAllReadModels)]
    pub fn rebuild_all_read_models(&self, stream_type: JsValue, projection: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        let prepared = (|| {
            let stream_type = stream_type
                .as_string()
                .ok_or_else(|| type_error("rebuildAllReadModels: streamType must be a string"))?;
            let name = projection_name(&projection, "rebuildAllReadModels")?;
            Ok(self.inner.ctx.borrow().rebuild_all(&stream_type, name.as_deref()))
        })();
        Ok(match prepared {
            Ok(op) => self.run(Ok(op), |r, _| {
                let object = Object::new();
                set(&object, "streams", &JsValue::from_f64(r.streams as f64));
                Ok(object.into())
            }),
            Err(e) => rejected(e),
        })
    }

    #[wasm_bindgen(js_name = findReadModels)]
    pub fn find_read_models(&self, query: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        Ok(match projections::native_query(&query, "findReadModels") {
            Ok(query) => {
                let op = self.inner.ctx.borrow().query_models(query, false);
                self.run(Ok(op), |answer, values| {
                    let found: Array = models(answer)?
                        .iter()
                        .map(|m| {
                            let entry = Object::new();
                            set(&entry, "streamName", &JsValue::from_str(&m.stream_name));
                            set(&entry, "readModel", &values::document_to_js(&m.document, values));
                            JsValue::from(entry)
                        })
                        .collect();
                    Ok(found.into())
                })
            }
            Err(e) => rejected(e),
        })
    }

    #[wasm_bindgen(js_name = countReadModels)]
    pub fn count_read_models(&self, query: JsValue) -> Result<Promise, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        Ok(match projections::native_query(&query, "countReadModels") {
            Ok(query) => {
                let op = self.inner.ctx.borrow().query_models(query, true);
                self.run(Ok(op), |answer, _| count(answer))
            }
            Err(e) => rejected(e),
        })
    }

    /// Emmett's `projections.inline.{findOne, find, count}`, over this store.
    #[wasm_bindgen(getter)]
    pub fn projections(&self) -> Result<JsValue, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        Ok(inline_queries(StoreHandle { inner: self.inner.clone() }))
    }

    pub fn subscribe(
        &self,
        options: JsValue,
        handler: JsValue,
    ) -> Result<crate::subscriptions::JsSubscription, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        crate::subscriptions::subscribe(self.inner.clone(), &options, handler)
    }

    pub fn documents(&self) -> Result<JsValue, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        Ok(values::stored_documents(&self.engine("documents()")?.borrow()))
    }

    #[wasm_bindgen(js_name = commandLog)]
    pub fn command_log(&self) -> Result<Array, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        if !self.inner.log.enabled() {
            return Err(type_error("commandLog() needs the store to keep one: new EventStore({ commandLog: true })"));
        }
        Ok(self
            .inner
            .log
            .entries()
            .into_iter()
            .map(|e| {
                let object = Object::new();
                set(&object, "step", &JsValue::from_str(e.step));
                set(&object, "command", &JsValue::from_str(&e.command));
                set(&object, "reply", &JsValue::from_str(&e.reply));
                JsValue::from(object)
            })
            .collect())
    }

    pub fn snapshot(&self) -> Result<StoreSnapshot, JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        Ok(StoreSnapshot { engine: self.engine("snapshot()")?.borrow().clone() })
    }

    /// Restores the engine; the store forgets which indexes it ensured (they may not
    /// exist in the restored state), so its next append re-creates them, and its
    /// change-stream subscriptions restart on the restored engine (from its checkpoints).
    pub fn restore(&self, snapshot: &StoreSnapshot) -> Result<(), JsValue> {
        let _call = error::enter(&self.inner.guard)?;
        *self.engine("restore()")?.borrow_mut() = snapshot.engine.clone();
        let ctx =
            StoreContext::with_shared(self.inner.config.clone(), self.inner.clock.clone(), self.inner.ids.clone())
                .map_err(|e| error::to_js(&e))?;
        *self.inner.ctx.borrow_mut() = ctx;
        self.inner.subscriptions.engine_replaced();
        Ok(())
    }
}

/// How `aggregateStream` folds: core's aggregate over the whole stream, or the events
/// of a read range (with the initial state, `evolve` and the upcast).
// Made once per call and consumed at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
enum Aggregation<A> {
    Whole(Result<A, Error>),
    Range(Result<streamdoc_core::ops::Read, Error>, Result<JsValue, JsValue>, Function, Option<Function>),
}

impl Inner {
    /// core's error as JavaScript, a `ProjectionError` with what `evolve` threw as its
    /// `cause`.
    fn error(&self, e: &Error) -> JsValue {
        self.with_cause(error::to_js(e))
    }

    /// `error` with what `evolve` threw as its `cause`, when it is a `ProjectionError`
    /// (the operation that failed is the one whose `evolve` threw: see
    /// [`Callbacks::evolve_threw`]).
    fn with_cause(&self, error: JsValue) -> JsValue {
        if get(&error, "kind").as_string().as_deref() == Some("Projection") {
            if let (Some(thrown), Some(object)) = (self.callbacks.take_evolve_thrown(), error.dyn_ref::<Object>()) {
                set(object, "cause", &thrown);
            }
        }
        error
    }
}

/// Runs an operation on the in-memory engine, keeping the command log.
fn run_on_engine<O: Operation>(log: &CommandLog, op: &mut O, engine: &mut Engine) -> Result<O::Output, Error> {
    if log.enabled() {
        driver::run_logged(op, engine, |x| log.record(x.step, x.command, x.reply.as_ref()))
    } else {
        driver::run(op, engine)
    }
}

/// The read of the events an acknowledged append wrote: the `count` positions that end
/// at the stream's new position.
fn read_back(inner: &Inner, stream: &str, count: u64, r: &AppendResult) -> Result<streamdoc_core::ops::Read, JsValue> {
    let read = inner.ctx.borrow().read(stream, r.written(count));
    if let Some(thrown) = inner.callbacks.take() {
        return Err(thrown);
    }
    read.map_err(|e| error::to_js(&e))
}

/// `{ result, events, failure }` for `afterCommit`: the append's result, and the events
/// read back or why they could not be.
fn committed(r: &AppendResult, events: Result<ReadResult, JsValue>, values: Values) -> JsValue {
    let object = Object::new();
    set(&object, "result", &ops::append_result(r));
    match events {
        Ok(read) => {
            let events: Array = read.events.iter().map(|e| ops::recorded_event(e, values)).collect();
            set(&object, "events", &events);
        }
        Err(failure) => set(&object, "failure", &failure),
    }
    object.into()
}

impl EventStore {
    /// The guard of this store's calls.
    pub(crate) fn guard(&self) -> &Guard {
        &self.inner.guard
    }

    /// The store behind a JavaScript value, if it is an `EventStore` (through its
    /// `__handle()`, which gives a handle up to Rust without giving up the store).
    pub(crate) fn from_js(v: &JsValue) -> Option<StoreHandle> {
        let handle = get(v, "__handle").dyn_into::<Function>().ok()?.call0(v).ok()?;
        <StoreHandle as wasm_bindgen::convert::TryFromJsValue>::try_from_js_value(handle).ok()
    }

    fn engine(&self, method: &str) -> Result<&RefCell<Engine>, JsValue> {
        match &self.inner.backend {
            Backend::Engine(engine) => Ok(engine.as_ref()),
            Backend::Js(_) => {
                Err(type_error(format!("{method} needs the in-memory engine; this store runs on options.executor")))
            }
        }
    }

    /// A prepared operation, or the rejection to return instead: the error of a
    /// JavaScript callback that failed while it was being prepared (clock, id
    /// generator, storage resolver), or the operation's own.
    fn ready<O>(&self, op: Result<O, Error>) -> Result<O, Promise> {
        if let Some(thrown) = self.inner.callbacks.take() {
            return Err(rejected(thrown));
        }
        op.map_err(|e| rejected(error::to_js(&e)))
    }

    /// Runs a prepared operation: synchronously on the engine, or as a task awaiting
    /// the JavaScript executor. A JavaScript callback that failed while the operation
    /// was being prepared (clock, id generator, storage resolver) rejects with its error.
    fn run<O: Operation + 'static>(
        &self,
        op: Result<O, Error>,
        output: impl FnOnce(O::Output, Values) -> Result<JsValue, JsValue> + 'static,
    ) -> Promise {
        let mut op = match self.ready(op) {
            Ok(op) => op,
            Err(rejection) => return rejection,
        };
        let inner = self.inner.clone();
        match &inner.backend {
            Backend::Engine(engine) => {
                let result = run_on_engine(&inner.log, &mut op, &mut engine.borrow_mut());
                match result.map_err(|e| inner.error(&e)).and_then(|value| output(value, inner.values)) {
                    Ok(js) => Promise::resolve(&js),
                    Err(e) => rejected(e),
                }
            }
            Backend::Js(executor) => {
                let executor = executor.clone();
                executor::spawn(inner.guard.clone(), async move {
                    let value = executor::run(&mut op, &executor, &inner.log).await.map_err(|e| inner.with_cause(e))?;
                    output(value, inner.values)
                })
            }
        }
    }

    /// Runs an append, then, once it is acknowledged, reads back the events it wrote and
    /// hands them to `hook` (`hooks.onAfterCommit`). Only the append can fail the call:
    /// a failed read-back or hook is logged (`afterCommit`), as in Emmett.
    fn run_committed(&self, op: Result<Append, Error>, stream: String, count: u64, hook: Function) -> Promise {
        let mut op = match self.ready(op) {
            Ok(op) => op,
            Err(rejection) => return rejection,
        };
        let inner = self.inner.clone();
        let committed = match &inner.backend {
            Backend::Engine(engine) => {
                let engine = &mut *engine.borrow_mut();
                let r = match run_on_engine(&inner.log, &mut op, engine) {
                    Ok(r) => r,
                    Err(e) => return rejected(inner.error(&e)),
                };
                let events = read_back(&inner, &stream, count, &r)
                    .and_then(|mut read| run_on_engine(&inner.log, &mut read, engine).map_err(|e| error::to_js(&e)));
                Promise::resolve(&committed(&r, events, inner.values))
            }
            Backend::Js(executor) => {
                let executor = executor.clone();
                executor::spawn(inner.guard.clone(), async move {
                    let r = executor::run(&mut op, &executor, &inner.log).await.map_err(|e| inner.with_cause(e))?;
                    let events = match read_back(&inner, &stream, count, &r) {
                        Ok(mut read) => executor::run(&mut read, &executor, &inner.log).await,
                        Err(e) => Err(e),
                    };
                    Ok(committed(&r, events, inner.values))
                })
            }
        };
        after_commit(committed, &hook)
    }
}
