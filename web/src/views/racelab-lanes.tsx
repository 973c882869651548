// The race as lanes, one column a client (a Jepsen-style timeline): each row is a step,
// in the column of the client that moved, with the command's purpose, the reply in
// brief and, when an operation finished, its result. Steps after the one shown are the
// schedule's future, dimmed.

import { type Frame, outcomeInWords, type RaceRun, replyInBrief, scriptInWords } from "../race";
import { move, toStep } from "../race-actions";
import type { RaceState } from "../session";

function LaneHeader({ index, race, frame }: { index: number; race: RaceState; frame: Frame | undefined }) {
  const client = race.clients[index];
  if (!client) return null;
  const runnable = frame?.runnable.includes(index) ?? false;
  const pending = frame?.pending[index];
  return (
    <div class={`lane-head${runnable ? " runnable" : ""}`} data-lane={index}>
      <button
        type="button"
        class="move"
        disabled={!runnable}
        onClick={() => move(index)}
        aria-keyshortcuts={String(index + 1)}
        title={runnable ? `let ${client.name} send its next command (${index + 1})` : `${client.name} has finished`}
      >
        <span class="name">{client.name}</span>
        <kbd>{index + 1}</kbd>
      </button>
      <ol class="script">
        {client.ops.map((op, i) => (
          <li key={i}>{scriptInWords(op)}</li>
        ))}
      </ol>
      <div class="pending" title={pending ?? undefined}>
        {pending
          ? `next: ${pending.replace(/^db\.getSiblingDB\("[^"]*"\)\.getCollection\("[^"]*"\)\./, "").slice(0, 60)}…`
          : "done"}
      </div>
    </div>
  );
}

function Cell({ frame, step, current }: { frame: Frame; step: number; current: number }) {
  const entry = frame.entries[0];
  const state = step === current ? "current" : step > current ? "future" : "past";
  return (
    <button
      type="button"
      class={`cell ${state}`}
      onClick={() => toStep(step)}
      aria-current={step === current ? "step" : undefined}
      title={entry?.command}
    >
      <span class="step-no">{step}</span>
      <span class="purpose">
        {entry?.step ?? "(no command)"}
        {entry && entry.attempt > 1 ? ` (retry ${entry.attempt - 1})` : ""}
      </span>
      <span class={`brief${entry?.reply.startsWith("MongoServerError") ? " error" : ""}`}>
        {frame.lost ? "reply lost" : entry ? replyInBrief(entry.reply) : ""}
      </span>
      {frame.finished.map((o) => (
        <span key={o.opIndex} class={`finished ${"error" in o.result ? "error" : "ok"}`}>
          {outcomeInWords(o)}
        </span>
      ))}
    </button>
  );
}

export function Lanes({ race, run }: { race: RaceState; run: RaceRun }) {
  const columns = race.clients.length;
  const frames = run.frames;
  const shownStep = Math.min(race.step, frames.length - 1);
  return (
    <section class="lanes" style={{ "--lanes": columns }} aria-label="the race, one column a client">
      {race.clients.map((_, i) => (
        <LaneHeader key={`h${i}`} index={i} race={race} frame={frames[shownStep]} />
      ))}
      {frames.slice(1).map((frame, k) => {
        const step = k + 1;
        return race.clients.map((_, c) =>
          frame.client === c ? (
            <Cell key={`${step}-${c}`} frame={frame} step={step} current={race.step} />
          ) : (
            <div key={`${step}-${c}`} class={`gap${step > race.step ? " future" : ""}`} />
          ),
        );
      })}
    </section>
  );
}
