//! WebAssembly bindings of `streamdoc-core`, published to npm as `streamdoc`.
//!
//! The bindings translate; every decision lives in `streamdoc-core`. Each method of the
//! JavaScript classes converts its arguments, makes one core call and converts the
//! result or the error ([`error`]). The conversions, by concern: [`js`] (plain
//! JavaScript helpers), [`values`] (BSON ⇄ JavaScript, depth-limited), [`wire`]
//! (commands and replies), [`versions`] (expected versions), [`ops`] (events, ranges, results, operations as
//! data) and [`encoded_append`] (the fast path of `appendToStream`'s arguments).
//!
//! - `EventStore` ([`store`]): core's store, shaped like Emmett's `EventStore`, on the
//!   in-memory engine or on a JavaScript executor (an async function that runs
//!   commands), driven by the async loop in [`executor`].
//! - `Subscription` ([`subscriptions`]): core's subscription machine, driven by an
//!   async loop over the store's engine (its change feed) or executor, with the
//!   handler's batches awaited one at a time.
//! - `Engine` ([`engine`]): the in-memory engine, shareable through executors.
//! - `Simulation` ([`sim`]): the simulator, with explicit schedules and exploration.
//!
//! The TypeScript declarations are written next to each class (`typescript_custom_section`)
//! and checked by `tsc` against a typed example in the test suite.

pub mod encoded_append;
pub mod engine;
pub mod error;
pub mod executor;
pub mod explorer;
mod heap;
pub mod js;
pub mod ops;
pub mod options;
pub mod projections;
pub mod sim;
pub mod store;
pub mod subscriptions;
mod testing;
pub mod values;
pub mod versions;
pub mod wire;

use std::sync::Arc;

use streamdoc_core::{IdGenerator, SeededIds};
use wasm_bindgen::prelude::*;

pub use engine::JsEngine;
pub use sim::JsSimulation;
pub use store::{EventStore, StoreSnapshot};

#[wasm_bindgen(typescript_custom_section)]
const SHARED_TYPES: &'static str = r#"
/** `Record<string, unknown>`, as in Emmett: event data and metadata. */
export type DefaultRecord = Record<string, unknown>;

/**
 * A BSON value as JavaScript. In: `number` (Int32 when an integer in range, else Double),
 * `bigint` (Int64), `Date`, `Uint8Array`, strings, booleans, `null`, arrays, objects, and
 * Extended JSON objects such as `{ $numberLong: "5" }` for any other BSON type.
 * Out (`values: "native"`): the same, with Int64 as `bigint` and other types as canonical Extended JSON.
 */
export type BsonValue = number | bigint | string | boolean | null | Date | Uint8Array | BsonValue[] | { [key: string]: BsonValue };

/** A value in canonical Extended JSON (plain JSON). */
export type ExtendedJson = string | number | boolean | null | ExtendedJson[] | { [key: string]: ExtendedJson };

/** A document in canonical Extended JSON, e.g. `{ total: { $numberInt: "42" } }`. */
export type ExtendedJsonDocument = { [key: string]: ExtendedJson };

/** Stored documents by `database.collection`, in canonical Extended JSON. */
export type StoredDocuments = Record<string, ExtendedJsonDocument[]>;

/** The expected position of a stream before an append. */
export type ExpectedStreamVersion = bigint | "STREAM_DOES_NOT_EXIST" | "STREAM_EXISTS" | "NO_CONCURRENCY_CHECK";

/** An event to append. `id` makes retries idempotent; it is generated when absent. */
export interface NewEvent<Type extends string = string, Data extends DefaultRecord = DefaultRecord, Metadata extends DefaultRecord = DefaultRecord> {
  type: Type;
  data?: Data;
  /** Caller metadata; may not use the keys the store writes (`eventId`/`messageId`, `streamName`, `streamPosition`, `recordedAt`). */
  metadata?: Metadata;
  id?: string;
}

/**
 * The fields the store writes into every event's metadata. The id is `eventId` in the
 * streamdoc layout and `messageId` in the Emmett layout (the other is absent).
 */
