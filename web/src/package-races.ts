// The package's gallery of races (`races()`) as race-lab sessions. A race opened from
// there keeps its id in `from`: the stepper and the explorer then build it with
// `Simulation.fromRace` (its setup run first, its retry policy), until its clients are
// edited, when it becomes the session's own race.
import { NO_CONCURRENCY_CHECK, type Race, races, STREAM_DOES_NOT_EXIST, STREAM_EXISTS } from "streamdoc";
import type { Expected, RaceOp, RaceState } from "./session";

let cache: Race[] | null = null;

/** The package's races (empty if it has none). */
export function packageRaces(): Race[] {
  if (cache) return cache;
  try {
    cache = typeof races === "function" ? races() : [];
  } catch {
    cache = [];
  }
  return cache;
}

export function packageRace(id: string): Race | undefined {
  return packageRaces().find((r) => r.id === id);
}

function expectedOf(v: unknown): Expected {
  if (typeof v === "bigint" || typeof v === "number") return Number(v);
  if (v === STREAM_DOES_NOT_EXIST) return "noStream";
  if (v === STREAM_EXISTS) return "exists";
  if (v === NO_CONCURRENCY_CHECK || v === undefined) return "any";
  return "any";
}

/** The race `id` of the package as the race lab's state, at its suggested schedule. */
export function raceStateOf(id: string, design = "streamdoc"): RaceState | null {
  const race = packageRace(id);
  if (!race) return null;
  let stream = "order:1";
  const clients = race.clients.map((c) => ({
    name: c.name,
    ops: c.ops.map((op): RaceOp => {
      stream = op.stream;
      if (op.op === "status") return { op: "status" };
      if (op.op === "archive") return { op: "archive", expected: expectedOf(op.expected) };
      if (op.op === "closeStream") {
        return { op: "closeStream", expected: expectedOf(op.expected), successor: op.successor, type: op.summary.type };
      }
      if (op.op === "read" && op.fromArchive) return { op: "read", fromArchive: true };
      if (op.op !== "append") return { op: "read" };
      const ids = op.events.map((e) => e.id).filter((x): x is string => typeof x === "string");
      const type = op.events[0]?.type ?? "Event";
      return ids.length > 0
        ? { op: "append", expected: expectedOf(op.expected), type, ids }
        : { op: "append", expected: expectedOf(op.expected), type };
    }),
  }));
  return { stream, clients, design, schedule: [...race.schedule], step: 0, lost: [...race.lost], from: id };
}
