// Types of runtime.js: the error classes and the expected-version constants.
import type { ErrorDetails, ExpectedStreamVersion, ErrorKind } from "../../../streamdoc.js";

/** `expectedStreamVersion`: the stream must not exist (no events yet). */
export declare const STREAM_DOES_NOT_EXIST: "STREAM_DOES_NOT_EXIST";
/** `expectedStreamVersion`: the stream must exist. */
export declare const STREAM_EXISTS: "STREAM_EXISTS";
/** `expectedStreamVersion`: no check (the default). */
export declare const NO_CONCURRENCY_CHECK: "NO_CONCURRENCY_CHECK";

/** The base class of every error the store reports. */
export declare class StreamdocError extends Error {
  /** core's stable kind, e.g. `"ConcurrencyConflict"`; the class is named `${kind}Error`. */
  readonly kind: ErrorKind | "Internal";
  /** The error as data (core's serde form: `kind` plus its fields), as the scenario corpus spells it. */
  readonly details: ErrorDetails;
  /**
   * Emmett's `errorCode` (`EmmettError.Codes`), the HTTP status of the error: 412 for a
   * concurrency conflict, 400 for an invalid argument (stream name, event, empty append,
   * range, read model query), 403 for an append the stream's size or archive forbids, 500 otherwise
   * (a failed projection included).
   */
  readonly errorCode: 400 | 403 | 412 | 500;
}
/** The stream name is not `{type}:{id}` or cannot be stored. */
export declare class InvalidStreamNameError extends StreamdocError {
  readonly kind: "InvalidStreamName";
  /** Why, e.g. `"missingColon"`, `"emptyType"`, `"tooLong"`. */
  readonly reason: string;
  /** The refused name, when the reason names it. */
  readonly streamName: string | null;
}
/** The store configuration is unusable: a database or collection name, the default stream type, a projection's definition, or options that do not work together. */
export declare class InvalidConfigError extends StreamdocError {
  readonly kind: "InvalidConfig";
  /** `"invalidDatabase"`, `"invalidCollection"`, `"invalidDefaultStreamType"`, `"invalidProjection"` or `"unsupported"`. */
  readonly reason: string;
  /** The refused database, collection, stream type or projection name, or the unsupported option. */
  readonly name: string;
  /** For `reason: "unsupported"`: the option refused (`"segments"`, `"archive"`), with why in the message. */
  readonly option?: string;
}
/** An append without events: nothing is written. */
export declare class EmptyAppendError extends StreamdocError {
  readonly kind: "EmptyAppend";
  readonly streamName: string;
}
/** One event of an append is invalid: nothing is written. */
export declare class InvalidEventError extends StreamdocError {
  readonly kind: "InvalidEvent";
  readonly streamName: string;
  /** The index of the event in the append. */
  readonly index: number;
  /** Why, e.g. `"emptyType"`, `"duplicateId"`, `"reservedMetadataKey"`. */
  readonly reason: string;
}
/** The stream was not where the append expected it. */
export declare class ConcurrencyConflictError extends StreamdocError {
  readonly kind: "ConcurrencyConflict";
  readonly streamName: string;
  /** What the append expected. */
  readonly expected: ExpectedStreamVersion;
  /** The stream's position, or `null` when the stream does not exist. */
  readonly actual: bigint | null;
  /** Emmett's `ConcurrencyError.current`: the stream's position as a string (`"0"` when it does not exist). */
  readonly current: string;
  readonly errorCode: 412;
}
/** The append would grow the stream document past the server's limit: nothing is written. */
export declare class StreamTooLargeError extends StreamdocError {
  readonly kind: "StreamTooLarge";
  readonly streamName: string;
  readonly limitBytes: number;
}
/**
 * The stream is archived (or being archived): nothing more is appended to it, and it is
 * read with `readStream(name, { fromArchive: true })`. `errorCode` 403, as for a stream
 * too large.
 */
