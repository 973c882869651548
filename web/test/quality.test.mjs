// The page as a whole: every view of every scenario renders without a console error or
// warning, at 1280×800 and at 390 px wide without sideways scrolling; nothing is fetched
// from anywhere but the page's own server (it works offline); the shortcuts are listed
// under `?`; the module also runs in a Web Worker; the first render time is printed.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertNoProblems, playground, showView, skip } from "./harness.mjs";

const pg = playground();
before(() => pg.setup());
after(() => pg.teardown());

const VIEWS = ["operate", "documents", "log", "race", "gallery"];

test("every view of every scenario renders without a console error or warning, at two widths", {
  skip,
  timeout: 240_000,
}, async () => {
  for (const viewport of [
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ]) {
    const page = await pg.open("/", { viewport });
    const requests = [];
    page.on("request", (r) => requests.push(r.url()));
    await showView(page, "gallery");
    const ids = await page.$$eval("[data-scenario]", (els) => els.map((e) => e.dataset.scenario));
    assert.deepEqual(ids, [
      "cart",
      "first-append",
      "stale-writer",
      "wall",
      "wall-segments",
      "close-the-books",
      "archive-race",
      "emmett",
      "lost-reply",
      "read-then-append",
      "four-writers",
      "five-writers",
    ]);
    for (const id of ids) {
      await showView(page, "gallery");
      await page.click(`[data-scenario="${id}"]`);
      for (const view of VIEWS) {
        await showView(page, view);
        // Walk the race to its end, so that each step's view renders too.
        if (view === "race") {
          const total = Number((await page.textContent("#step-counter")).split("/")[1]);
          for (let i = 0; i < total; i++) await page.keyboard.press("ArrowRight");
        }
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${id} / ${view} at ${viewport.width} px scrolls sideways by ${overflow} px`);
      }
    }
    const origin = new URL(pg.url).origin;
    const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith("blob:") && !u.startsWith("data:"));
    assert.deepEqual(foreign, [], "the page fetches nothing from elsewhere");
    assertNoProblems(page);
  }
});

test("the first render, timed, and the shortcuts under ?", { skip, timeout: 60_000 }, async () => {
  const page = await pg.open("/", { ready: false });
  await page.waitForSelector("[data-ready]");
  const ms = await page.evaluate(() => performance.now());
  console.log(`first render: ${ms.toFixed(0)} ms after navigation (page served by streamdoc serve)`);
  assert.ok(ms < 10_000, `first render took ${ms} ms`);

  await page.keyboard.press("?");
  await page.waitForSelector("dialog.help[open]");
  const rows = await page.$$eval(".shortcuts tr", (trs) => trs.map((tr) => tr.textContent));
  for (const key of ["?", "o", "d", "l", "r", "s", "1234", "←", "→", "f", "p"]) {
    assert.ok(
      rows.some((r) => r.startsWith(key)),
      `no shortcut ${key} in ${rows.join(" | ")}`,
    );
  }
  await page.keyboard.press("Escape");
  await page.waitForSelector("dialog.help:not([open])", { state: "attached" });
  // The view keys work; keys typed into a field are text, not shortcuts.
  await page.keyboard.press("d");
  await page.waitForSelector('main[data-view="documents"]');
  await page.keyboard.press("o");
  await page.waitForSelector('main[data-view="operate"]');
  await page.click("#event-type");
  await page.keyboard.type("dr");
  assert.equal(await page.inputValue("#event-type"), "OrderPlaceddr");
  assert.equal(await page.getAttribute("main", "data-view"), "operate");
  assertNoProblems(page);
});

test("the package loads and runs in a Web Worker of the built page", { skip, timeout: 60_000 }, async () => {
  const page = await pg.open("/");
  await page.keyboard.press("?");
  await page.click("#check-worker");
  await page.waitForFunction(
    () =>
      /worker/.test(document.querySelector("#worker-check")?.textContent ?? "") &&
      !/starting/.test(document.querySelector("#worker-check").textContent),
  );
  assert.equal(
    await page.textContent("#worker-check"),
    "the worker runs the module: it explored all 6 schedules of a two-writer race",
  );
  assertNoProblems(page);
});
