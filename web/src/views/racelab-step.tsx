// The step shown: the literal command, its reply, and the documents before and after it
// as a diff.
import { changes, diffLines, folded } from "../diff";
import { pretty, toRelaxed } from "../ejson";
import { features } from "../features";
import { type Frame, outcomeInWords, type RaceRun } from "../race";
import { toggleLost } from "../race-actions";
import type { RaceState } from "../session";

function DocumentDiff({ before, after }: { before: Frame; after: Frame }) {
  const lines = diffLines(pretty(toRelaxed(before.documents)), pretty(toRelaxed(after.documents)));
  if (!changes(lines)) {
    return (
      <p class="hint" id="step-diff">
        The documents did not change at this step.
      </p>
    );
  }
  return (
    <div class="diff-wrap">
      <h4>The documents before and after</h4>
      <pre class="diff" id="step-diff">
        {folded(lines).map((l, i) =>
          l.kind === "folded" ? (
            <div key={i} class="d-folded">
              ⋯ {l.count} unchanged lines
            </div>
          ) : (
            <div key={i} class={`d-${l.kind}`}>
              <span class="sign" aria-hidden="true">
                {l.kind === "added" ? "+" : l.kind === "removed" ? "−" : " "}
              </span>
              {l.text}
            </div>
          ),
        )}
      </pre>
    </div>
  );
}

export function StepDetail({ race, run }: { race: RaceState; run: RaceRun }) {
  const step = Math.min(race.step, run.frames.length - 1);
  const frame = run.frames[step];
  const before = run.frames[step - 1];
  if (!frame) return null;
  if (step === 0 || !before) {
    return (
      <section class="card step-detail" aria-label="the step shown">
        <p class="empty">
          Before the first step. Pick the client that moves first (click its lane or press its number), or play a named
          schedule.
        </p>
      </section>
    );
  }
  const name = run.names[frame.client ?? 0];
  const lost = race.lost.includes(step - 1);
  return (
    <section class="card step-detail" aria-label="the step shown">
      <div class="heading">
        <h3>
          Step {step}: {name} — {frame.entries[0]?.step ?? "no command"}
        </h3>
        {features.loseReply && (
          <label class="choice" title="the command runs on the server, but the client never hears back">
            <input type="checkbox" checked={lost} onChange={toggleLost} id="lose-reply" /> lose this reply
          </label>
        )}
      </div>
      {frame.entries.map((entry, i) => (
        <div key={i} class="exchange">
          <div class="label">{entry.step}</div>
          <code class="mongosh block" id={i === 0 ? "step-command" : undefined}>
            {entry.command}
          </code>
          <div class="reply">
            <span aria-hidden="true">→ </span>
            <code
              class={`mongosh${entry.reply.startsWith("MongoServerError") ? " error" : ""}`}
              id={i === 0 ? "step-reply" : undefined}
            >
              {entry.reply}
            </code>
            {entry.lost && <span class="badge warn">the client never got this reply</span>}
          </div>
        </div>
      ))}
      {frame.finished.map((o) => (
        <p key={`${o.client}-${o.opIndex}`} class={`verdict ${"error" in o.result ? "error" : "ok"}`}>
          {run.names[o.client]}'s operation {o.opIndex + 1} finished: {outcomeInWords(o)}
        </p>
      ))}
      <DocumentDiff before={before} after={frame} />
    </section>
  );
}