export declare class StreamArchivedError extends StreamdocError {
  readonly kind: "StreamArchived";
  readonly streamName: string;
  /** The position the stream was archived at. */
  readonly position: bigint;
  /** The stream that continues it (closed with `closeStream`), or `null`. */
  readonly successor: string | null;
  readonly errorCode: 403;
}
/** A read range whose `to` lies before its `from`. */
export declare class InvalidRangeError extends StreamdocError {
  readonly kind: "InvalidRange";
  readonly from: bigint;
  readonly to: bigint;
}
/** An `NO_CONCURRENCY_CHECK`/`STREAM_EXISTS` append lost the race too many times. */
export declare class ContentionError extends StreamdocError {
  readonly kind: "Contention";
  readonly streamName: string;
  readonly attempts: number;
}
/** A stored document does not have the shape of a stream document. */
export declare class CorruptDocumentError extends StreamdocError {
  readonly kind: "CorruptDocument";
  readonly streamName: string;
  readonly reason: string;
}
/**
 * A projection's `evolve` threw, returned a Promise (it must be synchronous), or returned
 * a state that cannot be stored: the append (or rebuild) wrote nothing.
 */
export declare class ProjectionError extends StreamdocError {
  readonly kind: "Projection";
  readonly streamName: string;
  /** The projection's name. */
  readonly projection: string;
  /** What `evolve` threw, when it threw. */
  readonly cause?: unknown;
}
/** A query over read models is malformed or unsupported (e.g. `$where`): nothing was sent. */
export declare class InvalidQueryError extends StreamdocError {
  readonly kind: "InvalidQuery";
  /** Why: `"unsupportedOperator"`, `"invalidLogicalOperator"`, `"invalidPath"`, `"invalidSortDirection"`, `"invalidProjectionName"` or `"customStorage"`. */
  readonly reason: string;
  /** The refused operator (`"$where"`), for `unsupportedOperator` and `invalidLogicalOperator`. */
  readonly operator?: string;
  /** The refused field path, for `invalidPath` and `invalidSortDirection`. */
  readonly path?: string;
  /** The refused projection name, for `invalidProjectionName`. */
  readonly projectionName?: string;
  readonly errorCode: 400;
}
/** A subscription cannot run (its options, the store's storage, the source), or what it ran into. */
export declare class SubscriptionError extends StreamdocError {
  readonly kind: "Subscription";
  /**
   * Why: `"invalidConfig"` (consumer name, a size, the checkpoints collection),
   * `"streamTypeRequired"` (a store with a collection per stream type),
   * `"customStorage"`, `"checkpointConflict"`, `"historyLost"` (the change stream's
   * resume point is gone) or `"changeStreamsUnsupported"` (`source: "changeStream"`
   * where there is no change stream, e.g. over `options.executor`).
   */
  readonly reason: string;
  /** The consumer, for `checkpointConflict` and `historyLost`. */
  readonly consumer?: string;
  /** The stream, for `checkpointConflict`. */
  readonly streamName?: string;
  /** The checkpoint the write expected, for `checkpointConflict`. */
  readonly expected?: bigint;
  readonly errorCode: 400 | 403 | 412;
}
/** The server refused a command for a reason the store does not handle. */
export declare class ServerError extends StreamdocError {
  readonly kind: "Server";
  readonly code: number;
  readonly serverMessage: string;
}
/** The executor answered a command with a reply of the wrong kind. */
export declare class UnexpectedReplyError extends StreamdocError {
  readonly kind: "UnexpectedReply";
  readonly step: string;
  readonly reply: string;
}
/** The executor gave no reply (it threw, its promise rejected, or its reply was malformed). */
export declare class UnavailableError extends StreamdocError {
  readonly kind: "Unavailable";
  /** True when a write may have been applied: retry with the same event ids. */
  readonly outcomeUnknown: boolean;
  /** What the executor threw, if it threw. */
  readonly cause: unknown;
}
/** An operation was driven against its contract. */
export declare class MisuseError extends StreamdocError {
  readonly kind: "Misuse";
}
/** A bug: the WebAssembly module panicked; every later call fails with this error too. */
export declare class InternalError extends StreamdocError {
  readonly kind: "Internal";
}
