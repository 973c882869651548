// A Rust panic while a task is polled after an `await` rejects the caller's promise
// with an InternalError: nothing escapes into the microtask queue. The store refuses
// every later call; other stores keep working. (Its own process.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { Engine, EventStore, InternalError } from "streamdoc";

const raw = await import(new URL("./node_modules/streamdoc/node/streamdoc.js", import.meta.url));

test("a panic inside an asynchronous task rejects with an InternalError", async () => {
  const engine = new Engine();
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  // This read waits in its executor until after the panic.
  const store = new EventStore({ executor: async (c) => (await gate, engine.execute(c)) });
  const pending = store.readStream("order:1");
  const error = await raw.__triggerPanicInTask(store, "asynchronous boom").then(
    () => assert.fail("the task should have rejected"),
    (e) => e,
  );
  assert.ok(error instanceof InternalError, `got ${error}`);
  assert.ok(!(error instanceof WebAssembly.RuntimeError));
  assert.match(error.message, /asynchronous boom/);
  // A task of the store already in flight fails the same way when it is next polled.
  release();
  await assert.rejects(pending, InternalError);
  await assert.rejects(Promise.resolve().then(() => store.streamExists("order:1")), InternalError);
  const other = new EventStore({ executor: (c) => engine.execute(c) });
  await other.appendToStream("order:1", [{ type: "Placed" }]);
  assert.equal(await other.streamExists("order:1"), true);
});
