// Race lab — step: clients racing for one stream, moved one command at a time by the
// person (a lane, or its number) or along a named schedule; ← / → walk the schedule, a
// fork discards its future. Every step is the package's Simulation replayed to there.
import { signal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { back, editRace, fork, forward, playSchedule, refusal } from "../race-actions";
import { namedSchedules } from "../schedules";
import { raceRun, session, setRace } from "../state";
import { ClientsEditor } from "./racelab-clients";
import { Lanes } from "./racelab-lanes";
import { DesignSlot, ExplorerSlot } from "./racelab-slots";
import { StepDetail } from "./racelab-step";
import { SubscriberPanel } from "./racelab-subscriber";

/** Playing: the schedule advances by itself. */
export const playing = signal(false);

export function togglePlay(): void {
  playing.value = !playing.value;
}

function Toolbar() {
  const race = session.value.race;
  const run = raceRun.value;
  const total = race.schedule.length;
  const frame = run.frames[Math.min(race.step, run.frames.length - 1)];
  return (
    <div class="card toolbar">
      <div class="stepper">
        <button type="button" onClick={back} disabled={race.step === 0} aria-keyshortcuts="ArrowLeft" title="back (←)">
          ← back
        </button>
        <span class="counter" id="step-counter" aria-live="polite">
          step {race.step}/{total}
        </span>
        <button
          type="button"
          onClick={forward}
          disabled={frame?.done && race.step === total}
          aria-keyshortcuts="ArrowRight"
          title="forward (→)"
        >
          forward →
        </button>
        <button type="button" onClick={togglePlay} disabled={race.step === total} title="play the schedule (p)">
          {playing.value ? "pause" : "play"}
        </button>
        <button
          type="button"
          class="quiet"
          id="fork"
          onClick={fork}
          disabled={race.step === total}
          title="discard the steps after this one, then pick who moves (f)"
        >
          discard the future
        </button>
      </div>
      <div class="named">
        <label>
          named schedule{" "}
          <select
            id="named-schedule"
            value=""
            onChange={(e) => {
              const pick = namedSchedules(race)[Number(e.currentTarget.value)];
              if (pick) playSchedule(pick.policy);
              e.currentTarget.value = "";
            }}
          >
            <option value="">choose…</option>
            {namedSchedules(race).map((s, i) => (
              <option key={s.name} value={i}>
                {s.name}
              </option>
            ))}
          </select>
        </label>
        <DesignSlot race={race} setDesign={(design) => editRace({ design })} />
      </div>
    </div>
  );
}

function Verdict() {
  const race = session.value.race;
  const run = raceRun.value;
  const frame = run.frames[Math.min(race.step, run.frames.length - 1)];
  if (!frame) return null;
  if (frame.violations.length > 0) {
    return (
      <div class="verdict error" role="alert" id="race-verdict">
        <strong>Invariant broken:</strong>
        <ul>
          {frame.violations.map((v, i) => (
            <li key={i}>{v.message}</li>
          ))}
        </ul>
      </div>
    );
  }
  return (
    <div class="verdict ok" id="race-verdict">
      {frame.done ? "Every client has finished, and every invariant holds." : "Every invariant holds so far."}
    </div>
  );
}

export function RaceLab() {
  const race = session.value.race;
  const run = raceRun.value;
  useEffect(() => {
    if (!playing.value) return;
    if (race.step >= race.schedule.length) {
      playing.value = false;
      return;
    }
    const timer = setTimeout(forward, 700);
    return () => clearTimeout(timer);
  }, [playing.value, race.step, race.schedule.length]);
  return (
    <div class="racelab">
      <p class="intro">
        {race.clients.length} clients run streamdoc's real append against one in-memory MongoDB, one command at a time.
        You choose who sends the next command: click a lane's name or press its number; ← and → walk the schedule.
      </p>
      <ClientsEditor race={race} />
      <Toolbar />
      {run.error && (
        <p class="error" role="alert">
          {run.error}
        </p>
      )}
      {refusal.value && (
        <p class="notice" role="status">
          {refusal.value}
        </p>
      )}
      <div class="race-body">
        <Lanes race={race} run={run} />
        <div class="race-side">
          <Verdict />
          <StepDetail race={race} run={run} />
          <SubscriberPanel race={race} />
        </div>
      </div>
      <ExplorerSlot
        race={race}
        openSchedule={(schedule, lost = []) => setRace({ ...race, schedule, step: 0, lost }, "push")}
      />
    </div>
  );
}
