// The race lab's stepper: clients moved one command at a time, forwards and backwards
// along the schedule, a fork that discards the future (lost replies: explorer.test.mjs).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertNoProblems, openScenario, playground, skip } from "./harness.mjs";

const pg = playground();
before(() => pg.setup());
after(() => pg.teardown());

const counter = (page) => page.textContent("#step-counter");
async function expectCounter(page, text) {
  await page.waitForFunction((t) => document.querySelector("#step-counter")?.textContent === t, text, {
    timeout: 10_000,
  });
  assert.equal(await counter(page), text);
}
/** The finished operations' results, lane by lane. */
const finished = (page) => page.$$eval(".lanes .cell:not(.future) .finished", (els) => els.map((e) => e.textContent));

test("stepping the racing first append forwards, backwards, and forking it", { skip, timeout: 90_000 }, async () => {
  const page = await pg.open("/");
  await openScenario(page, "first-append");
  // a runs to the end, then b: index, upsert (a); index, upsert, check after the conflict (b).
  await expectCounter(page, "step 0/5");
  assert.match(await page.textContent(".step-detail"), /Before the first step/);

  await page.keyboard.press("ArrowRight");
  await expectCounter(page, "step 1/5");
  assert.match(
    await page.textContent("#step-command"),
    /\.createIndex\(\{ streamName: 1 \}, \{ name: "streamName_1", unique: true \}\)$/,
  );
  assert.equal(await page.textContent("#step-reply"), "{ ok: 1 }");
  assert.equal(await page.textContent("#step-diff"), "The documents did not change at this step.");

  await page.keyboard.press("ArrowRight");
  await expectCounter(page, "step 2/5");
  assert.match(
    await page.textContent("#step-command"),
    // The filter also excludes a sealed (archived) stream.
    /\.updateOne\(\{ streamName: \{ \$eq: "order:1" \}, "metadata\.streamPosition": Long\("0"\), "metadata\.sealedAt": \{ \$exists: false \} \}/,
  );
  assert.match(
    await page.textContent("#step-reply"),
    /matchedCount: 0, modifiedCount: 0, upsertedCount: 1, upsertedId: ObjectId\(/,
  );
  const added = await page.$$eval("#step-diff .d-added", (els) => els.map((e) => e.textContent.trim()));
  assert.ok(
    added.some((l) => l.includes('"streamName": "order:1"')),
    added.join("\n"),
  );
  assert.deepEqual(await finished(page), ["created the stream: appended, the stream is at version 1"]);

  // Back: the step before, replayed; the future stays.
  await page.keyboard.press("ArrowLeft");
  await expectCounter(page, "step 1/5");
  assert.deepEqual(await finished(page), []);
  assert.equal(await page.locator(".lanes .cell.future").count(), 4);

  // b moves instead of a: a fork, the old future is gone.
  await page.keyboard.press("2");
  await expectCounter(page, "step 2/2");
  assert.match(await page.textContent(".step-detail h3"), /^Step 2: b — creating the unique streamName index/);
  await page.keyboard.press("2");
  await expectCounter(page, "step 3/3");
  assert.match(await page.textContent("#step-reply"), /upsertedCount: 1/);
  // a's upsert now loses: E11000, then a reads the stream and reports the conflict.
  await page.keyboard.press("1");
  await expectCounter(page, "step 4/4");
  assert.match(await page.textContent("#step-reply"), /^MongoServerError\[11000\]: E11000 duplicate key error/);
  await page.keyboard.press("ArrowRight");
  await expectCounter(page, "step 5/5");
  assert.deepEqual(await finished(page), [
    "created the stream: appended, the stream is at version 1",
    "conflict: you expected no stream, the stream is at 1 (order:1). Nothing was written.",
  ]);
  assert.equal(await page.textContent("#race-verdict"), "Every client has finished, and every invariant holds.");
  // Nobody can move any more: said, not thrown.
  await page.keyboard.press("1");
  assert.equal(await page.textContent(".notice"), "Every client has finished.");

  // Discard the future from step 3, by button.
  await page.click(".lanes .cell >> nth=2");
  await expectCounter(page, "step 3/5");
  await page.click("#fork");
  await expectCounter(page, "step 3/3");
  assert.equal(await page.locator(".lanes .cell").count(), 3);
  assertNoProblems(page);
});

test("a named schedule plays to the end; the stale writer's conflict", { skip, timeout: 60_000 }, async () => {
  const page = await pg.open("/");
  await openScenario(page, "stale-writer");
  await page.selectOption("#named-schedule", { label: "interleaved, one step each" });
  const total = Number((await counter(page)).split("/")[1]);
  assert.ok(total >= 6, String(total));
  for (let i = 0; i < total; i++) await page.keyboard.press("ArrowRight");
  await expectCounter(page, `step ${total}/${total}`);
  assert.equal(await page.textContent("#race-verdict"), "Every client has finished, and every invariant holds.");
  assert.equal((await finished(page)).length, 4);
  assertNoProblems(page);
});

test("the race's clients can be changed: three writers, one with no check, interleaved", {
  skip,
  timeout: 60_000,
}, async () => {
  const page = await pg.open("/");
  await page.keyboard.press("r");
  await page.click(".clients > summary");
  await page.click('.clients button:has-text("+ client")');
  assert.equal(await page.locator(".lane-head").count(), 3);
  await page.selectOption('select[aria-label="c: operation 1"]', "any");
  assert.match(
    await page.textContent(".lane-head[data-lane='2'] .script"),
    /append OrderPlaced with no check \(reads the position, then appends\)/,
  );
  await page.selectOption("#named-schedule", { label: "interleaved, one step each" });
  const total = Number((await counter(page)).split("/")[1]);
  for (let i = 0; i < total; i++) await page.keyboard.press("ArrowRight");
  await expectCounter(page, `step ${total}/${total}`);
  const results = await finished(page);
  assert.equal(results.length, 3, results.join("\n"));
  // One of the two creators wins, the other conflicts; the unchecked writer appends.
  assert.equal(results.filter((r) => r.startsWith("conflict: you expected no stream")).length, 1, results.join("\n"));
  assert.equal(results.filter((r) => /appended, the stream is at version [12]$/.test(r)).length, 2, results.join("\n"));
  assert.equal(await page.textContent("#race-verdict"), "Every client has finished, and every invariant holds.");
  // A fourth client at most.
  await page.click('.clients button:has-text("+ client")');
  assert.equal(await page.isDisabled('.clients button:has-text("+ client")'), true);
  assertNoProblems(page);
});
