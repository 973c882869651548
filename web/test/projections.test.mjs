// Inline projections in the browser: switched on in the store's configuration, the read
// model lands in the stream document at `projections.<name>` by the append's own
// updateOne (Documents marks it, the command log marks its `$set` and `$unset`); an event
// the projection does not handle leaves it as it was, a null from evolve deletes it, an
// evolve that throws fails the append in words and writes nothing; a projection that does
// not compile or that the package refuses is said in words; a session saved before the
// projection existed still loads.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import LZString from "lz-string";
import { assertNoProblems, playground, setEditor, showView, skip, WEB } from "./harness.mjs";

const pg = playground();
before(() => pg.setup());
after(() => pg.teardown());

const PACKAGE_VERSION = JSON.parse(readFileSync(join(WEB, "../wasm/pkg/package.json"), "utf8")).version;

/** The text of operation `index`'s result, once it has one. */
async function result(page, index) {
  const selector = `.outcome[data-op="${index}"] .result`;
  await page.waitForFunction((s) => document.querySelector(s)?.textContent !== "…", selector);
  return (await page.textContent(selector)).trim();
}

/** An append from the Operate form; resolves to its result and what it did to the read model. */
async function append(page, { event, data = "{}", expected = "any", id = "42" }) {
  await showView(page, "operate");
  await page.fill("#stream-type", "order");
  await page.fill("#stream-id", id);
  await page.fill("#event-type", event);
  await setEditor(page, "data", data);
  await page.check(`input[name="expected"][value="${expected}"]`);
  const index = await page.locator(".outcome").count();
  await page.click("#append");
  const text = await result(page, index);
  const readModel = await page.getAttribute(`.outcome[data-op="${index}"]`, "data-read-model");
  return { text, readModel };
}

/** Waits for the replay that a configuration change started to end. */
async function replayed(page) {
  await page.waitForFunction(() => !document.querySelector("#apply-projection, #projection-toggle")?.disabled);
}

/** Switches the projection on (Documents), with `source` when given. */
async function projectionOn(page, source) {
  await showView(page, "documents");
  if (!(await page.isChecked("#projection-toggle"))) {
    await page.check("#projection-toggle");
    await page.waitForSelector('[data-editor="projection"] .cm-content');
  }
  if (source !== undefined) {
    await setEditor(page, "projection", source);
    await page.click("#apply-projection");
  }
  await replayed(page);
}

const doc = (stream) => `[data-stream="${stream}"]`;

/** The rows of the stream document's read models (`projections`), as shown. */
async function readModelRows(page, stream) {
  await showView(page, "documents");
  await page.waitForSelector(doc(stream));
  return page.$$eval(`${doc(stream)} [data-field="projections"] .j-children .j-row`, (rows) =>
    rows.map((r) => r.textContent),
  );
}

/** How many events the stream document holds, and its `metadata.streamPosition`, as shown. */
async function documentFacts(page, stream) {
  await showView(page, "documents");
  await page.waitForSelector(doc(stream));
  return page.$eval(doc(stream), (el) => {
    const top = [...el.querySelectorAll(".json-tree > details.j-node")];
    const node = (name) => top.find((d) => d.querySelector(":scope > summary > .j-key")?.textContent === `${name}: `);
    const rows = (d) => [...(d?.querySelectorAll(":scope > .j-children > .j-row") ?? [])].map((r) => r.textContent);
    return {
      events: node("events")?.querySelector(":scope > summary > .j-count")?.textContent.trim() ?? null,
      position: rows(node("metadata")).find((r) => r.startsWith("streamPosition: ")) ?? null,
    };
  });
}

/** Waits (a while) for the text of `selector` to match `pattern`, then asserts it does. */
async function eventually(page, selector, pattern, message) {
  await page
    .waitForFunction(
      ([s, re]) => new RegExp(re).test(document.querySelector(s)?.textContent ?? ""),
      [selector, pattern.source],
      {
        timeout: 10_000,
      },
    )
    .catch(() => {});
  assert.match((await page.textContent(selector)) ?? "", pattern, message);
}

