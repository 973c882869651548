// Race lab — the live subscriber beside the lanes: what a consumer subscribed to the
// race's stream type (the package's `subscribe`, on the page's engine, change stream
// source) had received after the step shown, its checkpoint per stream and its stats.
// The race is run again with the subscriber catching up after each step (subscriber.ts);
// the panel shows the frame of the step the stepper is at.
import { signal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import type { RaceState } from "../session";
import { CONSUMER, runSubscriber, type SubscriberRun } from "../subscriber";

/** The race without its position in the schedule: the subscriber's run depends on the rest only. */
function raceKey(race: RaceState): string {
  return JSON.stringify({ ...race, step: 0 });
}

const held = signal<{ key: string; run: SubscriberRun } | null>(null);
let generation = 0;

/** Runs the subscriber along the race (once per race, whatever step is shown). */
function refresh(race: RaceState, key: string): void {
  const mine = ++generation;
  void runSubscriber(race).then((run) => {
    if (mine === generation) held.value = { key, run };
  });
}

const list = (items: bigint[]) => items.map(String).join(", ");

export function SubscriberPanel({ race }: { race: RaceState }) {
  const key = raceKey(race);
  useEffect(() => {
    if (held.value?.key !== key) refresh(race, key);
  }, [key]);
  const current = held.value?.key === key ? held.value.run : null;
  if (!current) {
    return (
      <section class="card subscriber" id="subscriber" aria-busy="true" aria-label="the live subscriber">
        <h3>Live subscriber</h3>
        <p class="hint">Catching up…</p>
      </section>
    );
  }
  const step = Math.min(race.step, current.frames.length - 1);
  const frame = current.frames[step];
  const streams = Object.entries(frame?.checkpoints ?? {});
  const stats = frame?.stats;
  return (
    <section class="card subscriber" id="subscriber" data-step={step} aria-label="the live subscriber">
      <h3>Live subscriber</h3>
      <p class="hint">
        Consumer <code>{CONSUMER}</code>, subscribed to the <code>{current.streamType}</code> streams on this engine's
        change stream. After each step it catches up: each batch holds one stream's events right after its checkpoint,
        and the checkpoint moves once the batch is handled.
      </p>
      {current.error && (
        <p class="error" role="alert">
          {current.error}
        </p>
      )}
      {frame && (
        <>
          <p id="subscriber-delivered">
            {step === 0
              ? "Before the first step: nothing received yet."
              : frame.delivered === 0
                ? `Step ${step} delivered nothing new.`
                : `Step ${step} delivered ${frame.delivered === 1 ? "1 batch" : `${frame.delivered} batches`}.`}
          </p>
          {frame.received.length > 0 ? (
            <table class="subscriber-batches" id="subscriber-batches">
              <thead>
                <tr>
                  <th>step</th>
                  <th>stream</th>
                  <th>after</th>
                  <th>positions</th>
                  <th>events</th>
                </tr>
              </thead>
              <tbody>
                {frame.received.map((b, i) => (
                  <tr key={i} data-step={b.step} data-stream={b.stream} class={b.step === step ? "new" : undefined}>
                    <td>{b.step}</td>
                    <td>{b.stream}</td>
                    <td>{String(b.after)}</td>
                    <td class="positions">{list(b.positions)}</td>
                    <td class="types">{b.types.join(", ")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="empty">No batch received yet.</p>
          )}
          <h4>Checkpoints</h4>
          {streams.length > 0 ? (
            <ul id="subscriber-checkpoints">
              {streams.map(([stream, position]) => (
                <li key={stream} data-stream={stream} data-position={String(position)}>
                  <code>{stream}</code> at {String(position)}
                </li>
              ))}
            </ul>
          ) : (
            <p class="empty" id="subscriber-checkpoints">
              None stored yet.
            </p>
          )}
          {stats && (
            <p class="subscriber-stats" id="subscriber-stats">
              {stats.notices} change events heard, {stats.batches} batches ({stats.events} events): {stats.carried}{" "}
              carried by their change event, {stats.batches - stats.carried} read from the stream; {stats.sweeps}{" "}
              {stats.sweeps === 1 ? "sweep" : "sweeps"}.
            </p>
          )}
        </>
      )}
    </section>
  );
}
