// The race lab's live subscriber: after each step of a race, the consumer subscribed on
// the page's engine (change stream) has caught up: it lists the batches it received, in
// order, and its checkpoint is the stream's position; going back shows the earlier state.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertNoProblems, openScenario, playground, skip } from "./harness.mjs";

const pg = playground();
before(() => pg.setup());
after(() => pg.teardown());

/** Waits until the panel shows `step`, then reads it. */
async function panel(page, step) {
  await page.waitForSelector(`#subscriber[data-step="${step}"]`, { timeout: 10_000 });
  return page.$eval("#subscriber", (el) => ({
    rows: [...el.querySelectorAll("#subscriber-batches tbody tr")].map((tr) => ({
      step: Number(tr.dataset.step),
      stream: tr.dataset.stream,
      positions: tr.querySelector(".positions").textContent.split(", ").map(Number),
      types: tr.querySelector(".types").textContent.split(", "),
      fresh: tr.classList.contains("new"),
    })),
    checkpoints: Object.fromEntries(
      [...el.querySelectorAll("#subscriber-checkpoints [data-stream]")].map((li) => [
        li.dataset.stream,
        Number(li.dataset.position),
      ]),
    ),
    delivered: el.querySelector("#subscriber-delivered")?.textContent,
    stats: el.querySelector("#subscriber-stats")?.textContent,
  }));
}

/** The stream's position after the step shown, from the race lab's own results. */
async function streamPosition(page) {
  const results = await page.$$eval(".lanes .cell:not(.future) .finished", (els) => els.map((e) => e.textContent));
  return Math.max(0, ...results.map((r) => Number(/the stream is at version (\d+)/.exec(r)?.[1] ?? 0)));
}

test("after each step the subscriber lists the delivered events in order, its checkpoint at the stream's position", {
  skip,
  timeout: 90_000,
}, async () => {
  const page = await pg.open("/");
  await openScenario(page, "stale-writer");
  await page.selectOption("#named-schedule", { label: "interleaved, one step each" });
  const total = Number((await page.textContent("#step-counter")).split("/")[1]);
  const before = await panel(page, 0);
  assert.deepEqual(before.rows, []);
  assert.match(before.delivered, /nothing received yet/);
  let appended = 0;
  for (let step = 1; step <= total; step++) {
    await page.keyboard.press("ArrowRight");
    const shown = await panel(page, step);
    const position = await streamPosition(page);
    const positions = shown.rows.filter((r) => r.stream === "order:7").flatMap((r) => r.positions);
    assert.deepEqual(
      positions,
      Array.from({ length: position }, (_, i) => i + 1),
      `step ${step}: every event once, in order`,
    );
    if (position > 0) assert.deepEqual(shown.checkpoints, { "order:7": position }, `step ${step}`);
    else assert.deepEqual(shown.checkpoints, {});
    // A step that appended is heard at once: its batch is new at this step.
    const fresh = shown.rows.filter((r) => r.fresh);
    assert.equal(fresh.length, position > appended ? 1 : 0, `step ${step}: ${shown.delivered}`);
    if (fresh.length) assert.equal(fresh[0].step, step);
    appended = position;
  }
  assert.ok(appended >= 2, `the race appended ${appended} events`);
  const end = await panel(page, total);
  assert.deepEqual(
    end.rows.flatMap((r) => r.types),
    ["OrderPlaced", "OrderPaid"],
    "the stale writer's cancelled append was never delivered: it conflicted",
  );
  assert.match(end.stats, /^\d+ change events heard, 2 batches \(2 events\): 2 carried by their change event, 0 read/);
  // Back: the panel shows the subscriber as it was after the earlier step.
  for (let i = 0; i < total; i++) await page.keyboard.press("ArrowLeft");
  const start = await panel(page, 0);
  assert.deepEqual(start.rows, []);
  assertNoProblems(page);
});