/** The conditional appends of the command log (the updateOnes), with the read model fields they mark. */
async function updates(page) {
  await showView(page, "log");
  return page.$$eval(".command", (items) =>
    items
      .filter((li) => li.querySelector(".mongosh").textContent.includes(".updateOne("))
      .map((li) => ({
        origin: li.querySelector(".index").textContent,
        command: li.querySelector(".mongosh").textContent,
        marked: [...li.querySelectorAll(".mongosh mark.read-model")].map((m) => m.textContent),
      })),
  );
}

test("the read model is written into the stream document by the append's own updateOne", {
  skip,
  timeout: 90_000,
}, async () => {
  const page = await pg.open("/");
  await showView(page, "documents");
  assert.equal(await page.isChecked("#projection-toggle"), false);
  assert.equal(await page.locator('[data-editor="projection"]').count(), 0);
  await projectionOn(page);
  // The example: a summary of OrderPlaced, ItemAdded and OrderCancelled.
  assert.match(await page.textContent('[data-editor="projection"]'), /name: "summary"/);
  await showView(page, "operate");
  assert.match(await page.textContent("#projection-note"), /An inline projection is on/);

  assert.deepEqual(await append(page, { event: "OrderPlaced", data: '{ "total": 42 }', expected: "noStream" }), {
    text: "created order:42; appended: order:42 is at version 1. The same update wrote the read model projections.summary.",
    readModel: "written",
  });
  assert.deepEqual(await append(page, { event: "ItemAdded", data: '{ "price": 5 }' }), {
    text: "appended: order:42 is at version 2. The same update wrote the read model projections.summary.",
    readModel: "written",
  });
  // An event type the projection does not handle: the read model stays at position 2.
  assert.deepEqual(await append(page, { event: "OrderPaid", data: '{ "amount": 47 }' }), {
    text: "appended: order:42 is at version 3. The read model projections.summary is unchanged: the projection handles no event of this append.",
    readModel: "unchanged",
  });

  assert.deepEqual(await readModelRows(page, "order:42"), [
    "items: 1",
    "total: 47",
    'streamId: "42"',
    'name: "summary"',
    "schemaVersion: 1",
    "streamPosition: 2",
  ]);
  assert.deepEqual(await documentFacts(page, "order:42"), { events: "3 items", position: "streamPosition: 3" });
  // Marked, labelled, and open all the way down.
  const marked = `${doc("order:42")} [data-field="projections"]`;
  assert.match(await page.textContent(`${marked} > summary .j-label`), /^read models · written by the same updateOne/);
  assert.deepEqual(await page.$$eval(`${marked}, ${marked} details`, (all) => all.map((d) => d.open)), [
    true,
    true,
    true,
  ]);
  assert.equal(await page.isVisible(`${marked} .j-row:has-text("streamPosition: 2")`), true);
  assert.equal(
    (await page.textContent(`${doc("order:42")} .read-models-note`)).trim(),
    "Read model projections.summary (at stream position 2): written by the same updateOne as the events it folds, not by a second write.",
  );

  // The command log: each updateOne that wrote the read model `$set`s it, marked.
  const sent = await updates(page);
  assert.equal(sent.length, 3);
  assert.deepEqual(
    sent.map((u) => u.marked),
    [['"projections.summary"'], ['"projections.summary"'], []],
  );
  assert.match(
    sent[1].command,
    /\$set: \{ "metadata\.streamPosition": Long\("2"\), "metadata\.updatedAt": ISODate\("[^"]+"\), "projections\.summary": \{ items: 1, total: 47, _metadata: \{ streamId: "42", name: "summary", schemaVersion: 1, streamPosition: Long\("2"\) \} \} \}/,
  );
  assert.doesNotMatch(sent[2].command, /projections/);

  // A shared link restores the projection: the same read model on another page.
  const other = await pg.open(page.url());
  assert.deepEqual(await readModelRows(other, "order:42"), await readModelRows(page, "order:42"));
  assert.equal(await other.isChecked("#projection-toggle"), true);
  assertNoProblems(other);

  // evolve returns null on OrderCancelled: the update `$unset`s the read model.
  assert.deepEqual(await append(page, { event: "OrderCancelled" }), {
    text: "appended: order:42 is at version 4. The same update deleted the read model projections.summary (evolve returned null).",
    readModel: "deleted",
  });
  assert.deepEqual(await readModelRows(page, "order:42"), []);
  assert.equal(await page.textContent(`${doc("order:42")} [data-field="projections"] .j-punct`), "{}");
  assert.match(await page.textContent(`${doc("order:42")} .read-models-note`), /holds no read model any more/);
  const last = (await updates(page)).at(-1);
  assert.match(last.command, /\$unset: \{ "projections\.summary": "" \}/);
  assert.deepEqual(last.marked, ['"projections.summary"']);

  // Switched off: the same operations replayed with no read model at all.
  await showView(page, "documents");
  await page.uncheck("#projection-toggle");
  await replayed(page);
  await page.waitForSelector(`${doc("order:42")} .read-models-note`, { state: "detached" });
  assert.equal(await page.locator(`${doc("order:42")} [data-field="projections"]`).count(), 0);
  assert.equal(await page.locator(`${doc("order:42")} .read-models-note`).count(), 0);
  assert.deepEqual(await documentFacts(page, "order:42"), { events: "4 items", position: "streamPosition: 4" });
  await showView(page, "operate");
  assert.equal(await result(page, 3), "appended: order:42 is at version 4.");
  assert.equal(await page.locator("#projection-note").count(), 0);
  assertNoProblems(page);
});

test("an evolve that throws fails the append in words and writes nothing", { skip, timeout: 90_000 }, async () => {
  const page = await pg.open("/");
  await projectionOn(
    page,
    `({
      name: "summary",
      canHandle: ["OrderPlaced", "ItemAdded", "ItemRemoved"],
      initialState: () => ({ items: 0 }),
      evolve: (state, event) => {
        if (event.type === "ItemAdded" && event.data.sku === "none") throw new Error("no such item: " + event.data.sku);
        if (event.type === "ItemRemoved") return Promise.resolve(state);
        return { items: state.items + (event.type === "ItemAdded" ? 1 : 0) };
      },
    })`,
  );
  assert.equal((await append(page, { event: "OrderPlaced", expected: "noStream" })).readModel, "written");
  const failed = await append(page, { event: "ItemAdded", data: '{ "sku": "none" }' });
  assert.deepEqual(failed, {
    text: 'the projection "summary" failed on order:42: evolve threw: no such item: none. Nothing was written.',
    readModel: null,
  });
  assert.equal(await page.getAttribute('.outcome[data-op="1"] .result', "role"), "alert");
  const promised = await append(page, { event: "ItemRemoved" });
  assert.match(
    promised.text,
    /^the projection "summary" failed on order:42: evolve returned a Promise: an inline projection's evolve must be synchronous.*Nothing was written\.$/,
  );
  assert.equal((await append(page, { event: "ItemAdded", data: '{ "sku": "a1" }' })).readModel, "written");

  // Neither failed append sent an updateOne; the stream and its read model are as the
  // appends that succeeded left them.
  assert.deepEqual(
    (await updates(page)).map((u) => u.origin),
    ["#1 append OrderPlaced to order:42", "#4 append ItemAdded to order:42"],
  );
  assert.deepEqual(await documentFacts(page, "order:42"), { events: "2 items", position: "streamPosition: 2" });
  assert.deepEqual((await readModelRows(page, "order:42")).slice(0, 1), ["items: 1"]);
  assert.match((await readModelRows(page, "order:42")).at(-1), /^streamPosition: 2$/);
  assert.doesNotMatch(await page.textContent(doc("order:42")), /"none"/);

  // An append too long for the log to show whole: the read model's part is still shown.
  const note = "n".repeat(3000);
  assert.equal(
    (await append(page, { event: "ItemAdded", data: JSON.stringify({ sku: "a2", note }) })).readModel,
    "written",
  );
  const long = (await updates(page)).at(-1);
  assert.deepEqual(long.marked, ['"projections.summary"']);
  assert.match(
    long.command,
    /n … "projections\.summary": \{ items: 2, _metadata: \{ [^}]*streamPosition: Long\("3"\) \} \} \} \}\)$/,
  );
  assert.ok(long.command.length < 3000, String(long.command.length));
  // Plain words, never a stack.
  await showView(page, "operate");
  assert.doesNotMatch(await page.textContent(".outcomes"), /at \S+ \(\S+:\d+:\d+\)|\.js:\d+|Error:/);
  assertNoProblems(page);
});