export interface RecordedEventMetadata {
  /** The event id (streamdoc layout). */
  eventId?: string;
  /** The event id (Emmett layout). */
  messageId?: string;
  /** The stream the event belongs to. */
  streamName: string;
  /** The event's 1-based position in the stream (an Int64). */
  streamPosition: bigint;
  /** When the append was made (absent from events written by Emmett). */
  recordedAt?: Date;
}

/**
 * An event as stored and read back: the shape of the event in its stream document,
 * and the one shape the package, the HTTP API and the scenario runners return. The
 * system fields sit in `metadata`, beside the caller's metadata.
 */
export interface RecordedEvent<Type extends string = string, Data extends DefaultRecord = DefaultRecord, Metadata extends DefaultRecord = DefaultRecord> {
  type: Type;
  data: Data;
  metadata: Metadata & RecordedEventMetadata;
}

/** The stable kinds of errors (each has a class named `${kind}Error`). */
export type ErrorKind =
  | "InvalidStreamName" | "InvalidConfig" | "EmptyAppend" | "InvalidEvent" | "ConcurrencyConflict"
  | "StreamTooLarge" | "StreamArchived" | "InvalidRange" | "Contention" | "CorruptDocument" | "Projection"
  | "InvalidQuery" | "Subscription" | "Server" | "UnexpectedReply" | "Unavailable" | "Misuse";

/** An error as data: its kind and fields, as the scenario corpus spells them. */
export interface ErrorDetails {
  kind: string;
  [field: string]: unknown;
}

/** A MongoDB command, as a JavaScript executor receives it (documents in canonical Extended JSON). */
export type Command = {
  database: string;
  collection: string;
} & (
  | { kind: "createIndex"; keys: ExtendedJsonDocument; name: string; unique: boolean }
  | { kind: "findOne"; filter: ExtendedJsonDocument; projection: ExtendedJsonDocument | null }
  /** Every matching document (all batches), in `sort` order, after `skip`, at most `limit` (0: no limit). */
  | {
      kind: "find";
      filter: ExtendedJsonDocument;
      projection: ExtendedJsonDocument | null;
      sort: ExtendedJsonDocument | null;
      skip: number;
      limit: number;
    }
  /** `countDocuments(filter, { skip, limit })` (0: none). */
  | { kind: "count"; filter: ExtendedJsonDocument; skip: number; limit: number }
  | { kind: "updateOne"; filter: ExtendedJsonDocument; update: ExtendedJsonDocument; upsert: boolean }
  | { kind: "insertOne"; document: ExtendedJsonDocument }
  | { kind: "deleteOne"; filter: ExtendedJsonDocument }
);

/** A document in a reply: canonical or relaxed Extended JSON, or native values. */
export type ReplyDocument = { [key: string]: BsonValue | ExtendedJson };

/** The server's answer to a command. A write error with code 11000 is `duplicateKey`. */
export type Reply =
  | { kind: "acknowledged" }
  | { kind: "found"; document: ReplyDocument | null }
  | { kind: "foundMany"; documents: ReplyDocument[] }
  | { kind: "counted"; count: number }
  | { kind: "updated"; matchedCount: number; modifiedCount: number; upsertedId?: BsonValue | ExtendedJson | null }
  | { kind: "inserted"; insertedId: BsonValue | ExtendedJson }
  | { kind: "deleted"; deletedCount: number }
  | { kind: "duplicateKey"; message: string }
  | { kind: "serverError"; code: number; message: string };

/**
 * Runs one command. Throwing or rejecting means "no reply" (the store reports
 * `UnavailableError`; for a write the outcome is unknown, so retry with the same event ids).
 */
export type Executor = (command: Command) => Reply | Promise<Reply>;

/** A generator of deterministic event ids (`idSeed` shared by several stores). */
export function seededEventIds(seed: number | bigint): () => string;
"#;

/// `seededEventIds(seed)`: a function returning core's seeded event ids, for
/// `generateEventId` shared by several stores.
#[wasm_bindgen(js_name = seededEventIds, skip_typescript)]
pub fn seeded_event_ids(seed: JsValue) -> Result<JsValue, JsValue> {
    let _call = error::enter_free()?;
    let ids = Arc::new(SeededIds::new(options::seed(&seed, "seed")?));
    Ok(Closure::<dyn FnMut() -> String>::new(move || ids.next_event_id()).into_js_value())
}
