// A WebAssembly trap (not a panic: a bug the panic hook cannot see) in any call of the
// package's API surfaces as an InternalError, never as a RuntimeError, and then every
// call says clearly that the module must be reloaded. (Its own process: a trap leaves
// the module unusable.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { EventStore, InternalError } from "streamdoc";

// The guard of the entry points, from the runtime the package's entry point uses.
const snippets = new URL("./node_modules/streamdoc/node/snippets/", import.meta.url);
const [dir] = readdirSync(snippets);
const { guard } = await import(new URL(`${dir}/js/runtime.js`, snippets));

test("a trap is an InternalError, and then the module refuses every call", async () => {
  const store = new EventStore();
  await store.appendToStream("order:1", [{ type: "Placed" }]);
  // A class of the bindings whose method traps, guarded as the entry points guard theirs.
  class Trapping {
    run() {
      throw new WebAssembly.RuntimeError("unreachable");
    }
  }
  const { Trapping: Guarded } = guard({ Trapping }, {});
  const trap = (() => {
    try {
      new Guarded().run();
    } catch (e) {
      return e;
    }
  })();
  assert.ok(trap instanceof InternalError, `got ${trap}`);
  assert.match(trap.message, /trapped \(unreachable\).*reload/);
  assert.throws(() => new EventStore(), (e) => e instanceof InternalError && /reload/.test(e.message));
  assert.throws(() => store.documents(), InternalError);
  await assert.rejects(Promise.resolve().then(() => store.readStream("order:1")), InternalError);
});
