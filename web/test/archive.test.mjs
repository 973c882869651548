// Archiving, closing the books and segments in the playground: an archive racing an
// append in the race lab (both outcomes, either order), an archive op added to a client's
// script by its picker, the explorer listing the archive's and the segments' invariants
// as held, the 16 MiB wall in segments (two segment documents, the seal and open
// commands), and the close-the-books scenario's results and documents.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Explorer, Simulation } from "streamdoc";
import { assertNoProblems, openScenario, playground, showView, skip } from "./harness.mjs";

const pg = playground();
before(() => pg.setup());
after(() => pg.teardown());

const counter = (page) => page.textContent("#step-counter");
/** The finished operations' results, lane by lane. */
const finished = (page) => page.$$eval(".lanes .cell:not(.future) .finished", (els) => els.map((e) => e.textContent));

async function stepToEnd(page) {
  const [at, total] = (await counter(page)).replace("step ", "").split("/").map(Number);
  for (let i = at; i < total; i++) await page.keyboard.press("ArrowRight");
  await page.waitForFunction((t) => document.querySelector("#step-counter")?.textContent === `step ${t}/${t}`, total, {
    timeout: 20_000,
  });
  return total;
}

/** Every invariant the package checks, by kind, as it words them (from an exploration in Node). */
function invariantsInNode() {
  const sim = new Simulation({
    clients: [{ name: "a", ops: [{ op: "archive", stream: "order:1" }] }],
  });
  const explorer = new Explorer(sim, { limit: 1 });
  explorer.run(1);
  const invariants = Object.entries(explorer.report().invariants).map(([kind, i]) => [kind, i.invariant]);
  explorer.free();
  sim.free();
  return invariants;
}

test("an archive racing an append: the archive first refuses the append; the append first is archived too", {
  skip,
  timeout: 120_000,
}, async () => {
  const page = await pg.open("/");
  await openScenario(page, "archive-race");
  assert.match(await page.textContent(".lane-head[data-lane='1'] .script"), /archive the stream with no check/);
  await stepToEnd(page);
  const results = await finished(page);
  assert.deepEqual(results, [
    "created the stream: appended, the stream is at version 1",
    "archived the stream at version 1",
    "order:5 is archived (at version 1): it takes no more appends. Nothing was written.",
    "status: archived at version 1",
  ]);
  assert.equal(await page.textContent("#race-verdict"), "Every client has finished, and every invariant holds.");

  // a runs to the end before b moves: the archive takes both events.
  await page.selectOption("#named-schedule", { label: "a, then b, one after another" });
  await stepToEnd(page);
  const other = await finished(page);
  assert.ok(other.includes("appended, the stream is at version 2"), other.join("\n"));
  assert.ok(other.includes("archived the stream at version 2"), other.join("\n"));
  assert.ok(other.includes("status: archived at version 2"), other.join("\n"));
  assert.equal(await page.textContent("#race-verdict"), "Every client has finished, and every invariant holds.");
  assertNoProblems(page);
});

test("an archive, a close and a status added to a client's script by its picker; the explorer lists the new invariants as held", {
  skip,
  timeout: 180_000,
}, async () => {
  const page = await pg.open("/");
  await page.keyboard.press("r");
  await page.click(".clients > summary");
  // b archives instead of creating the stream, then asks for its status.
  await page.selectOption('select[aria-label="b: operation 1"]', "archive");
  await page.click('.clients fieldset:has(legend:text("client b")) button:has-text("+ operation")');
  await page.selectOption('select[aria-label="b: operation 2"]', "status");
  assert.match(
    await page.textContent(".lane-head[data-lane='1'] .script"),
    /archive the stream with no check.*ask for the stream's status/s,
  );
  // The session keeps the new ops: a reload of its link shows the same script.
  const link = await page.evaluate(() => location.href);
  const again = await pg.open(link);
  assert.match(await again.textContent(".lane-head[data-lane='1'] .script"), /archive the stream with no check/);

  await page.selectOption("#named-schedule", { label: "b, then a" });
  await stepToEnd(page);
  // Archiving a stream that does not exist yet conflicts; a then creates it.
  const results = await finished(page);
  assert.equal(results.length, 3, results.join("\n"));
  assert.ok(
    results.some((r) => r.startsWith("conflict: you expected")),
    results.join("\n"),
  );
  assert.ok(results.includes("status: the stream does not exist"), results.join("\n"));
  assert.ok(results.includes("created the stream: appended, the stream is at version 1"), results.join("\n"));

  // Every schedule: the archive's and the segments' invariants are listed with the others, and hold.
  await page.click("#explore");
  await page.waitForSelector('#explorer-report[data-status="done"]', { timeout: 120_000 });
  const listed = await page.$$eval("#explorer-invariants li", (els) =>
    els.map((e) => [e.dataset.invariant, e.querySelector("strong").textContent, e.dataset.held]),
  );
  const expected = invariantsInNode();
  assert.deepEqual(
    listed.map(([kind, words]) => [kind, words]),
    expected,
  );
  for (const kind of ["archiveIncomplete", "segmentsDoNotTile"]) {
    assert.ok(
      listed.some(([k, , held]) => k === kind && held === "yes"),
      `${kind} listed as held: ${JSON.stringify(listed)}`,
    );
  }
  assert.deepEqual(listed.find(([kind]) => kind === "archiveIncomplete").slice(0, 2), [
    "archiveIncomplete",
    "an archived stream is complete in the archive",
  ]);
  assert.equal(await page.textContent("#explorer-verdict"), "Every invariant held in every schedule.");
  // Both ways the race can end are among the final states.
  const finals = await page.textContent("#explorer-finals");
  assert.match(finals, /archived\(@1\)/, finals);
  assert.match(finals, /ConcurrencyConflict/, finals);

  // A close into a successor: its result is told in words.
  await page.selectOption('select[aria-label="b: operation 1"]', "closeStream");
  assert.match(
    await page.textContent(".lane-head[data-lane='1'] .script"),
    /close the books with no check: archive the stream, start order:1-next with a BooksOpened summary/,
  );
  await page.selectOption("#named-schedule", { label: "a, then b, one after another" });
  await stepToEnd(page);
  const closed = await finished(page);
  assert.ok(
    closed.includes("closed the books at version 1: order:1-next starts with the summary, at version 1"),
    closed.join("\n"),
  );
  assertNoProblems(page);
  assertNoProblems(again);
});

