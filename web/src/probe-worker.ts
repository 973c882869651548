// A worker that loads the package and answers a ping: it proves that the build puts the
// package (and its `.wasm`) into a module worker. The explorer's own worker is worker.ts.
import { Simulation, STREAM_DOES_NOT_EXIST } from "streamdoc";

export interface Pong {
  kind: "pong";
  /** Schedules of a two-writer race explored in the worker: proof the module runs there. */
  schedules: number;
}

self.onmessage = (event: MessageEvent<{ kind: "ping" }>) => {
  if (event.data.kind !== "ping") return;
  const racer = (name: string) => ({
    name,
    ops: [{ op: "append" as const, stream: "probe:1", events: [{ type: "Ping" }], expected: STREAM_DOES_NOT_EXIST }],
  });
  const sim = new Simulation({ clients: [racer("a"), racer("b")] });
  const { schedules } = sim.explore();
  sim.free();
  const pong: Pong = { kind: "pong", schedules };
  self.postMessage(pong);
};
