// The page's shell: the header with the views' tabs, the notes of a restored link, the
// view itself, and the status line.
import { status } from "../clipboard";
import { helpOpen, VIEW_TABS } from "../keys";
import { PACKAGE_VERSION, type ViewId } from "../session";
import { notes, session, setView } from "../state";
import { CommandLog } from "./command-log";
import { Documents } from "./documents";
import { Gallery } from "./gallery";
import { Help } from "./help";
import { Operate } from "./operate";
import { RaceLab } from "./racelab";

function View({ view }: { view: ViewId }) {
  switch (view) {
    case "documents":
      return <Documents />;
    case "log":
      return <CommandLog />;
    case "race":
      return <RaceLab />;
    case "gallery":
      return <Gallery />;
    default:
      return <Operate />;
  }
}

function Notes() {
  if (notes.value.length === 0) return null;
  return (
    <div class="notes" role="alert" id="restore-notes">
      <ul>
        {notes.value.map((n) => (
          <li key={n}>{n}</li>
        ))}
      </ul>
      <button type="button" class="quiet small" onClick={() => (notes.value = [])}>
        Dismiss
      </button>
    </div>
  );
}

export function App() {
  const view = session.value.view;
  return (
    <div class="app" data-ready>
      <header class="top">
        <div class="brand">
          <h1>
            streamdoc <span>playground</span>
          </h1>
          <p class="tagline">
            An event store that keeps each stream as one MongoDB document — its production logic, in this page.
          </p>
        </div>
        <nav aria-label="views">
          {VIEW_TABS.map(({ view: id, label, key }) => (
            <button
              type="button"
              key={id}
              data-view={id}
              class={view === id ? "tab active" : "tab"}
              aria-current={view === id ? "page" : undefined}
              aria-keyshortcuts={key}
              onClick={() => setView(id)}
            >
              {label}
            </button>
          ))}
          <button
            type="button"
            class="tab help-button"
            onClick={() => (helpOpen.value = true)}
            aria-keyshortcuts="?"
            title="keyboard shortcuts (?)"
          >
            ?
          </button>
        </nav>
      </header>
      <Notes />
      <main data-view={view}>
        <View view={view} />
      </main>
      <footer>
        <span role="status" aria-live="polite" id="status">
          {status.value}
        </span>
        <span class="version">
          streamdoc {PACKAGE_VERSION} · runs offline · <kbd>?</kbd> shortcuts
        </span>
      </footer>
      <Help />
    </div>
  );
}
