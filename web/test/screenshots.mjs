// Screenshots of the playground's main views for the README and docs/: run by
// `cargo xtask web screenshots` (not by the test command). Each is taken from the built
// page served by `streamdoc serve`, with a scenario open, at 1280×800 (and one at 390 px).
// STREAMDOC_SCREENSHOTS=name,name saves only those (e.g. `playground-subscriber`).
import { join } from "node:path";
import { assertNoProblems, openScenario, playground, setEditor, showView, WEB } from "./harness.mjs";

const DOCS = join(WEB, "../docs");
const pg = playground();
await pg.setup();

const only = process.env.STREAMDOC_SCREENSHOTS?.split(",").filter(Boolean) ?? [];

async function shot(page, name) {
  if (only.length > 0 && !only.includes(name)) return;
  const path = join(DOCS, `${name}.png`);
  await page.screenshot({ path });
  console.log(`saved ${path}`);
}

try {
  // Operate: a few appends, one of them a conflict, and a read.
  const page = await pg.open("/");
  await setEditor(page, "data", '{\n  "total": 42,\n  "currency": "EUR"\n}');
  await page.check('input[name="expected"][value="noStream"]');
  await page.click("#append");
  await page.fill("#event-type", "OrderPaid");
  await setEditor(page, "data", '{\n  "amount": 42\n}');
  await page.check('input[name="expected"][value="exact"]');
  await page.fill("#expected-exact", "1");
  await page.click("#append");
  await page.fill("#event-type", "OrderCancelled");
  await page.click("#append");
  await page.click("#read");
  await page.waitForSelector('.outcome[data-op="3"] table');
  await shot(page, "playground");

  await showView(page, "log");
  await shot(page, "playground-log");

  await openScenario(page, "cart");
  await shot(page, "playground-documents");

  // The same cart with the example inline projection: its read model in the stream document.
  await page.check("#projection-toggle");
  await page.waitForSelector('[data-editor="projection"] .cm-content');
  await page.waitForFunction(() => !document.querySelector("#apply-projection, #projection-toggle")?.disabled);
  await page.waitForSelector('[data-field="projections"]');
  await page.evaluate(() => document.querySelector('[data-field="projections"]')?.scrollIntoView({ block: "center" }));
  await shot(page, "playground-projections");
  await page.uncheck("#projection-toggle");
  await page.waitForFunction(() => !document.querySelector("#projection-toggle")?.disabled);

  // The race lab, in the middle of the stale writer's race.
  await openScenario(page, "stale-writer");
  for (let i = 0; i < 7; i++) await page.keyboard.press("ArrowRight");
  await page.waitForFunction(() => document.querySelector("#step-counter")?.textContent.startsWith("step 7/"));
  await shot(page, "playground-racelab");

  // The live subscriber beside the race lab, in the stale writer's interleaved race, at
  // the step of a's second append (the batch it just heard is marked).
  await page.selectOption("#named-schedule", { label: "interleaved, one step each" });
  for (let i = 0; i < 5; i++) await page.keyboard.press("ArrowRight");
  await page.waitForSelector('#subscriber[data-step="5"]');
  await page.evaluate(() => document.querySelector("#subscriber")?.scrollIntoView({ block: "center" }));
  await shot(page, "playground-subscriber");

  // Break it: the unique index switched off, every schedule checked, the violation explained.
  await openScenario(page, "first-append");
  await page.selectOption("#design", "noUniqueIndex");
  await page.click("#explore");
  await page.waitForSelector('#explorer-report[data-status="done"]', { timeout: 60_000 });
  await page.locator("#explorer-report").scrollIntoViewIfNeeded();
  await page.evaluate(() => document.querySelector(".explorer")?.scrollIntoView({ block: "start" }));
  await shot(page, "playground-explorer");

  await openScenario(page, "wall");
  await shot(page, "playground-wall");

  // The same appends in segments: the first segment sealed at 12 MiB, the rest in segment 1.
  await openScenario(page, "wall-segments");
  await page.waitForSelector('article.document[data-segment="1"]', { timeout: 60_000 });
  await shot(page, "playground-segments");

  await showView(page, "gallery");
  await shot(page, "playground-gallery");
  assertNoProblems(page);

  const narrow = await pg.open("/", { viewport: { width: 390, height: 844 } });
  await openScenario(narrow, "first-append");
  for (let i = 0; i < 4; i++) await narrow.keyboard.press("ArrowRight");
  await shot(narrow, "playground-racelab-narrow");
  assertNoProblems(narrow);
} finally {
  await pg.teardown();
}
