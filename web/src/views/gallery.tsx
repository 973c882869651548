// Scenarios and sharing: sessions to start from, and this session as a link, as JSON or
// as Markdown. The link holds the whole session; nothing is stored on a server.
import { signal } from "@preact/signals";
import { copyText, download } from "../clipboard";
import { exportJson, exportMarkdown } from "../export";
import { SCENARIOS, scenarioSession } from "../scenarios";
import { load, outcomes, raceRun, session, store, storeVersion } from "../state";

type Format = "json" | "markdown";
const preview = signal<Format | null>(null);

const FORMATS: Record<Format, { label: string; file: string; type: string; build: typeof exportJson }> = {
  json: { label: "JSON", file: "streamdoc-session.json", type: "application/json", build: exportJson },
  markdown: { label: "Markdown", file: "streamdoc-session.md", type: "text/markdown", build: exportMarkdown },
};

function context() {
  return {
    session: session.value,
    store: store.value,
    outcomes: outcomes.value,
    race: raceRun.value,
    link: location.href,
  };
}

export function Gallery() {
  storeVersion.value;
  const current = session.value.scenario;
  const format = preview.value === null ? null : FORMATS[preview.value];
  const text = format?.build(context()) ?? "";
  return (
    <div class="gallery">
      <section class="card" aria-labelledby="scenarios-title">
        <h2 id="scenarios-title">Scenarios</h2>
        <ul class="scenarios">
          {SCENARIOS.map((s) => (
            <li key={s.id} class={s.id === current ? "current" : undefined}>
              <button
                type="button"
                class="scenario"
                data-scenario={s.id}
                onClick={() => void load(scenarioSession(s), "push")}
              >
                <strong>{s.title}</strong>
                <span>{s.blurb}</span>
                <span class="opens">opens in {s.view === "race" ? "the race lab" : "Documents"} →</span>
              </button>
            </li>
          ))}
        </ul>
      </section>
      <section class="card share" aria-labelledby="share-title">
        <h2 id="share-title">Share this session</h2>
        <p class="hint">
          The link holds the whole session (operations, storage, race, schedule, step and view), compressed. Nothing is
          stored on a server: whoever opens it replays the session in their own page.
        </p>
        <div class="row">
          <input class="link" readOnly value={location.href} aria-label="link to this session" id="share-link" />
          <button type="button" onClick={() => void copyText(location.href, "the link to this session")}>
            Copy link
          </button>
        </div>
        <div class="row">
          {(Object.keys(FORMATS) as Format[]).map((f) => (
            <button
              type="button"
              key={f}
              id={`export-${f}`}
              aria-pressed={preview.value === f}
              onClick={() => (preview.value = preview.value === f ? null : f)}
            >
              Export as {FORMATS[f].label}
            </button>
          ))}
        </div>
        {format && (
          <div class="export">
            <div class="actions">
              <button type="button" onClick={() => void copyText(text, `the session as ${format.label}`)}>
                Copy
              </button>
              <button type="button" class="quiet" onClick={() => download(text, format.file, format.type)}>
                Download
              </button>
            </div>
            <pre class="script" id="export-text">
              {text.length > 200_000
                ? `${text.slice(0, 200_000)}\n… (Copy or Download gives all ${text.length.toLocaleString("en")} characters)`
                : text}
            </pre>
          </div>
        )}
      </section>
    </div>
  );
}