test("the 16 MiB wall in segments: the full segment is sealed, segment 1 opened, the last append lands", {
  skip,
  timeout: 120_000,
}, async () => {
  const page = await pg.open("/");
  await openScenario(page, "wall-segments");
  assert.equal(await page.isChecked("#segments-toggle"), true);
  const namespace = page.locator('[data-namespace="streamdoc.blob"]');
  await namespace.waitFor({ timeout: 60_000 });
  assert.match(await namespace.locator("summary .count").first().textContent(), /^2 documents$/);
  const segments = await page.$$eval('[data-namespace="streamdoc.blob"] article.document', (els) =>
    els.map((e) => [e.dataset.stream, e.dataset.segment]),
  );
  assert.deepEqual(segments, [
    ["blob:1", "0"],
    ["blob:1", "1"],
  ]);

  // Every append succeeded: the one the wall refused too.
  await showView(page, "operate");
  const texts = await page.$$eval(".outcomes .outcome", (els) => els.map((e) => `${e.className}: ${e.textContent}`));
  assert.equal(texts.filter((t) => t.includes(" error")).length, 0, texts.join("\n"));
  assert.match(texts[0], /blob:1 is at version 17/);

  // The log has the roll-over: the seal of segment 0, then the upsert of segment 1.
  await showView(page, "log");
  const log = await page.textContent("main");
  const seal = log.indexOf("sealing the full segment");
  const open = log.indexOf("opening the next segment");
  assert.ok(seal >= 0 && open > seal, "the seal, then the open, in the command log");

  // Segments off: the same operations hit the wall again (one document, the last append refused).
  await showView(page, "documents");
  await page.click("#segments-toggle");
  await page.waitForFunction(
    () => document.querySelectorAll('[data-namespace="streamdoc.blob"] article.document').length === 1,
    null,
    { timeout: 60_000 },
  );
  assert.equal(await page.locator('[data-namespace="streamdoc.blob"] article[data-segment]').count(), 0);
  assertNoProblems(page);
});

test("closing the books: the successor starts with the summary, the closed stream refuses appends and reads from the archive", {
  skip,
  timeout: 60_000,
}, async () => {
  const page = await pg.open("/");
  await openScenario(page, "close-the-books");
  await page.waitForSelector('.outcome[data-op="6"].ok');
  const result = (i) => page.textContent(`.outcome[data-op="${i}"] .result`);
  assert.match(
    await result(2),
    /^closed the books of shift:1 at version 2: it is archived, and shift:2 starts with the summary \(version 1\)\.$/,
  );
  assert.match(
    await result(3),
    /^shift:1 is archived \(at version 2, continued by shift:2\): it takes no more appends\. Nothing was written\.$/,
  );
  assert.equal(await page.getAttribute('.outcome[data-op="3"]', "class"), "outcome error");
  assert.match(await result(4), /^shift:1: archived at version 2, continued by shift:2\.$/);
  assert.match(await result(5), /^shift:2: live at version 1, continuing shift:1 \(closed at version 2\)\.$/);
  assert.match(await result(6), /^read 2 events of shift:1 from the archive, which is at version 2\.$/);
  const types = await page.$$eval('.outcome[data-op="6"] table.events tbody tr td:nth-child(2)', (els) =>
    els.map((e) => e.textContent),
  );
  assert.deepEqual(types, ["Sold", "Sold"]);

  // The documents: shift:1's tombstone and shift:2 in the live collection, shift:1's events in the archive.
  await showView(page, "documents");
  const live = await page.$$eval('[data-namespace="streamdoc.shift"] article.document', (els) =>
    els.map((e) => e.dataset.stream),
  );
  assert.deepEqual(live.sort(), ["shift:1", "shift:2"]);
  const archived = await page.$$eval('[data-namespace="streamdoc.shift_archive"] article.document', (els) =>
    els.map((e) => [e.dataset.stream, e.textContent.includes('"Sold"')]),
  );
  assert.deepEqual(archived, [["shift:1", true]]);
  assertNoProblems(page);
});
