// The race lab's explorer (every schedule, in a Web Worker) and the design picker: the
// real design holds every invariant over every schedule, each broken design violates its
// invariant and its shortest counterexample opens in the stepper, Stop stops, and a lost
// reply's retry succeeds once under streamdoc and duplicates under the blind retry.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { designs, Explorer, Simulation } from "streamdoc";
import { assertNoProblems, openScenario, playground, skip } from "./harness.mjs";

const pg = playground();
before(() => pg.setup());
after(() => pg.teardown());

/** Schedules of a package race, counted by the package in Node: what the page must show. */
function schedulesInNode(id, options = {}) {
  const sim = Simulation.fromRace(id);
  const explorer = new Explorer(sim, { limit: 1_000_000_000, ...options });
  while (!explorer.run(10_000));
  const { schedules } = explorer.report();
  explorer.free();
  sim.free();
  return schedules;
}

/** The invariants of a package race's exploration, as the package names and words them in Node. */
function invariantsInNode(id) {
  const sim = Simulation.fromRace(id);
  const explorer = new Explorer(sim, { limit: 1 });
  explorer.run(1);
  const invariants = Object.entries(explorer.report().invariants).map(([kind, i]) => [kind, i.invariant]);
  explorer.free();
  sim.free();
  return invariants;
}

const number = (text) => Number(text.replaceAll(",", ""));

/** Explores the race shown; resolves to the summary's numbers once it is done. */
async function explore(page, { faults, limit } = {}) {
  if (faults !== undefined) await page.selectOption("#explore-faults", String(faults));
  if (limit !== undefined) await page.fill("#explore-limit", String(limit));
  await page.click("#explore");
  await page.waitForSelector('#explorer-report[data-status="done"]', { timeout: 120_000 });
  const summary = await page.textContent("#explorer-summary");
  const found = /^([\d,]+) schedules? explored, ([\d,]+) distinct states, in ([\d,]+) ms/.exec(summary);
  assert.ok(found, summary);
  return { schedules: number(found[1]), states: number(found[2]), ms: number(found[3]), summary };
}

const held = (page) => page.$$eval("#explorer-invariants li", (els) => els.map((e) => e.dataset.held));
const counter = (page) => page.textContent("#step-counter");
const finished = (page) => page.$$eval(".lanes .cell:not(.future) .finished", (els) => els.map((e) => e.textContent));

/** Steps from wherever the stepper is to the schedule's end. */
async function stepToEnd(page) {
  const [at, total] = (await counter(page)).replace("step ", "").split("/").map(Number);
  for (let i = at; i < total; i++) await page.keyboard.press("ArrowRight");
  await page.waitForFunction((t) => document.querySelector("#step-counter")?.textContent === `step ${t}/${t}`, total, {
    timeout: 20_000,
  });
  return total;
}

test("the real design holds every invariant: the racing first append, four and five writers", {
  skip,
  timeout: 300_000,
}, async () => {
  const page = await pg.open("/");
  await openScenario(page, "first-append");
  assert.match(await page.textContent("#design-info"), /^production/);
  assert.match(await page.textContent("#explorer-not-covered"), /replication and failover.*DEVIATIONS\.md/s);
  const first = await explore(page);
  assert.ok(first.schedules > 0);
  assert.deepEqual(new Set(await held(page)), new Set(["yes"]));
  assert.equal(await page.textContent("#explorer-verdict"), "Every invariant held in every schedule.");
  // Every invariant the package checks is listed, in its words (the read models' one too).
  const listed = await page.$$eval("#explorer-invariants li", (els) =>
    els.map((e) => [e.dataset.invariant, e.querySelector("strong").textContent]),
  );
  assert.deepEqual(listed, invariantsInNode("racing-first-append"));
  assert.deepEqual(
    listed.find(([kind]) => kind === "readModelDiverged"),
    ["readModelDiverged", "every read model is the fold of its stream's events"],
  );
  assert.match(
    await page.textContent("#explorer-coverage"),
    /a conflict in [\d,]+ of [\d,]+ schedules, a duplicate key in/,
  );
  // A final state opens in the stepper at its first step.
  await page.click("#explorer-finals button >> nth=0");
  assert.match(await counter(page), /^step 0\/[1-9]\d*$/);

  await openScenario(page, "four-writers");
  const four = await explore(page);
  assert.equal(four.schedules, 43_920);
  assert.equal(four.schedules, schedulesInNode("four-writers"));
  assert.deepEqual(new Set(await held(page)), new Set(["yes"]));
  assert.match(await page.textContent("#explorer-coverage"), /^Coverage: a conflict in 43,920 of 43,920 schedules/);
  process.stdout.write(
    `four writers: ${four.schedules} schedules, ${four.states} states, explored in ${four.ms} ms in Chromium\n`,
  );

  await openScenario(page, "five-writers");
  const five = await explore(page);
  assert.equal(five.schedules, 15_220_800);
  assert.equal(five.schedules, schedulesInNode("five-writers"));
  assert.doesNotMatch(five.summary, /budget/);
  assert.deepEqual(new Set(await held(page)), new Set(["yes"]));
  process.stdout.write(
    `five writers: ${five.schedules} schedules, ${five.states} states, explored in ${five.ms} ms in Chromium\n`,
  );
  assertNoProblems(page);
});

