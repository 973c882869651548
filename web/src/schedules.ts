// Named schedules: ways of choosing who moves next, turned into a concrete schedule by
// asking a fresh Simulation which clients can move at each step.
import { newSimulation } from "./race";
import type { RaceState } from "./session";

export type Policy =
  /** Each client runs to the end of its script, in this order. */
  | { kind: "sequential"; order: number[] }
  /** One step each, in turn. */
  | { kind: "interleaved" }
  /** Each entry lets that client run until its current operation finishes. */
  | { kind: "operations"; order: number[] };

/** Enough for any race the lab builds (4 clients of 3 operations take a few dozen steps). */
const MAX_STEPS = 500;

/** The schedule a policy gives for a race (the steps until every client is done). */
export function scheduleFor(race: RaceState, policy: Policy): number[] {
  const sim = newSimulation({ ...race, schedule: [], step: 0, lost: [] });
  const schedule: number[] = [];
  const move = (client: number) => {
    sim.step(client);
    schedule.push(client);
  };
  try {
    if (policy.kind === "operations") {
      for (const client of policy.order) {
        const done = () => sim.outcomes().filter((o) => o.client === client).length;
        const before = done();
        while (done() === before && sim.runnable().includes(client) && schedule.length < MAX_STEPS) move(client);
      }
    }
    let turn = 0;
    while (!sim.isFinished() && schedule.length < MAX_STEPS) {
      const runnable = sim.runnable();
      let next: number | undefined;
      if (policy.kind === "interleaved") {
        const n = race.clients.length;
        for (let k = 0; k < n && next === undefined; k++) {
          const c = (turn + k) % n;
          if (runnable.includes(c)) next = c;
        }
        turn = ((next ?? 0) + 1) % n;
      } else {
        const order = policy.kind === "sequential" ? policy.order : [];
        next = order.find((c) => runnable.includes(c)) ?? runnable[0];
      }
      if (next === undefined) break;
      move(next);
    }
    return schedule;
  } finally {
    sim.free();
  }
}

/** The index of the first step at which `client` sends a write (`updateOne`/`insertOne`) in `schedule`. */
export function firstWriteOf(race: RaceState, schedule: number[], client: number): number | null {
  const sim = newSimulation({ ...race, schedule: [], step: 0, lost: [] });
  try {
    for (const [i, c] of schedule.entries()) {
      if (c === client && /\.(updateOne|insertOne)\(/.test(sim.pending(c) ?? "")) return i;
      sim.step(c);
    }
    return null;
  } finally {
    sim.free();
  }
}

/** The generic named schedules of a race. */
export function namedSchedules(race: RaceState): { name: string; policy: Policy }[] {
  const names = race.clients.map((c) => c.name);
  const order = names.map((_, i) => i);
  return [
    { name: `${names.join(", then ")}, one after another`, policy: { kind: "sequential", order } },
    { name: `${[...names].reverse().join(", then ")}`, policy: { kind: "sequential", order: [...order].reverse() } },
    { name: "interleaved, one step each", policy: { kind: "interleaved" } },
  ];
}
