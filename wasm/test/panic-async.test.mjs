// A Rust panic while a task is polled after an `await` rejects the caller's promise
// with an InternalError: nothing escapes into the microtask queue. (Its own process.)
import { test } from "node:test";
import assert from "node:assert/strict";
import * as streamdoc from "streamdoc";

const { Engine, EventStore, InternalError } = streamdoc;

test("a panic inside an asynchronous task rejects with an InternalError", async () => {
  const engine = new Engine();
  let release;
  const gate = new Promise((resolve) => (release = resolve));
  // This read waits in its executor until after the panic.
  const store = new EventStore({ executor: async (c) => (await gate, engine.execute(c)) });
  const pending = store.readStream("order:1");
  const error = await streamdoc.__triggerPanicInTask("asynchronous boom").then(
    () => assert.fail("the task should have rejected"),
    (e) => e,
  );
  assert.ok(error instanceof InternalError, `got ${error}`);
  assert.ok(!(error instanceof WebAssembly.RuntimeError));
  assert.match(error.message, /asynchronous boom/);
  // A task already in flight fails the same way when it is next polled.
  release();
  await assert.rejects(pending, InternalError);
  await assert.rejects(Promise.resolve().then(() => store.streamExists("order:1")), InternalError);
});
