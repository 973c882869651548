// Starts the probe worker (probe-worker.ts) and waits for its answer.
import type { Pong } from "./probe-worker";

export function pingWorker(timeoutMs = 20_000): Promise<Pong> {
  const worker = new Worker(new URL("./probe-worker.ts", import.meta.url), { type: "module" });
  return new Promise<Pong>((resolve, reject) => {
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      worker.terminate();
      settle();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no answer in ${timeoutMs / 1000} s`))), timeoutMs);
    worker.onmessage = (event: MessageEvent<Pong>) => finish(() => resolve(event.data));
    worker.onerror = (event) => finish(() => reject(new Error(event.message || "the worker failed to start")));
    worker.postMessage({ kind: "ping" });
  });
}
