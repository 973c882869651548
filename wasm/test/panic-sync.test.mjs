// A Rust panic in a synchronous call reaches the caller as an InternalError, never as
// WebAssembly's `RuntimeError: unreachable`; the store it happened in refuses every later
// call, saying to create a new one, and other stores keep working. (Its own process.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventStore, InternalError, StreamdocError } from "streamdoc";
import * as streamdoc from "streamdoc";
// The test hooks are in the raw bindings, not in the package's entry points.
const raw = await import(new URL("./node_modules/streamdoc/node/streamdoc.js", import.meta.url));

test("the test hooks are not part of the package's API", () => {
  for (const hook of ["__triggerPanic", "__triggerPanicInTask", "__useEncodedAppend", "Task", "StoreHandle", "createError", "drive", "guard"]) {
    assert.equal(hook in streamdoc, false, hook);
  }
  assert.equal(typeof raw.__triggerPanic, "function");
});

test("a panic in a synchronous call is an InternalError, and poisons that store only", async () => {
  const store = new EventStore();
  await store.appendToStream("order:1", [{ type: "Placed" }]);
  let caught;
  assert.throws(() => raw.__triggerPanic(store, "synchronous boom"), (e) => (caught = e) instanceof InternalError);
  assert.ok(caught instanceof StreamdocError);
  assert.ok(!(caught instanceof WebAssembly.RuntimeError));
  assert.equal(caught.name, "InternalError");
  assert.match(caught.message, /synchronous boom/);
  assert.match(caught.message, /create a new one/);
  assert.throws(() => store.documents(), (e) => e instanceof InternalError && /can no longer be used/.test(e.message));
  const fresh = new EventStore();
  await fresh.appendToStream("order:1", [{ type: "Placed" }]);
  assert.equal((await fresh.readStream("order:1")).events.length, 1);
});