test("Stop stops the exploration of five writers before its end", { skip, timeout: 120_000 }, async () => {
  const page = await pg.open("/");
  await openScenario(page, "five-writers");
  const total = schedulesInNode("five-writers");
  await page.click("#explore");
  await page.waitForFunction(
    () => /^[1-9][\d,]* schedules?, /.test(document.querySelector("#explore-count")?.textContent ?? ""),
    null,
    {
      timeout: 30_000,
    },
  );
  await page.click("#explore-stop");
  await page.waitForSelector('#explorer-report[data-status="stopped"]', { timeout: 30_000 });
  const summary = await page.textContent("#explorer-summary");
  const explored = number(/^([\d,]+) schedules? explored \(stopped\)/.exec(summary)?.[1] ?? "NaN");
  assert.ok(explored > 0 && explored < total, `${summary} (of ${total})`);
  assert.equal(await page.isEnabled("#explore"), true);
  assertNoProblems(page);
});

for (const design of designs().filter((d) => d.breaks !== null)) {
  test(`broken design ${design.id}: ${design.breaks} is violated, its counterexample opens`, {
    skip,
    timeout: 120_000,
  }, async () => {
    const page = await pg.open("/");
    await openScenario(page, "first-append");
    await page.selectOption("#design", design.id);
    assert.match(await page.textContent("#design-info"), /^deliberately broken \(exists only in the simulator/);
    if (await page.isVisible("#open-design-scenario")) await page.click("#open-design-scenario");
    assert.equal(await page.inputValue("#design"), design.id);
    assert.equal(await page.inputValue("#explore-faults"), design.needsFaults ? "1" : "0");
    await explore(page);
    const item = page.locator(`#explorer-invariants li[data-invariant="${design.breaks}"]`);
    assert.equal(await item.getAttribute("data-held"), "no");
    assert.match(await item.textContent(), /violated in [\d,]+ schedules?/);
    const explanation = await item.locator(".explanation").textContent();
    assert.ok(explanation.length > 40, explanation);
    assert.match(await page.textContent("#explorer-verdict"), /invariants? violated/);

    await item.locator(".open-counterexample").click();
    assert.match(await counter(page), /^step 0\/[1-9]\d*$/);
    assert.match(
      await page.textContent("#opened-counterexample"),
      new RegExp(explanation.slice(0, 30).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")),
    );
    await stepToEnd(page);
    assert.ok((await page.locator(".lanes .cell").count()) > 0);
    assert.match(await page.textContent("#race-verdict"), /^Invariant broken:/);
    assertNoProblems(page);
  });
}

test("a lost reply: the retry succeeds once under streamdoc, and duplicates under the blind retry", {
  skip,
  timeout: 90_000,
}, async () => {
  const page = await pg.open("/");
  await openScenario(page, "lost-reply");
  // One append per client; a's write (step 2) loses its reply, and a retries it.
  assert.equal(await counter(page), "step 0/7");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  await page.waitForFunction(() => document.querySelector("#step-counter")?.textContent === "step 2/7");
  assert.equal(await page.isChecked("#lose-reply"), true);
  assert.match(await page.textContent(".step-detail"), /the client never got this reply/);
  await stepToEnd(page);
  const results = await finished(page);
  assert.equal(results.length, 2, results.join("\n"));
  assert.ok(
    results.includes("conflict: you expected no stream, the stream is at 1 (order:42). Nothing was written."),
    results.join("\n"),
  );
  assert.ok(
    results.includes("created the stream: appended, the stream is at version 1 (sent 2 times: its reply was lost)") ||
      results.includes("appended, the stream is at version 1 (sent 2 times: its reply was lost)"),
    results.join("\n"),
  );
  assert.equal(await page.textContent("#race-verdict"), "Every client has finished, and every invariant holds.");

  await page.selectOption("#design", "blindRetry");
  assert.equal(await counter(page), "step 0/7");
  await stepToEnd(page);
  assert.match(await page.textContent("#race-verdict"), /^Invariant broken:.*appears twice in order:42/s);
  assertNoProblems(page);
});

test("the stepper's lose-this-reply on the session's own race: the retry finds its event", {
  skip,
  timeout: 60_000,
}, async () => {
  const page = await pg.open("/");
  await openScenario(page, "first-append");
  await page.keyboard.press("1");
  await page.keyboard.press("1");
  await page.waitForFunction(() => /^step 2\//.test(document.querySelector("#step-counter")?.textContent ?? ""));
  await page.check("#lose-reply");
  assert.match(await page.textContent(".step-detail"), /the client never got this reply/);
  await page.keyboard.press("ArrowRight");
  await page.waitForFunction(() => document.querySelector("#step-counter")?.textContent === "step 3/3");
  assert.match(await page.textContent(".step-detail h3"), /^Step 3: a/);
  assertNoProblems(page);
});
