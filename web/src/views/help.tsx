// The `?` dialog: the keyboard shortcuts, what the page is, and a check that the module
// also runs in a Web Worker (where the explorer runs).
import { signal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import { helpOpen, SHORTCUTS } from "../keys";
import { pingWorker } from "../probe";
import { PACKAGE_VERSION } from "../session";

const workerCheck = signal("");

async function checkWorker(): Promise<void> {
  workerCheck.value = "starting a worker…";
  try {
    const pong = await pingWorker();
    workerCheck.value = `the worker runs the module: it explored all ${pong.schedules} schedules of a two-writer race`;
  } catch (e) {
    workerCheck.value = `the worker did not answer: ${(e as Error).message}`;
  }
}

export function Help() {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = dialog.current;
    if (!d) return;
    if (helpOpen.value && !d.open) d.showModal();
    if (!helpOpen.value && d.open) d.close();
  }, [helpOpen.value]);
  return (
    <dialog ref={dialog} class="help" aria-labelledby="help-title" onClose={() => (helpOpen.value = false)}>
      <div class="heading">
        <h2 id="help-title">Keyboard shortcuts</h2>
        <button type="button" class="quiet" onClick={() => (helpOpen.value = false)} aria-label="close">
          ✕
        </button>
      </div>
      <table class="shortcuts">
        <tbody>
          {SHORTCUTS.map((s) => (
            <tr key={s.keys.join()}>
              <td>
                {s.keys.map((k) => (
                  <kbd key={k}>{k}</kbd>
                ))}
              </td>
              <td>{s.what}</td>
              <td class="hint">{s.view ? `in ${s.view === "race" ? "the race lab" : s.view}` : "anywhere"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <p class="hint">
        Shortcuts do nothing while you type in a field; <kbd>Esc</kbd> leaves this dialog.
      </p>
      <h3>About this page</h3>
      <p>
        Everything here runs streamdoc {PACKAGE_VERSION}'s Rust logic, compiled to WebAssembly, on its in-memory
        MongoDB-faithful engine in this page: the same state machines as the server. The page decides nothing itself.
      </p>
      <p>
        <button type="button" id="check-worker" onClick={() => void checkWorker()}>
          Check the Web Worker
        </button>{" "}
        <output id="worker-check">{workerCheck.value}</output>
      </p>
    </dialog>
  );
}
