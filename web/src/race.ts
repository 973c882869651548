// The race lab's model: the race (clients and their scripts) as the package's
// `Simulation`, run along a schedule one step at a time, each step recorded as a frame
// (its commands and replies, the documents after it, who can move next). Going back or
// forward replays the schedule's prefix on a fresh Simulation, which is cheap; every
// decision in a frame (what a client sends, what the engine answers, whether an
// invariant broke) is the package's.
import {
  type ClientScript,
  type Design,
  type Engine,
  type Outcome,
  type SimOperation,
  Simulation,
  type SimulationOptions,
  type StoredDocuments,
  type TraceEntry,
  type Violation,
} from "streamdoc";
import { features } from "./features";
import type { RaceClient, RaceOp, RaceState } from "./session";
import { expectedVersion } from "./store";
import { errorInWords, expectedInWords, statusInWords } from "./words";

/** A trace entry, with `lost` once the package reports lost replies. */
export type Entry = TraceEntry & { lost?: boolean };

/** The state after a step (frame 0: before any). */
export interface Frame {
  /** The client that moved to get here (`null` for frame 0). */
  client: number | null;
  /** The commands of this step. */
  entries: Entry[];
  /** Whether this step's reply was lost. */
  lost: boolean;
  documents: StoredDocuments;
  runnable: number[];
  /** What each client would send next (mongosh), or `null`. */
  pending: (string | null)[];
  /** Operations that finished at this step. */
  finished: Outcome[];
  violations: Violation[];
  done: boolean;
}

export interface RaceRun {
  names: string[];
  frames: Frame[];
  /** Why the race could not be run (or why a step of its schedule was refused). */
  error: string | null;
}

/** The package's operation for a scripted one (a retry is two appends with the same id without lost replies). */
function simOps(race: RaceState, client: RaceClient): SimOperation[] {
  return client.ops.flatMap((op: RaceOp, i): SimOperation[] => {
    if (op.op === "read") {
      return [
        op.fromArchive ? { op: "read", stream: race.stream, fromArchive: true } : { op: "read", stream: race.stream },
      ];
    }
    if (op.op === "status") return [{ op: "status", stream: race.stream }];
    if (op.op === "archive") {
      return [{ op: "archive", stream: race.stream, expected: expectedVersion(op.expected) }];
    }
    if (op.op === "closeStream") {
      const summary = { type: op.type, data: { by: client.name, closes: race.stream } };
      const expected = expectedVersion(op.expected);
      return [{ op: "closeStream", stream: race.stream, successor: op.successor, summary, expected }];
    }
    const event = { type: op.type, data: { by: client.name } };
    const expected = expectedVersion(op.expected);
    if (op.op === "append") {
      const ids = op.ids?.[0];
      return [{ op: "append", stream: race.stream, events: [ids ? { ...event, id: ids } : event], expected }];
    }
    // A retry after a lost reply: the same event id each time.
    const withId = { ...event, id: `${client.name}-retry-${i}` };
    const append: SimOperation = { op: "append", stream: race.stream, events: [withId], expected };
    return features.loseReply ? [append] : [append, { ...append }];
  });
}

export function simulationOptions(race: RaceState): SimulationOptions {
  const clients: ClientScript[] = race.clients.map((c) => ({ name: c.name, ops: simOps(race, c) }));
  const options: SimulationOptions = { clients };
  if (features.designs) Object.assign(options, { design: race.design });
  // A "retry" op retries once after a lost reply, with the same event ids.
  if (features.loseReply) Object.assign(options, { retries: 1 });
  return options;
}

/** A fresh Simulation of the race: the package's own race when it is one, unchanged; on `engine` when given. */
export function newSimulation(race: RaceState, engine?: Engine): Simulation {
  const on = engine ? { engine } : {};
  if (race.from !== undefined && features.designs) {
    return Simulation.fromRace(race.from, { design: race.design as Design, ...on });
  }
  return new Simulation({ ...simulationOptions(race), ...on });
}

function frameOf(
  sim: Simulation,
  names: string[],
  client: number | null,
  entries: Entry[],
  lost: boolean,
  finished: Outcome[],
): Frame {
  return {
    client,
    entries,
    lost,
    documents: sim.documents(),
    runnable: sim.runnable(),
    pending: names.map((_, i) => sim.pending(i)),
    finished,
    violations: sim.checkInvariants(),
    done: sim.isFinished(),
  };
}

