// Operate and Documents in the browser: an append and a read on the page's store, a
// conflict told in plain words, and a layout switch that replays the session elsewhere.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertNoProblems, openScenario, playground, setEditor, showView, skip } from "./harness.mjs";

const pg = playground();
before(() => pg.setup());
after(() => pg.teardown());

/** The text of operation `index`'s result, once it has one. */
async function result(page, index) {
  const selector = `.outcome[data-op="${index}"] .result`;
  await page.waitForFunction((s) => document.querySelector(s)?.textContent !== "…", selector);
  return (await page.textContent(selector)).trim();
}

async function append(page, { type = "order", id = "42", event = "OrderPlaced", data, expected = "any", exact } = {}) {
  await page.fill("#stream-type", type);
  await page.fill("#stream-id", id);
  await page.fill("#event-type", event);
  if (data !== undefined) await setEditor(page, "data", data);
  await page.check(`input[name="expected"][value="${expected}"]`);
  if (exact !== undefined) await page.fill("#expected-exact", String(exact));
  const index = await page.locator(".outcome").count();
  await page.click("#append");
  return result(page, index);
}

test("an append and a read on the page's store, in plain words", { skip, timeout: 60_000 }, async () => {
  const page = await pg.open("/");
  // A stream that does not exist yet is an answer, not an error.
  await page.click("#read");
  assert.equal(await result(page, 0), "order:42 does not exist yet (version 0): no events.");

  assert.equal(
    await append(page, { data: '{ "total": 42, "big": 5000000000 }', expected: "noStream" }),
    "created order:42; appended: order:42 is at version 1.",
  );
  assert.equal(
    await append(page, { event: "OrderPaid", data: "{}", expected: "exact", exact: 1 }),
    "appended: order:42 is at version 2.",
  );

  await page.fill("#read-from", "2");
  await page.click("#read");
  assert.equal(await result(page, 3), "read 1 event of order:42, which is at version 2.");
  const rows = await page.$$eval('.outcome[data-op="3"] table.events tbody tr', (trs) =>
    trs.map((tr) => [...tr.querySelectorAll("td")].slice(0, 2).map((td) => td.textContent)),
  );
  assert.deepEqual(rows, [["2", "OrderPaid"]]);
  assertNoProblems(page);
});

test("a conflict is shown in plain words, and so is a refused stream name", { skip, timeout: 60_000 }, async () => {
  const page = await pg.open("/");
  await append(page, { expected: "noStream" });
  await append(page, { expected: "any" });
  const conflict = await append(page, { expected: "exact", exact: 1 });
  assert.equal(conflict, "conflict: you expected 1, the stream is at 2 (order:42). Nothing was written.");
  assert.equal(await page.getAttribute('.outcome[data-op="2"] .result', "role"), "alert");
  assert.equal(
    await append(page, { expected: "noStream" }),
    "conflict: you expected no stream, the stream is at 2 (order:42). Nothing was written.",
  );
  const refused = await append(page, { id: "" });
  assert.equal(refused, "\"order:\" is not a stream name: its stream id (after the first ':') is empty.");
  assert.match(await append(page, { data: "{ not json" }), /^the data is not valid JSON: /);
  // Plain words, never a stack.
  assert.doesNotMatch(await page.textContent(".outcomes"), /at \S+ \(\S+:\d+:\d+\)|\.js:\d+|Error:/);
  assertNoProblems(page);
});

test("switching the layout and the storage replays the session into other collections", {
  skip,
  timeout: 60_000,
}, async () => {
  const page = await pg.open("/");
  await append(page, { type: "cart", id: "7", event: "CartOpened", expected: "noStream" });
  await append(page, { type: "order", id: "1", event: "OrderPlaced", expected: "noStream" });
  await showView(page, "documents");
  const namespaces = () => page.$$eval("[data-namespace]", (els) => els.map((e) => e.dataset.namespace));
  assert.deepEqual(await namespaces(), ["streamdoc.cart", "streamdoc.order"]);
  assert.match(await page.textContent('[data-stream="cart:7"]'), /eventId: "/);

  await page.click('fieldset:has(legend:text("layout")) label:has-text("Emmett")');
  await page.waitForFunction(
    () => document.querySelector("[data-namespace]")?.dataset.namespace === "streamdoc.emt:cart",
  );
  assert.deepEqual(await namespaces(), ["streamdoc.emt:cart", "streamdoc.emt:order"]);
  const emmett = await page.textContent('[data-stream="cart:7"]');
  assert.match(emmett, /messageId: "/);
  assert.doesNotMatch(emmett, /eventId: "/);

  await page.click('fieldset:has(legend:text("storage")) label:has-text("single")');
  await page.waitForFunction(() => document.querySelectorAll("[data-namespace]").length === 1);
  assert.deepEqual(await namespaces(), ["streamdoc.emt:streams"]);
  assert.equal(await page.locator('[data-namespace="streamdoc.emt:streams"] .document').count(), 2);

  await page.click('fieldset:has(legend:text("storage")) label:has-text("custom")');
  await setEditor(page, "custom storage", '({ type }) => ({ database: "shop", collection: type + "s" })');
  await page.click("#apply-custom");
  await page.waitForFunction(() => document.querySelector("[data-namespace]")?.dataset.namespace?.startsWith("shop."));
  assert.deepEqual(await namespaces(), ["shop.carts", "shop.orders"]);
  // A function that throws, or does not compile: said in words on the operations.
  await setEditor(page, "custom storage", '({ type }) => { throw new Error("no place for " + type) }');
  await page.click("#apply-custom");
  await page.waitForFunction(() => document.querySelectorAll("[data-namespace]").length === 0);
  await setEditor(page, "custom storage", "({ type ) =>");
  await page.click("#apply-custom");
  assert.match(await page.textContent(".config .error"), /^the custom storage function does not compile: /);
  await setEditor(page, "custom storage", '({ type }) => ({ database: "shop", collection: type + "s" })');
  await page.click("#apply-custom");
  await page.waitForFunction(() => document.querySelectorAll("[data-namespace]").length === 2);

  // The size against 16 MiB, and the room left, for each document.
  const size = await page.textContent('[data-stream="order:1"] .size-text');
  assert.match(
    size,
    /^\d{3} bytes of BSON \(<0\.1% of 16 MiB = 16\.0 MiB\) · ≈ [\d,]+ more events of this size until the limit$/,
  );
  // Canonical Extended JSON spells every type out.
  await page.click('fieldset:has(legend:text("Extended JSON")) label:has-text("canonical")');
  assert.match(await page.textContent('[data-stream="order:1"]'), /streamPosition: \{"\$numberLong":"1"\}/);
  assertNoProblems(page);
});

test("the 16 MiB wall: the document fills to 95 % and the next append is refused", {
  skip,
  timeout: 120_000,
}, async () => {
  const page = await pg.open("/");
  await openScenario(page, "wall");
  await page.waitForSelector('main[data-view="documents"] [data-stream="blob:1"]', { timeout: 60_000 });
  const size = await page.textContent('[data-stream="blob:1"] .size-text');
  assert.match(size, /^16,0\d\d,\d{3} bytes of BSON \(95\.\d% of 16 MiB/);
  assert.match(size, /≈ 0 more events of this size until the limit/);
  await showView(page, "operate");
  assert.equal(await result(page, 0), "16 events appended: blob:1 is at version 16.");
  assert.equal(
    await result(page, 1),
    "the append would grow the document of blob:1 past MongoDB's limit of 16,777,216 bytes (16 MiB). Nothing was written.",
  );
  assertNoProblems(page);
});
