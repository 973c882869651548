// The page's state: the session (a signal), what replaying it on the package gave (the
// store's outcomes, commands and documents; the race's frames), and the actions that
// change it. Every change goes through `commit`, which writes the session into the URL
// hash: edits replace the history entry, explicit steps push one.
import { computed, signal } from "@preact/signals";
import { type RaceRun, runRace } from "./race";
import {
  decodeSession,
  emptySession,
  encodeSession,
  type RaceState,
  type Session,
  type StoreConfig,
  type StoreOp,
  type ViewId,
} from "./session";
import { type OpOutcome, type PageStore, replay } from "./store";

export const session = signal<Session>(emptySession());
/** What a restored link could not restore (shown until dismissed). */
export const notes = signal<string[]>([]);
/** The session's store after its operations, and their outcomes. */
export const store = signal<PageStore | null>(null);
export const outcomes = signal<OpOutcome[]>([]);
export const configError = signal<string | null>(null);
/** Bumped when the store changed (its documents and commands are read from it). */
export const storeVersion = signal(0);
export const busy = signal(false);

let memo: { race: RaceState; run: RaceRun } | null = null;
/** The race run along its whole schedule (recomputed only when the race changes). */
export const raceRun = computed(() => {
  const race = session.value.race;
  if (memo?.race !== race) memo = { race, run: runRace(race) };
  return memo.run;
});

type Mode = "push" | "replace";

/** Makes `next` the session and writes it into the URL. */
export function commit(next: Session, mode: Mode = "replace"): void {
  session.value = next;
  const url = `${location.pathname}${location.search}${encodeSession(next)}`;
  if (mode === "push") history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}

let generation = 0;
/** Rebuilds the store from the session: a new store, every operation replayed on it. */
async function rebuild(): Promise<void> {
  const mine = ++generation;
  busy.value = true;
  const result = await replay(session.value);
  if (mine !== generation) {
    result.store?.free();
    return;
  }
  store.value?.free();
  store.value = result.store;
  outcomes.value = result.outcomes;
  configError.value = result.configError;
  storeVersion.value++;
  busy.value = false;
}

/** Loads a session (from a link, the gallery or history) and replays it. */
export async function load(next: Session, mode: Mode = "replace", restoreNotes: string[] = []): Promise<void> {
  notes.value = restoreNotes;
  const previous = session.value;
  commit(next, mode);
  // Back or forward within the race: the store's session is the same, so is the store.
  if (store.value !== null && sameStoreSession(previous, next)) return;
  await rebuild();
}

function sameStoreSession(a: Session, b: Session): boolean {
  return (
    a.epoch === b.epoch &&
    a.seed === b.seed &&
    JSON.stringify(a.config) === JSON.stringify(b.config) &&
    JSON.stringify(a.ops) === JSON.stringify(b.ops)
  );
}

/** Reads the session in the URL hash (or starts a fresh one). */
export async function loadFromLocation(): Promise<void> {
  const restored = decodeSession(location.hash);
  if (restored === null) await load(emptySession(), "replace");
  else await load(restored.session, "replace", restored.notes);
}

/** Runs one more operation on the store: an explicit step (it pushes history). */
export async function runOp(op: StoreOp): Promise<OpOutcome> {
  await settled();
  const current = store.value;
  const index = session.value.ops.length;
  commit({ ...session.value, ops: [...session.value.ops, op] }, "push");
  if (current === null) {
    await rebuild();
    return outcomes.value[index] ?? { ok: false, text: configError.value ?? "the store could not be made" };
  }
  busy.value = true;
  const outcome = await current.run(op, index);
  outcomes.value = [...outcomes.value, outcome];
  storeVersion.value++;
  busy.value = false;
  return outcome;
}

/** Waits for a rebuild under way. */
async function settled(): Promise<void> {
  while (busy.value) await new Promise((resolve) => setTimeout(resolve, 10));
}

/** A new layout or storage: the same operations replayed on a new store. */
export async function setConfig(config: StoreConfig): Promise<void> {
  commit({ ...session.value, config });
  await rebuild();
}

/** Forgets the store's operations (keeps the configuration and the race). */
export async function clearOps(): Promise<void> {
  commit({ ...session.value, ops: [], scenario: null }, "push");
  await rebuild();
}

export function setView(view: ViewId): void {
  if (session.value.view !== view) commit({ ...session.value, view });
}

/** A new race state; steps push history, edits replace it. */
export function setRace(race: RaceState, mode: Mode = "replace"): void {
  commit({ ...session.value, race }, mode);
}
