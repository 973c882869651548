// The explorer's worker: every schedule of a race, checked a slice at a time by the
// package's `Explorer`, with the progress posted between slices and a Stop that is seen
// between them too. As in probe-worker.ts, the handler is set before the package's
// top-level await finishes (the package is imported dynamically), or the first message
// would be lost.
import type { Design, Exploration, SimulationOptions } from "streamdoc";

const streamdoc = import("streamdoc");

/** What the page asks: the package's race `from` (unchanged), or the session's own clients. */
export type ToWorker =
  | {
      type: "explore";
      from?: string;
      options?: SimulationOptions;
      design: string;
      faults: number;
      limit: number;
    }
  | { type: "stop" };

export type FromWorker =
  | { type: "progress"; schedules: number; states: number; ms: number }
  | { type: "done"; report: Exploration; ms: number }
  | { type: "stopped"; report: Exploration; ms: number }
  | { type: "error"; message: string };

/** States explored per slice: small enough that Stop and the count stay live. */
const SLICE = 200;

let stopping = false;
let running = false;

const post = (message: FromWorker) => self.postMessage(message);

async function explore(request: Extract<ToWorker, { type: "explore" }>): Promise<void> {
  const { Simulation, Explorer } = await streamdoc;
  const started = performance.now();
  const sim =
    request.from !== undefined
      ? Simulation.fromRace(request.from, { design: request.design as Design })
      : new Simulation({ ...(request.options as SimulationOptions), design: request.design as Design });
  const explorer = new Explorer(sim, { limit: request.limit, faults: request.faults });
  try {
    let lastPost = started;
    while (!explorer.run(SLICE)) {
      const now = performance.now();
      if (now - lastPost > 50) {
        post({ type: "progress", schedules: explorer.schedules, states: explorer.states, ms: now - started });
        lastPost = now;
        await new Promise((resolve) => setTimeout(resolve));
      }
      if (stopping) {
        post({ type: "stopped", report: explorer.report(), ms: performance.now() - started });
        return;
      }
    }
    post({ type: "done", report: explorer.report(), ms: performance.now() - started });
  } finally {
    explorer.free();
    sim.free();
  }
}

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const message = event.data;
  if (message.type === "stop") {
    stopping = true;
    return;
  }
  if (message.type !== "explore" || running) return;
  running = true;
  stopping = false;
  try {
    await explore(message);
  } catch (e) {
    post({ type: "error", message: e instanceof Error ? e.message : String(e) });
  } finally {
    running = false;
  }
};
