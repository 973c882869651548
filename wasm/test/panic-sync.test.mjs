// A Rust panic in a synchronous call reaches the caller as an InternalError, never as
// WebAssembly's `RuntimeError: unreachable`, and the module then refuses every call.
// (Its own process: a panic makes the module unusable.)
import { test } from "node:test";
import assert from "node:assert/strict";
import * as streamdoc from "streamdoc";

const { EventStore, InternalError, StreamdocError } = streamdoc;

test("a panic in a synchronous call is an InternalError, and poisons the module", async () => {
  let caught;
  assert.throws(() => streamdoc.__triggerPanic("synchronous boom"), (e) => (caught = e) instanceof InternalError);
  assert.ok(caught instanceof StreamdocError);
  assert.ok(!(caught instanceof WebAssembly.RuntimeError));
  assert.equal(caught.name, "InternalError");
  assert.match(caught.message, /synchronous boom/);
  assert.throws(() => new EventStore(), (e) => e instanceof InternalError && /unusable/.test(e.message));
});
