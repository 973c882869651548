// A worker that loads the package and answers a ping: it proves that the build puts the
// package (and its `.wasm`) into a module worker. The explorer's own worker is worker.ts.
//
// The package instantiates its module with a top-level await, and a worker's messages
// that arrive while its module is still evaluating find no handler and are lost. So the
// handler is set first and the package is imported dynamically: the same pattern serves
// any worker of the page.
const streamdoc = import("streamdoc");

export interface Pong {
  kind: "pong";
  /** Schedules of a two-writer race explored in the worker: proof the module runs there. */
  schedules: number;
}

self.onmessage = async (event: MessageEvent<{ kind: "ping" }>) => {
  if (event.data.kind !== "ping") return;
  const { Simulation, STREAM_DOES_NOT_EXIST } = await streamdoc;
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
