// The command log: every command the page's store sent, in mongosh syntax, with its
// reply and the step of the operation that sent it. One can be copied, or the whole
// session as a mongosh script.
import { signal } from "@preact/signals";
import { copyText, download } from "../clipboard";
import { origin, sessionScript, statement } from "../mongosh-script";
import { session, store, storeVersion } from "../state";

const showScript = signal(false);
const MAX_SHOWN = 1500;

/** A long command or reply, cut for showing. */
function Code({ text, class: cls }: { text: string; class: string }) {
  const cut = text.length > MAX_SHOWN;
  return (
    <code class={cls}>
      {cut ? text.slice(0, MAX_SHOWN) : text}
      {cut && <span class="j-note">… ({text.length.toLocaleString("en")} characters; Copy gives all of it)</span>}
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
