// The keyboard shortcuts: one table, which both the `?` dialog and the handler read.
import { signal } from "@preact/signals";
import { features } from "./features";
import { back, fork, forward, move, toggleLost } from "./race-actions";
import type { ViewId } from "./session";
import { session, setView } from "./state";
import { togglePlay } from "./views/racelab";

export const helpOpen = signal(false);

interface Shortcut {
  keys: string[];
  what: string;
  /** Where it works (`undefined`: everywhere). */
  view?: ViewId;
  run: (key: string) => void;
}

/** The views: their tab, and the key that opens them. */
export const VIEW_TABS: { view: ViewId; label: string; key: string; what: string }[] = [
  { view: "operate", label: "Operate", key: "o", what: "append and read" },
  { view: "documents", label: "Documents", key: "d", what: "what MongoDB would hold" },
  { view: "log", label: "Command log", key: "l", what: "every command and its reply" },
  { view: "race", label: "Race lab", key: "r", what: "step through a race" },
  { view: "gallery", label: "Scenarios & sharing", key: "s", what: "start from a scenario; share or export" },
];

export const SHORTCUTS: Shortcut[] = [
  { keys: ["?"], what: "show or hide these shortcuts", run: () => (helpOpen.value = !helpOpen.value) },
  ...VIEW_TABS.map(
    ({ key, view, label, what }): Shortcut => ({ keys: [key], what: `${label}: ${what}`, run: () => setView(view) }),
  ),
  {
    keys: ["1", "2", "3", "4"],
    what: "let that client send its next command",
    view: "race",
    run: (k) => move(Number(k) - 1),
  },
  { keys: ["←"], what: "one step back", view: "race", run: back },
  { keys: ["→"], what: "one step forward", view: "race", run: forward },
  { keys: ["f"], what: "discard the future (the steps after this one)", view: "race", run: fork },
  { keys: ["p"], what: "play or pause the schedule", view: "race", run: togglePlay },
  ...(features.loseReply
    ? [{ keys: ["x"], what: "lose the reply of the step shown", view: "race" as const, run: toggleLost }]
    : []),
  { keys: ["Ctrl+Enter"], what: "append (in a JSON editor of Operate)", view: "operate", run: () => {} },
];

const ARROWS: Record<string, string> = { ArrowLeft: "←", ArrowRight: "→" };

/** Whether the key goes to a field the person is typing in. */
function typing(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  if (tag === "TEXTAREA" || tag === "SELECT") return true;
  return tag === "INPUT" && !["radio", "checkbox", "button", "submit"].includes((target as HTMLInputElement).type);
}

export function onKey(event: KeyboardEvent): void {
  if (event.key === "Escape" && helpOpen.value) {
    helpOpen.value = false;
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
  const key = ARROWS[event.key] ?? event.key;
  const view = session.value.view;
  const shortcut = SHORTCUTS.find(
    (s) => s.keys.includes(key) && (s.view === undefined || s.view === view) && key !== "Ctrl+Enter",
  );
  if (!shortcut) return;
  event.preventDefault();
  shortcut.run(key);
}