test("a projection that does not compile, or that the package refuses, is said in words", {
  skip,
  timeout: 90_000,
}, async () => {
  const page = await pg.open("/");
  await append(page, { event: "OrderPlaced", expected: "noStream" });
  const cases = [
    ['({ name: "summary", canHandle: [', /^the projection does not compile: /],
    ['(() => { throw new Error("not today"); })()', /^the projection's source failed when run: not today$/],
    ['["summary"]', /^the projection must be one projection options object, like \(\{ name, canHandle/],
    [
      '({ name: "summary", evolve: (s) => s })',
      /^the projection is refused: its canHandle must be an array of event types$/,
    ],
    [
      '({ name: "summary", canHandle: ["OrderPlaced"], evolve: (s) => s, shape: 1 })',
      /^the projection is refused: unknown option `shape` \(the options are `name`, `canHandle`, `evolve`/,
    ],
    [
      '({ name: "order.summary", canHandle: ["OrderPlaced"], evolve: (s) => s })',
      /^the projection "order\.summary" is refused: the name may not contain '\.'/,
    ],
    [
      '({ canHandle: ["OrderPlaced"], evolve: (s) => s, initialState: () => { throw new Error("no start"); } })',
      /^the projection's initialState threw: no start$/,
    ],
  ];
  for (const [source, said] of cases) {
    await projectionOn(page, source);
    await eventually(page, ".config .error", said, source);
    assert.equal(await page.locator("[data-namespace]").count(), 0, source);
    await showView(page, "operate");
    assert.match(await result(page, 0), said, source);
    assert.doesNotMatch(await page.textContent(".outcomes"), /at \S+ \(\S+:\d+:\d+\)|\.js:\d+/);
  }
  // Back to the example: the store is made again and the read model written.
  await showView(page, "documents");
  await page.click("#reset-projection");
  await replayed(page);
  await page.waitForSelector(`${doc("order:42")} [data-field="projections"]`);
  assert.equal(await page.locator(".config .error").count(), 0);
  assert.deepEqual((await readModelRows(page, "order:42")).slice(0, 2), ["items: 0", "total: 0"]);
  assertNoProblems(page);
});

test("a session saved before projections existed still loads, and can take one", {
  skip,
  timeout: 60_000,
}, async () => {
  const session = {
    format: 1,
    package: PACKAGE_VERSION,
    scenario: null,
    epoch: Date.UTC(2026, 0, 1),
    seed: 7,
    // The configuration as sessions held it before: no `projection` field.
    config: { layout: "streamdoc", storage: "perStreamType", custom: "" },
    ops: [
      {
        op: "append",
        stream: "order:9",
        type: "OrderPlaced",
        data: '{"total":10}',
        metadata: "{}",
        expected: "noStream",
      },
      { op: "append", stream: "order:9", type: "ItemAdded", data: '{"price":3}', metadata: "{}", expected: 1 },
    ],
    view: "documents",
  };
  const link = (s) => `/#s1.${LZString.compressToEncodedURIComponent(JSON.stringify(s))}`;
  const page = await pg.open(link(session));
  await page.waitForSelector(doc("order:9"));
  assert.equal(await page.locator("#restore-notes").count(), 0);
  assert.equal(await page.isChecked("#projection-toggle"), false);
  assert.equal(await page.locator(`${doc("order:9")} [data-field="projections"]`).count(), 0);
  assert.deepEqual(await documentFacts(page, "order:9"), { events: "2 items", position: "streamPosition: 2" });

  // Switched on, the old session's operations are replayed with the example projection.
  await projectionOn(page);
  await page.waitForSelector(`${doc("order:9")} [data-field="projections"]`);
  assert.deepEqual((await readModelRows(page, "order:9")).slice(0, 2), ["items: 1", "total: 13"]);
  assert.equal((await readModelRows(page, "order:9")).at(-1), "streamPosition: 2");
  assertNoProblems(page);

  // A projection field of the wrong shape: the configuration is left out, said in words.
  const broken = await pg.open(link({ ...session, config: { ...session.config, projection: "on" } }));
  assert.match(await broken.textContent("#restore-notes"), /The link's store configuration could not be read/);
  await broken.waitForSelector(doc("order:9"));
  assertNoProblems(broken);
});
