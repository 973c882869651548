// The command log: every command the page's store sent, in mongosh syntax, with its
// reply and the step of the operation that sent it. One can be copied, or the whole
// session as a mongosh script. The read model fields (`"projections.<name>"`, which an
// append's updateOne `$set`s or `$unset`s) are marked, and never cut off.
import { signal } from "@preact/signals";
import { copyText, download } from "../clipboard";
import { origin, sessionScript, statement } from "../mongosh-script";
import { session, store, storeVersion } from "../state";

const showScript = signal(false);
const MAX_SHOWN = 1500;

/** A read model's field in a command: `"projections.summary"`. */
const READ_MODEL_FIELD = /"projections\.[^"]+"/g;

/** `text` with its read model fields marked. */
function Marked({ text }: { text: string }) {
  const parts = [];
  let at = 0;
  for (const found of text.matchAll(READ_MODEL_FIELD)) {
    parts.push(text.slice(at, found.index));
    parts.push(
      <mark class="read-model" key={found.index}>
        {found[0]}
      </mark>,
    );
    at = found.index + found[0].length;
  }
  parts.push(text.slice(at));
  return <>{parts}</>;
}

/**
 * A long command or reply, cut for showing; when a read model's field comes after the
 * cut (an append of large events), the command from that field on is shown too.
 */
function Code({ text, class: cls }: { text: string; class: string }) {
  const cut = text.length > MAX_SHOWN;
  const late = cut ? [...text.matchAll(READ_MODEL_FIELD)].find((m) => m.index + m[0].length > MAX_SHOWN) : undefined;
  const tail = late === undefined ? null : late.index;
  const note = <span class="j-note">… ({text.length.toLocaleString("en")} characters; Copy gives all of it)</span>;
  return (
    <code class={cls}>
      <Marked text={cut ? text.slice(0, Math.min(tail ?? MAX_SHOWN, MAX_SHOWN)) : text} />
      {tail !== null && (
        <>
          {tail > MAX_SHOWN && <span class="j-note"> … </span>}
          <Marked text={text.slice(tail, tail + MAX_SHOWN)} />
          {tail + MAX_SHOWN < text.length && note}
        </>
      )}
      {cut && tail === null && note}
    </code>
  );
}

export function CommandLog() {
  storeVersion.value;
  const s = session.value;
  const commands = store.value?.commands ?? [];
  const script = showScript.value ? sessionScript(s, commands) : "";
  return (
    <section class="card log" aria-labelledby="log-title">
      <div class="heading">
        <h2 id="log-title">Command log</h2>
        <div class="actions">
          <button
            type="button"
            id="copy-script"
            disabled={commands.length === 0}
            onClick={() => void copyText(sessionScript(s, commands), "the session as a mongosh script")}
          >
            Copy as mongosh script
          </button>
          <button type="button" class="quiet" id="show-script" onClick={() => (showScript.value = !showScript.value)}>
            {showScript.value ? "Hide the script" : "Show the script"}
          </button>
          <button
            type="button"
            class="quiet"
            disabled={commands.length === 0}
            onClick={() => download(sessionScript(s, commands), "streamdoc-session.mongosh.js", "text/javascript")}
          >
            Download
          </button>
        </div>
      </div>
      {showScript.value && (
        <pre class="script" id="mongosh-script">
          {script}
        </pre>
      )}
      {commands.length === 0 ? (
        <p class="empty">No commands yet: every append and read sends MongoDB commands, and they appear here.</p>
      ) : (
        <ol class="commands">
          {commands.map((c, i) => (
            <li key={i} class="command" data-step={c.step}>
              <div class="meta">
                <span class="index">{origin(s.ops[c.op], c.op)}</span>
                <span class="step">{c.step}</span>
                <button
                  type="button"
                  class="quiet small"
                  onClick={() => void copyText(statement(c), "the command")}
                  aria-label={`copy command ${i + 1}`}
                >
                  Copy
                </button>
              </div>
              <Code class="mongosh" text={c.command} />
              <div class="reply">
                <span aria-hidden="true">→ </span>
                <Code class={c.reply.startsWith("MongoServerError") ? "mongosh error" : "mongosh"} text={c.reply} />
              </div>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
