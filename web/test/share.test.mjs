// Sharing: the whole session lives in the URL hash. A link opened in another browser
// context restores the view, the race and its step, the store's configuration and
// operations (so the same documents); steps push history; an incompatible or foreign
// link says what it could not restore.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import LZString from "lz-string";
import { assertNoProblems, openScenario, playground, showView, skip } from "./harness.mjs";

const pg = playground();
before(() => pg.setup());
after(() => pg.teardown());

async function exported(page) {
  await showView(page, "gallery");
  await page.click("#export-json");
  const value = JSON.parse(await page.textContent("#export-text"));
  await page.click("#export-json");
  return value;
}

test("a shared link restores the session: view, race, step, storage and documents", {
  skip,
  timeout: 90_000,
}, async () => {
  const page = await pg.open("/");
  await openScenario(page, "cart");
  await page.click('fieldset:has(legend:text("layout")) label:has-text("Emmett")');
  await page.waitForSelector('[data-namespace="streamdoc.emt:cart"]');
  await showView(page, "race");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("2");
  await page.waitForFunction(() => document.querySelector("#step-counter")?.textContent === "step 3/3");
  const mine = await exported(page);
  await showView(page, "race");
  const link = page.url();
  assert.match(new URL(link).hash, /^#s1\./);

  const other = await pg.open(link);
  await other.waitForSelector('main[data-view="race"]');
  assert.equal(await other.textContent("#step-counter"), "step 3/3");
  assert.equal(await other.locator("#restore-notes").count(), 0);
  assert.equal(await other.textContent("#step-command"), await page.textContent("#step-command"));
  const theirs = await exported(other);
  assert.deepEqual(theirs.session, mine.session);
  assert.deepEqual(theirs.documents, mine.documents);
  assert.deepEqual(Object.keys(theirs.documents), ["streamdoc.emt:cart"]);
  assert.deepEqual(theirs.race.schedule, ["a", "a", "b"]);

  // Markdown for an issue: the scenario, the schedule, the verdict and the commands.
  await other.click("#export-markdown");
  const markdown = await other.textContent("#export-text");
  assert.match(markdown, /^## streamdoc playground: A shopping cart/);
  assert.match(markdown, /Schedule: a → a → b \(step 3 of 3\)/);
  assert.match(markdown, /Verdict: every invariant holds so far/);
  assert.match(markdown, /```js\n\/\/ The race's commands/);
  assertNoProblems(page);
  assertNoProblems(other);
});

test("steps push history: the browser's back button steps back; edits do not", { skip, timeout: 60_000 }, async () => {
  const page = await pg.open("/");
  await showView(page, "race");
  const entries = () => page.evaluate(() => history.length);
  const start = await entries();
  await page.selectOption("#named-schedule", { index: 1 });
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  const at = (text) => page.waitForFunction((t) => document.querySelector("#step-counter")?.textContent === t, text);
  await at("step 2/5");
  assert.equal(await entries(), start + 3);
  await showView(page, "documents");
  await showView(page, "race");
  assert.equal(await entries(), start + 3, "switching views replaces the entry");
  await page.goBack();
  await at("step 1/5");
  await page.goBack();
  await at("step 0/5");
  await page.goForward();
  await at("step 1/5");
  assertNoProblems(page);
});

test("an incompatible, broken or foreign link says what it cannot restore", { skip, timeout: 60_000 }, async () => {
  const cases = [
    ["/#s9.N4Ig", /format 9, and this page reads format 1 only: nothing of it could be restored/],
    ["/#s1.not-a-session", /cannot be read \(it may have been cut short\)/],
    ["/#section-2", /does not hold a playground session/],
  ];
  for (const [path, note] of cases) {
    const page = await pg.open(path);
    assert.match(await page.textContent("#restore-notes"), note, path);
    // The page starts empty and works.
    await showView(page, "operate");
    await page.click("#append");
    await page.waitForSelector('.outcome[data-op="0"].ok');
    assertNoProblems(page);
  }

  // A link from another version of the package: replayed here, with a warning; the part
  // of it this page cannot read is named and left out.
  const session = {
    format: 1,
    package: "0.0.1",
    scenario: null,
    epoch: Date.UTC(2026, 0, 1),
    seed: 7,
    config: { layout: "streamdoc", storage: "single", custom: "" },
    ops: [{ op: "append", stream: "order:9", type: "Placed", data: "{}", metadata: "{}", expected: "noStream" }],
    race: { clients: "two" },
    view: "documents",
  };
  const page = await pg.open(`/#s1.${LZString.compressToEncodedURIComponent(JSON.stringify(session))}`);
  const notes = await page.textContent("#restore-notes");
  assert.match(notes, /This link was made with streamdoc 0\.0\.1; this page runs streamdoc \d+\.\d+\.\d+/);
  assert.match(notes, /The link's race could not be read and was left out/);
  await page.waitForSelector('[data-namespace="streamdoc.streams"] [data-stream="order:9"]');
  await page.click("#restore-notes button");
  assert.equal(await page.locator("#restore-notes").count(), 0);
  assertNoProblems(page);
});
