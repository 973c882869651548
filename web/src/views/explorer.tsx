// Race lab — check every schedule: the package's Explorer in a Web Worker (worker.ts),
// a slice at a time, with a live count, Stop and a budget; then every invariant held or
// violated (its shortest counterexample explained, openable in the stepper), the
// distinct final states with their shortest schedules, and coverage counters that show
// the race really happened.
import { signal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { Exploration, Path } from "streamdoc";
import { designs } from "../features";
import { packageRace } from "../package-races";
import { newSimulation, simulationOptions } from "../race";
import type { RaceState } from "../session";
import type { FromWorker, ToWorker } from "../worker";
import type { ExplorerSlotProps } from "./racelab-slots";

type Status = "idle" | "running" | "done" | "stopped" | "error";

interface Result {
  /** What was explored (the race and design), to tell a result of another race. */
  key: string;
  report: Exploration;
  ms: number;
  faults: number;
}

const status = signal<Status>("idle");
const progress = signal({ schedules: 0, states: 0, ms: 0 });
const result = signal<Result | null>(null);
const failure = signal("");
/** The budget: schedules explored at most. */
export const limit = signal(20_000_000);
/** Lost replies per schedule (0 or 1); `null`: the design's default. */
const faultsChoice = signal<number | null>(null);
/** The counterexample opened in the stepper, told in words. */
export const opened = signal<{ key: string; title: string; explanation: string } | null>(null);

let worker: Worker | null = null;

/** Back to the design's default faults (the design picker calls this on a switch). */
export function resetFaults(): void {
  faultsChoice.value = null;
}

function needsFaults(design: string): boolean {
  return designs().find((d) => d.id === design)?.needsFaults === true;
}

function faultsOf(race: RaceState): number {
  return faultsChoice.value ?? (needsFaults(race.design) ? 1 : 0);
}

function keyOf(race: RaceState, faults: number): string {
  return JSON.stringify([race.from ?? null, race.clients, race.stream, race.design, faults]);
}

function stop(): void {
  worker?.postMessage({ type: "stop" } satisfies ToWorker);
}

function start(race: RaceState): void {
  worker?.terminate();
  const faults = faultsOf(race);
  const key = keyOf(race, faults);
  const request: ToWorker =
    race.from !== undefined
      ? { type: "explore", from: race.from, design: race.design, faults, limit: limit.value }
      : { type: "explore", options: simulationOptions(race), design: race.design, faults, limit: limit.value };
  const w = new Worker(new URL("../worker.ts", import.meta.url), { type: "module" });
  worker = w;
  status.value = "running";
  failure.value = "";
  opened.value = null;
  progress.value = { schedules: 0, states: 0, ms: 0 };
  w.onmessage = (event: MessageEvent<FromWorker>) => {
    const m = event.data;
    if (m.type === "progress") {
      progress.value = { schedules: m.schedules, states: m.states, ms: m.ms };
      return;
    }
    if (m.type === "error") {
      status.value = "error";
      failure.value = m.message;
    } else {
      result.value = { key, report: m.report, ms: m.ms, faults };
      progress.value = { schedules: m.report.schedules, states: m.report.states, ms: m.ms };
      status.value = m.type;
    }
    w.terminate();
    if (worker === w) worker = null;
  };
  w.onerror = (event) => {
    status.value = "error";
    failure.value = event.message || "the explorer's worker failed to start";
    w.terminate();
  };
  w.postMessage(request);
}

const count = (n: number) => n.toLocaleString("en");
const schedulesWord = (n: number) => `${count(n)} schedule${n === 1 ? "" : "s"}`;

/** A path, with its lost replies and the rest of the run (every client finishing), as a full schedule. */
function completed(race: RaceState, path: Path): number[] {
  const sim = newSimulation({ ...race, schedule: [], step: 0, lost: [] });
  try {
    const schedule: number[] = [];
    const lost = new Set(path.lost);
    for (const [i, c] of path.schedule.entries()) {
      if (!sim.runnable().includes(c)) break;
      sim.step(c, lost.has(i) ? { loseReply: true } : undefined);
      schedule.push(c);
    }
    while (!sim.isFinished() && schedule.length < 500) {
      const next = sim.runnable()[0];
      if (next === undefined) break;
      sim.step(next);
      schedule.push(next);
    }
    return schedule;
  } catch {
    return path.schedule;
  } finally {
    sim.free();
  }
}

function pathInWords(race: RaceState, path: Path): string {
  const names = race.clients.map((c) => c.name);
  const lost = new Set(path.lost);
  return path.schedule.map((c, i) => `${names[c] ?? c}${lost.has(i) ? " (reply lost)" : ""}`).join(" → ");
}

function Coverage({ report }: { report: Exploration }) {
  const c = report.coverage;
  const n = report.schedules;
  return (
    <p id="explorer-coverage">
      Coverage: a conflict in {count(c.conflicts)} of {schedulesWord(n)}, a duplicate key in {count(c.duplicateKeys)},
      an update matching nothing in {count(c.zeroMatches)}, a write retried in {count(c.retries)}, a lost reply in{" "}
      {count(c.lostReplies)}.
    </p>
  );
}

function Invariants({ race, report, open }: { race: RaceState; report: Exploration; open: OpenFn }) {
  return (
    <ul class="invariants" id="explorer-invariants">
      {Object.entries(report.invariants).map(([kind, inv]) => {
        const held = inv.violatedIn === 0;
        return (
          <li key={kind} data-invariant={kind} data-held={held ? "yes" : "no"} class={held ? "ok" : "error"}>
            <span aria-hidden="true">{held ? "✓ " : "✗ "}</span>
            <strong>{inv.invariant}</strong>
            {held
              ? report.truncated
                ? ": held in every schedule explored"
                : ": held in every schedule"
              : `: violated in ${schedulesWord(inv.violatedIn)}`}
            {inv.shortest && (
              <div class="counterexample">
                <p class="explanation">{inv.shortest.explanation}</p>
                <p class="hint">shortest: {pathInWords(race, inv.shortest.path)}</p>
                <button
                  type="button"
                  class="open-counterexample"
                  onClick={() => open(inv.shortest?.path as Path, inv.invariant, inv.shortest?.explanation ?? "")}
                >
                  open counterexample
                </button>
              </div>
            )}
          </li>
        );
      })}
    </ul>
  );
}

type OpenFn = (path: Path, title: string, explanation: string) => void;

function FinalStates({ race, report, open }: { race: RaceState; report: Exploration; open: OpenFn }) {
  const entries = Object.entries(report.finalStates).sort((a, b) => b[1].count - a[1].count);
  return (
    <div>
      <h4>
        {entries.length} distinct final state{entries.length === 1 ? "" : "s"}
      </h4>
      <ul class="final-states" id="explorer-finals">
        {entries.map(([summary, f]) => (
          <li key={summary}>
            <code>{summary}</code> in {schedulesWord(f.count)}; shortest: {pathInWords(race, f.shortest)}{" "}
            <button type="button" class="quiet" onClick={() => open(f.shortest, `final state ${summary}`, "")}>
              open in the stepper
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}

function Report({ race, open }: { race: RaceState; open: OpenFn }) {
  const r = result.value;
  if (!r) return null;
  const report = r.report;
  const stale = r.key !== keyOf(race, faultsOf(race));
  const violated = Object.values(report.invariants).filter((i) => i.violatedIn > 0).length;
  return (
    <div class="explorer-report" id="explorer-report" data-status={status.value}>
      {stale && <p class="notice">This result is of the race as it was before its last change: check again.</p>}
      <p id="explorer-summary">
        <strong>{schedulesWord(report.schedules)}</strong> explored
        {report.truncated ? " (the budget stopped it early)" : status.value === "stopped" ? " (stopped)" : ""},{" "}
        {count(report.states)} distinct states, in {count(Math.round(r.ms))} ms
        {r.faults > 0 ? ", with at most one lost reply per schedule" : ""}.
      </p>
      <p class={`verdict ${violated ? "error" : "ok"}`} id="explorer-verdict">
        {violated
          ? `${violated} invariant${violated === 1 ? "" : "s"} violated.`
          : report.truncated || status.value === "stopped"
            ? "Every invariant held in the schedules explored."
            : "Every invariant held in every schedule."}
      </p>
      <Invariants race={race} report={report} open={open} />
      <FinalStates race={race} report={report} open={open} />
      <Coverage report={report} />
    </div>
  );
}

function Opened() {
  const o = opened.value;
  if (!o) return null;
  return (
    <div class="notice opened" role="status" id="opened-counterexample">
      <strong>In the stepper: {o.title}.</strong> {o.explanation}
    </div>
  );
}

const NOT_COVERED = (
  <p class="hint" id="explorer-not-covered">
    What the model does not cover: replication and failover, write concern and read concern, the driver's retryable
    writes, multi-document transactions, and the server deviations listed in tests/DEVIATIONS.md. An append with no
    expected version that is retried after a lost reply can be stored twice: explore "read, then append" with one lost
    reply to see it.
  </p>
);

export function Explorer({ race, openSchedule }: ExplorerSlotProps) {
  useEffect(() => () => worker?.terminate(), []);
  const faults = faultsOf(race);
  const whose = race.from
    ? `“${packageRace(race.from)?.title ?? race.from}”`
    : `these ${race.clients.length} client${race.clients.length === 1 ? "" : "s"}`;
  const open: OpenFn = (path, what, explanation) => {
    opened.value = { key: keyOf(race, faults), title: what, explanation };
    openSchedule(completed(race, path), path.lost);
    document.querySelector(".racelab .toolbar")?.scrollIntoView({ block: "start" });
  };
  const running = status.value === "running";
  return (
    <section class="card explorer" data-mount="explorer" aria-label="check every schedule">
      <h3>Check every schedule</h3>
      <Opened />
      <p class="hint">
        Every interleaving of the commands of {whose} under the design <strong>{race.design}</strong>, each checked
        against every invariant, in a background worker.
      </p>
      <div class="explorer-controls">
        <button type="button" id="explore" onClick={() => start(race)} disabled={running}>
          Check every schedule
        </button>
        <button type="button" id="explore-stop" class="quiet" onClick={stop} disabled={!running}>
          Stop
        </button>
        <label>
          budget{" "}
          <input
            type="number"
            id="explore-limit"
            min={1}
            step={1000}
            value={limit.value}
            onInput={(e) => {
              const v = Number(e.currentTarget.value);
              if (Number.isInteger(v) && v > 0) limit.value = v;
            }}
          />{" "}
          schedules
        </label>
        <label title="at most this many replies to writes lost per schedule">
          lost replies per schedule{" "}
          <select
            id="explore-faults"
            value={String(faults)}
            onChange={(e) => {
              faultsChoice.value = Number(e.currentTarget.value);
            }}
          >
            <option value="0">0</option>
            <option value="1">1</option>
          </select>
        </label>
        <span id="explore-count" aria-live="polite">
          {running
            ? `${schedulesWord(progress.value.schedules)}, ${count(progress.value.states)} states…`
            : status.value === "error"
              ? ""
              : result.value
                ? `${schedulesWord(result.value.report.schedules)}`
                : ""}
        </span>
      </div>
      {status.value === "error" && (
        <p class="error" role="alert">
          The explorer failed: {failure.value}
        </p>
      )}
      <Report race={race} open={open} />
      {NOT_COVERED}
    </section>
  );
}
