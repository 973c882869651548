// Side by side with the host: served by `streamdoc serve --command-endpoint` (here on its
// embedded engine), the page replays its session on the host's store through the
// package's executor and finds the same answers and documents; served without the
// endpoint, it says why it cannot, with no failed request.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { assertNoProblems, openScenario, playground, setEditor, showView, skip } from "./harness.mjs";

const withEndpoint = playground({ serveArgs: ["--command-endpoint"] });
const without = playground();
// On a live server too: the one the run has (FerretDB under `cargo xtask test`, or yours).
const uri = process.env.MONGODB_URI ?? "";
if (!uri && !["", "0", "false"].includes(process.env.CI ?? "")) {
  throw new Error("the playground's live side-by-side test needs MONGODB_URI under CI");
}
const liveSkip = skip || (uri ? false : "no MONGODB_URI: the side by side on a live server is skipped");
if (liveSkip && !skip) console.log(`# ${liveSkip}`);
const live = playground({ serveArgs: ["--command-endpoint", "--mongodb-uri", uri, "--database", "playground_live"] });
before(async () => {
  await withEndpoint.setup();
  await without.setup();
  if (!liveSkip) await live.setup();
});
after(async () => {
  await withEndpoint.teardown();
  await without.teardown();
  if (!liveSkip) await live.teardown();
});

test("on a live server the session replayed on the host's store gives the same answers and documents", {
  skip: liveSkip,
  timeout: 90_000,
}, async () => {
  const page = await live.open("/");
  await openScenario(page, "cart");
  await showView(page, "documents");
  await page.click("#run-on-host");
  await page.waitForSelector('#host-verdict[data-run="1"]', { timeout: 60_000 });
  assert.match(await page.textContent("#host-verdict"), /^Identical/, await page.textContent(".side-by-side"));
  assertNoProblems(page);
});

test("the session replayed on the host's store gives the same answers and documents", {
  skip,
  timeout: 90_000,
}, async () => {
  const page = await withEndpoint.open("/");
  await openScenario(page, "cart");
  await showView(page, "operate");
  // A conflict too: the host must refuse it the same way.
  await page.check('input[name="expected"][value="noStream"]');
  await page.fill("#stream-type", "cart");
  await page.fill("#stream-id", "alice");
  await page.click("#append");
  await page.waitForSelector('.outcome[data-op="5"].error');
  await showView(page, "documents");
  await page.click("#run-on-host");
  await page.waitForSelector('#host-verdict[data-run="1"]', { timeout: 60_000 });
  assert.match(
    await page.textContent("#host-verdict"),
    /^Identical: the host's store \(database scratch\S*_playground_\d+\) answered every operation/,
  );

  // The Emmett layout in one collection: the same again.
  await page.click('fieldset:has(legend:text("layout")) label:has-text("Emmett")');
  await page.click('fieldset:has(legend:text("storage")) label:has-text("single")');
  await page.waitForSelector('[data-namespace="streamdoc.emt:streams"]');
  await page.click("#run-on-host");
  await page.waitForSelector('#host-verdict[data-run="2"]', { timeout: 60_000 });
  assert.match(await page.textContent("#host-verdict"), /^Identical/);

  // A custom storage that writes to the database "shop": the host's endpoint works in its
  // scratch databases only, which the page says before sending anything.
  await page.click('fieldset:has(legend:text("storage")) label:has-text("custom")');
  await page.waitForSelector('[data-namespace^="shop."]');
  await page.click("#run-on-host");
  await page.waitForSelector('[aria-labelledby="host-title"] .error');
  assert.match(
    await page.textContent('[aria-labelledby="host-title"] .error'),
    /^the custom storage puts cart:alice in the database "shop", and the host runs commands only in databases whose name starts with "scratch/,
  );
  // Into a scratch database, the custom storage compares too.
  await setEditor(page, "custom storage", '({ type }) => ({ database: "scratch_custom", collection: type + "s" })');
  await page.click("#apply-custom");
  await page.waitForSelector('[data-namespace="scratch_custom.carts"]');
  await page.click("#run-on-host");
  await page.waitForSelector('#host-verdict[data-run="4"]', { timeout: 60_000 });
  assert.match(await page.textContent("#host-verdict"), /^Identical/, await page.textContent(".side-by-side"));
  assertNoProblems(page);
});

test("without the command endpoint the page says so, and nothing fails", { skip, timeout: 60_000 }, async () => {
  const page = await without.open("/");
  await showView(page, "documents");
  await page.waitForSelector("#host-status");
  assert.match(
    await page.textContent("#host-status"),
    /not available here \(the host runs without its command endpoint/,
  );
  assertNoProblems(page);
});
