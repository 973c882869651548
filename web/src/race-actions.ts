// What a person can do in the race lab: move a client, step back and forth along the
// schedule, discard the future, lose a reply. Each is a new race state (a step pushes
// history, so the browser's back button steps back too).
import { signal } from "@preact/signals";
import { features } from "./features";
import { type Policy, scheduleFor } from "./schedules";
import type { RaceState } from "./session";
import { raceRun, session, setRace } from "./state";

/** Why the last move was refused, for the lab's status line. */
export const refusal = signal("");

const race = () => session.value.race;

/** The frame shown and whether a client can move from it. */
function current() {
  const run = raceRun.value;
  const r = race();
  const frame = run.frames[Math.min(r.step, run.frames.length - 1)];
  return { r, run, frame };
}

/** Lets `client` take the next step: along the schedule if it is the next one there, else a fork. */
export function move(client: number): void {
  const { r, run, frame } = current();
  refusal.value = "";
  const name = run.names[client];
  if (name === undefined) return;
  if (!frame?.runnable.includes(client)) {
    refusal.value = frame?.done
      ? "Every client has finished."
      : `${name} has finished its script: it has nothing to send.`;
    return;
  }
  if (r.schedule[r.step] === client) {
    setRace({ ...r, step: r.step + 1 }, "push");
    return;
  }
  const schedule = [...r.schedule.slice(0, r.step), client];
  setRace({ ...r, schedule, step: r.step + 1, lost: r.lost.filter((i) => i < r.step) }, "push");
}

/** One step forward: the schedule's next, or the first client that can move. */
export function forward(): void {
  const { r, frame } = current();
  if (r.step < r.schedule.length) {
    refusal.value = "";
    setRace({ ...r, step: r.step + 1 }, "push");
    return;
  }
  const next = frame?.runnable[0];
  if (next === undefined) refusal.value = "Every client has finished: the race is over.";
  else move(next);
}

export function back(): void {
  const r = race();
  refusal.value = "";
  if (r.step > 0) setRace({ ...r, step: r.step - 1 }, "push");
}

export function toStep(step: number): void {
  const r = race();
  refusal.value = "";
  if (step >= 0 && step <= r.schedule.length && step !== r.step) setRace({ ...r, step }, "push");
}

/** Discards the steps after the one shown. */
export function fork(): void {
  const r = race();
  if (r.step === r.schedule.length) return;
  setRace({ ...r, schedule: r.schedule.slice(0, r.step), lost: r.lost.filter((i) => i < r.step) }, "push");
}

/** Loses (or gives back) the reply of the step shown; the steps after it are discarded. */
export function toggleLost(): void {
  const r = race();
  if (!features.loseReply || r.step === 0) return;
  const index = r.step - 1;
  const lost = r.lost.includes(index) ? r.lost.filter((i) => i !== index) : [...r.lost, index];
  setRace({ ...r, schedule: r.schedule.slice(0, r.step), lost: lost.filter((i) => i < r.step) }, "push");
}

/** Plays a named schedule from the start. */
export function playSchedule(policy: Policy): void {
  const r = race();
  refusal.value = "";
  setRace({ ...r, schedule: scheduleFor(r, policy), step: 0, lost: [] }, "push");
}

/** A new race definition (clients, stream, design): the schedule starts over. */
export function editRace(patch: Partial<RaceState>): void {
  refusal.value = "";
  const edited = "clients" in patch || "stream" in patch;
  const next: RaceState = { ...race(), ...patch, schedule: [], step: 0, lost: [] };
  if (edited) delete next.from;
  setRace(next);
}