/** Runs the whole schedule, recording a frame per step. */
export function runRace(race: RaceState): RaceRun {
  let sim: Simulation;
  try {
    sim = newSimulation(race);
  } catch (e) {
    return { names: race.clients.map((c) => c.name), frames: [], error: errorInWords(e) };
  }
  try {
    const names = sim.clientNames();
    const frames: Frame[] = [frameOf(sim, names, null, [], false, [])];
    const lost = new Set(race.lost);
    for (const [i, client] of race.schedule.entries()) {
      if (!sim.runnable().includes(client)) {
        return { names, frames, error: `step ${i + 1}: ${names[client] ?? "that client"} has nothing left to send.` };
      }
      const traced = sim.trace().length;
      const done = sim.outcomes().length;
      const losing = lost.has(i) && features.loseReply;
      sim.step(client, losing ? { loseReply: true } : undefined);
      frames.push(frameOf(sim, names, client, sim.trace().slice(traced), losing, sim.outcomes().slice(done)));
    }
    return { names, frames, error: null };
  } catch (e) {
    return { names: race.clients.map((c) => c.name), frames: [], error: errorInWords(e) };
  } finally {
    sim.free();
  }
}

/** A client's script in words. */
export function scriptInWords(op: RaceOp): string {
  if (op.op === "read") return op.fromArchive ? "read the stream from the archive" : "read the stream";
  if (op.op === "status") return "ask for the stream's status";
  const checked = op.expected === "any" ? "with no check" : `expecting ${expectedInWords(op.expected)}`;
  if (op.op === "archive") return `archive the stream ${checked}`;
  if (op.op === "closeStream") {
    return `close the books ${checked}: archive the stream, start ${op.successor} with a ${op.type} summary`;
  }
  const at =
    op.expected === "any"
      ? "with no check (reads the position, then appends)"
      : `expecting ${expectedInWords(op.expected)}`;
  if (op.op === "retry") return `append ${op.type} ${at}; its reply is lost, so it retries with the same event id`;
  return `append ${op.type} ${at}`;
}

/** An operation's result in words. */
export function outcomeInWords(outcome: Outcome): string {
  const words = resultInWords(outcome);
  return outcome.attempts > 1 ? `${words} (sent ${outcome.attempts} times: its reply was lost)` : words;
}

function resultInWords(outcome: Outcome): string {
  const result = outcome.result;
  if ("error" in result) return errorInWords(result.error);
  const ok = result.ok;
  if (typeof ok === "boolean") return ok ? "the stream exists" : "the stream does not exist";
  // A read of a read model (which the race lab's clients do not run).
  if (ok === null) return "read: no read model";
  if ("_metadata" in ok) return `read the read model (version ${ok._metadata.streamPosition})`;
  if ("closedAt" in ok) {
    return `closed the books at version ${ok.closedAt}: ${ok.successor} starts with the summary, at version ${ok.nextExpectedStreamVersion}`;
  }
  if ("state" in ok) return statusInWords(ok);
  if (!("streamExists" in ok) && "streamPosition" in ok) {
    const next = ok.successor ? `, continued by ${ok.successor}` : "";
    return `archived the stream at version ${ok.streamPosition}${next}`;
  }
  if ("nextExpectedStreamVersion" in ok) {
    return `${ok.createdNewStream ? "created the stream: " : ""}appended, the stream is at version ${ok.nextExpectedStreamVersion}`;
  }
  if (!("events" in ok)) {
    return ok.streamExists ? `rebuilt the read models at version ${ok.streamPosition}` : "rebuild: no stream yet";
  }
  const events = ok.events.length === 1 ? "1 event" : `${ok.events.length} events`;
  const archive = outcome.op.op === "read" && outcome.op.fromArchive === true;
  if (archive) {
    return ok.streamExists
      ? `read ${events} from the archive (version ${ok.currentStreamVersion})`
      : "read the archive: the stream is not there (not archived)";
  }
  return ok.streamExists ? `read ${events} (version ${ok.currentStreamVersion})` : "read: no stream yet";
}

/** A reply in a word or two, for the lanes. */
export function replyInBrief(reply: string): string {
  if (reply.startsWith("MongoServerError[11000]")) return "E11000 duplicate key";
  if (reply.startsWith("MongoServerError")) return reply.slice(0, reply.indexOf("]") + 1);
  if (reply.startsWith("no reply")) return "no reply";
  if (reply === "null") return "null (no document)";
  if (reply === "{ ok: 1 }") return "ok";
  if (/upsertedCount: 1/.test(reply)) return "upserted (new document)";
  const matched = /matchedCount: (\d+)/.exec(reply);
  if (matched) return `matched ${matched[1]}`;
  return "found a document";
}
