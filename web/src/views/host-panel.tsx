// Side by side with the host: when the page is served by `streamdoc serve
// --command-endpoint`, the session replays on the host's store too, and the two stores'
// answers and documents are compared. Elsewhere it says why it is not available.
import { signal } from "@preact/signals";
import { useEffect } from "preact/hooks";
import { type HostProbe, probeHost } from "../host";
import { runOnHost, type SideBySide } from "../side-by-side";
import { outcomes, session, store } from "../state";
import { errorInWords } from "../words";
import { JsonTree } from "./json-tree";

const probe = signal<HostProbe | null>(null);
const token = signal("");
const running = signal(false);
const result = signal<{ ok: SideBySide } | { error: string } | null>(null);
/** How many comparisons ran (on the verdict, so that a reader can tell them apart). */
const runs = signal(0);

async function compare(scratchPrefix: string): Promise<void> {
  running.value = true;
  result.value = null;
  try {
    const page = { documents: store.value?.documents() ?? {}, answers: outcomes.value.map((o) => o.text) };
    const options = token.value ? { token: token.value } : {};
    result.value = { ok: await runOnHost(session.value, page, scratchPrefix, options) };
  } catch (e) {
    result.value = { error: errorInWords(e) };
  } finally {
    runs.value++;
    running.value = false;
  }
}

function Outcome({ side }: { side: SideBySide }) {
  const differing = side.answers.filter((a) => a.page !== a.host);
  return (
    <div class="side-by-side">
      <p class={`verdict ${side.identical ? "ok" : "error"}`} id="host-verdict" data-run={runs.value}>
        {side.identical
          ? `Identical: the host's store (database ${side.database}) answered every operation as this page did and holds the same documents (the _id values aside, which each server picks).`
          : `Different: the host's store (database ${side.database}) differs from this page's.`}
      </p>
      {differing.map((a, i) => (
        <p key={i} class="error">
          page: {a.page} · host: {a.host}
        </p>
      ))}
      {!side.identical && (
        <pre class="diff">
          {side.diff
            .filter((l) => l.kind !== "same")
            .map((l, i) => (
              <div key={i} class={`d-${l.kind}`}>
                {l.kind === "added" ? "+ host " : "− page "}
                {l.text}
              </div>
            ))}
        </pre>
      )}
      <details>
        <summary>The host's documents</summary>
        <JsonTree value={side.host} />
      </details>
    </div>
  );
}

export function HostPanel() {
  useEffect(() => {
    if (probe.value === null) void probeHost().then((p) => (probe.value = p));
  }, []);
  const p = probe.value;
  if (p === null) return null;
  if (!p.available) {
    return (
      <p class="hint" id="host-status">
        Side by side with a server: not available here ({p.reason}).
      </p>
    );
  }
  const r = result.value;
  return (
    <section class="card" aria-labelledby="host-title">
      <h2 id="host-title">Side by side with the host</h2>
      <p class="hint">
        This page is served by <code>streamdoc serve</code> with its command endpoint: the session can run on the host's
        store too, each of core's commands sent to it by the package's executor, in a scratch database of its own.
      </p>
      <div class="row">
        {p.tokenRequired && (
          <label class="field">
            <span>the host's token</span>
            <input type="password" value={token.value} onInput={(e) => (token.value = e.currentTarget.value)} />
          </label>
        )}
        <button type="button" id="run-on-host" disabled={running.value} onClick={() => void compare(p.scratchPrefix)}>
          {running.value ? "Running on the host…" : "Replay this session on the host and compare"}
        </button>
      </div>
      {r && "error" in r && (
        <p class="error" role="alert">
          {r.error}
        </p>
      )}
      {r && "ok" in r && <Outcome side={r.ok} />}
    </section>
  );
}
