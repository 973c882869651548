// Errors and results in plain words, built from the fields the package gives (`kind` and
// `details` of its errors): "conflict: you expected 1, the stream is at 2". Never a stack.
import type { StreamStatus } from "streamdoc";
import type { StoreOp } from "./session";

/** An error as the package reports it. */
interface Reported {
  name?: unknown;
  message?: unknown;
  kind?: unknown;
  details?: unknown;
}

const bytes = (n: number) => `${n.toLocaleString("en")} bytes`;

/** An expected version from an error's details (`1`, `"noStream"`, …) in words. */
export function expectedInWords(expected: unknown): string {
  if (typeof expected === "number" || typeof expected === "bigint") return String(expected);
  switch (expected) {
    case "noStream":
    case "STREAM_DOES_NOT_EXIST":
      return "no stream";
    case "exists":
    case "streamExists":
    case "STREAM_EXISTS":
      return "an existing stream";
    case "any":
    case "NO_CONCURRENCY_CHECK":
      return "any version";
    default:
      return String(expected);
  }
}

const NAME_REASONS: Record<string, string> = {
  missingColon: "it has no ':' between the stream type and the stream id",
  emptyType: "its stream type (before the first ':') is empty",
  emptyId: "its stream id (after the first ':') is empty",
  tooLong: "it is too long to be stored",
};

const EVENT_REASONS: Record<string, string> = {
  emptyType: "its type is empty",
  duplicateId: "its id is used by another event of the same append",
  reservedMetadataKey: "its metadata uses a key the store writes itself",
};

/** What went wrong, in a sentence. */
export function errorInWords(error: unknown): string {
  const e = (typeof error === "object" && error !== null ? error : { message: String(error) }) as Reported;
  const d = (typeof e.details === "object" && e.details !== null ? e.details : {}) as Record<string, unknown>;
  const message = typeof e.message === "string" ? e.message : String(error);
  switch (e.kind) {
    case "ConcurrencyConflict": {
      const actual = d.actual === null || d.actual === undefined ? "does not exist" : `is at ${d.actual}`;
      return `conflict: you expected ${expectedInWords(d.expected)}, the stream ${actual} (${d.stream}). Nothing was written.`;
    }
    case "InvalidStreamName": {
      const why = NAME_REASONS[String(d.reason)];
      const name = d.name === undefined || d.name === null ? "the stream name" : JSON.stringify(d.name);
      return why ? `${name} is not a stream name: ${why}.` : message;
    }
    case "InvalidEvent": {
      const why = EVENT_REASONS[String(d.reason)] ?? `${d.reason}`;
      return `event ${Number(d.index) + 1} of the append to ${d.stream} is refused: ${why}. Nothing was written.`;
    }
    case "EmptyAppend":
      return `an append to ${d.stream} needs at least one event. Nothing was written.`;
    case "StreamTooLarge":
      return `the append would grow the document of ${d.stream} past MongoDB's limit of ${bytes(Number(d.limitBytes))} (16 MiB). Nothing was written.`;
    case "InvalidRange":
      return `the read range ends (to ${d.to}) before it starts (from ${d.from}).`;
    case "StreamArchived": {
      const next = typeof d.successor === "string" ? `, continued by ${d.successor}` : "";
      return `${d.stream} is archived (at version ${d.position}${next}): it takes no more appends. Nothing was written.`;
    }
    case "Contention":
      return `gave up on ${d.stream} after ${d.attempts} attempts each lost the race for the position.`;
    case "Projection":
      // What evolve threw (or why its answer cannot be stored) is in the package's message.
      return `the projection "${d.projection}" failed on ${d.stream}: ${String(d.message ?? message).replace(/\.$/, "")}. Nothing was written.`;
    case "InvalidConfig":
      if (d.reason === "invalidProjection") {
        return `the projection ${JSON.stringify(d.name)} is refused: ${String(d.why).replace(/\.$/, "")}.`;
      }
      if (d.reason === "unsupported") {
        return `the store's configuration is refused (${d.option}): ${message.replace(/^invalid configuration: /, "").replace(/\.$/, "")}.`;
      }
      return `the storage configuration cannot place this stream: ${message.replace(/^invalid configuration: /, "")}.`;
    case "Unavailable":
      return `no reply from the server: ${message.replace(/^server unavailable: /, "")}. A write may or may not have happened: retry with the same event ids.`;
    case "Server":
      return `the server refused a command (code ${d.code}): ${d.message}.`;
    default:
      if (e.name === "TypeError") return `refused: ${message}`;
      return message;
  }
}

/** A stream's status (`streamStatus`) in words. */
export function statusInWords(status: StreamStatus): string {
  const next = status.successor ? `, continued by ${status.successor}` : "";
  const previous = status.predecessor
    ? `, continuing ${status.predecessor.streamName} (closed at version ${status.predecessor.streamPosition})`
    : "";
  switch (status.state) {
    case "missing":
      return "status: the stream does not exist";
    case "live":
      return `status: live at version ${status.streamPosition}${previous}`;
    case "sealed":
      return `status: sealed at version ${status.streamPosition} (an archive is under way: no more appends)${next}`;
    default:
      return `status: archived at version ${status.streamPosition}${next}${previous}`;
  }
}
/** A store operation in a few words, for the command log's origins and the export: "append OrderPlaced to order:1". */
export function opInBrief(op: StoreOp): string {
  switch (op.op) {
    case "append":
      return `append ${op.type} to ${op.stream}`;
    case "read":
      return op.fromArchive ? `read ${op.stream} from the archive` : `read ${op.stream}`;
    case "archive":
      return `archive ${op.stream}`;
    case "closeStream":
      return `close ${op.stream} into ${op.successor}`;
    default:
      return `status of ${op.stream}`;
  }
}
