// The package's browser build in a real browser: headless Chromium (Debian's package,
// driven by playwright-core) loads `web/index.js` from a local static server, runs
// browser-scenario.mjs in the page, and the results and stored documents must equal those
// of the same scenario through the Node build in this process. Any page error or console
// error fails it. (The playground page, web/, has its own browser tests: web/test/.)
//
// The browser is $STREAMDOC_CHROMIUM, else /usr/bin/chromium (`cargo xtask chromium`
// installs it). Without it the test fails under CI and is skipped, saying why, elsewhere.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import { extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import * as streamdoc from "streamdoc";
import { scenario } from "./browser-scenario.mjs";

const CHROMIUM = process.env.STREAMDOC_CHROMIUM || "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];
const here = fileURLToPath(new URL(".", import.meta.url));
/** The installed copy of the package (`cargo xtask wasm test` puts the build there). */
const PACKAGE = join(here, "node_modules/streamdoc");

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".css": "text/css; charset=utf-8",
};

/** Without the browser: a skip, with the reason in the report, or a failure under CI. */
let skip = false;
if (!existsSync(CHROMIUM)) {
  skip = `no Chromium at ${CHROMIUM}: run \`cargo xtask chromium\` (or set STREAMDOC_CHROMIUM)`;
  if (!["", "0", "false"].includes(process.env.CI ?? "")) throw new Error(`the browser test needs Chromium under CI; ${skip}`);
}

/** The page that runs the scenario: its result (or failure) lands in `window.outcome`. */
const SCENARIO_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>streamdoc browser test</title></head>
<body><script type="module">
  import * as streamdoc from "/web/index.js";
  import { scenario } from "/scenario.mjs";
  scenario(streamdoc).then(
    (result) => { window.outcome = { result }; },
    (error) => { window.outcome = { error: String(error?.stack ?? error) }; },
  );
</script></body></html>`;

/**
 * A static server on a free loopback port. `routes` maps exact paths to `{ type, body }`
 * or to a handler `(request, response) => void`, and path prefixes (ending in "/") to
 * folders, the longest prefix first.
 */
async function serve(routes) {
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, "http://localhost").pathname);
    const fixed = routes[path];
    if (typeof fixed === "function") return fixed(request, response);
    if (fixed) return response.writeHead(200, { "Content-Type": fixed.type }).end(fixed.body);
    const folders = Object.keys(routes).filter((p) => typeof routes[p] === "string" && path.startsWith(p));
    const prefix = folders.sort((a, b) => b.length - a.length)[0];
    const file = prefix === undefined ? undefined : normalize(join(routes[prefix], path.slice(prefix.length)));
    const mime = file && MIME[extname(file)];
    // Only files inside the folder, of a known type.
    if (!mime || !file.startsWith(normalize(routes[prefix]) + sep)) return response.writeHead(404).end();
    try {
      const body = await readFile(file);
      response.writeHead(200, { "Content-Type": mime }).end(body);
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

let browser;
before(async () => {
  if (skip) return;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 });
});
after(() => browser?.close());

/**
 * A fresh page that records every page error and console error into `problems`
 * (except those `allow(message)` accepts).
 */
async function openPage(problems, allow = () => false) {
  const page = await browser.newPage();
  page.on("pageerror", (error) => problems.push(`page error: ${error.stack ?? error}`));
  page.on("console", (message) => {
    const text = `${message.text()} (${message.location().url})`;
    if (message.type() === "error" && !allow(text)) problems.push(`console error: ${text}`);
  });
  return page;
}

test("the browser build runs the scenario in Chromium exactly as the Node build does", { skip, timeout: 120_000 }, async () => {
  const { server, origin } = await serve({
    "/": { type: MIME[".html"], body: SCENARIO_PAGE },
    "/scenario.mjs": { type: MIME[".mjs"], body: await readFile(join(here, "browser-scenario.mjs")) },
    "/web/": join(PACKAGE, "web"),
  });
  const problems = [];
  try {
    const page = await openPage(problems);
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => window.outcome !== undefined, null, { timeout: 60_000 });
    const outcome = await page.evaluate(() => window.outcome);
    assert.equal(outcome.error, undefined, `the scenario failed in the page: ${outcome.error}`);
    assert.deepEqual(problems, []);
    const inBrowser = outcome.result;

    // What the browser saw, checked on its own first (clearer failures than a big diff).
    assert.deepEqual(inBrowser.created, { nextExpectedStreamVersion: "1n", createdNewStream: true });
    assert.deepEqual(inBrowser.next, { nextExpectedStreamVersion: "2n", createdNewStream: false });
    const { isConflictClass, name, kind, streamName, expected, actual } = inBrowser.conflict ?? {};
    assert.deepEqual(
      { isConflictClass, name, kind, streamName, expected, actual },
      {
        isConflictClass: true,
        name: "ConcurrencyConflictError",
        kind: "ConcurrencyConflict",
        streamName: "order:1",
        expected: "STREAM_DOES_NOT_EXIST",
        actual: "2n",
      },
    );
    assert.deepEqual(inBrowser.read.events.map((e) => [e.type, e.metadata.streamPosition]), [["OrderPlaced", "1n"], ["OrderPaid", "2n"]]);
    assert.equal(inBrowser.read.events[0].metadata.recordedAt, "2026-01-01T00:00:01.000Z");
    assert.deepEqual(inBrowser.read.events[1].data, { amount: 42.5, big: `${2n ** 40n}n` });
    assert.deepEqual(inBrowser.aggregated, { state: { total: 42, events: 2 }, currentStreamVersion: "2n", streamExists: true });
    assert.equal(inBrowser.documents["streamdoc.order"].length, 1);
    assert.ok(inBrowser.commandLog.some((c) => c.step === "conditional append"));
    assert.equal(inBrowser.exploration.truncated, false);
    assert.deepEqual(inBrowser.exploration.violations, []);
    for (const summary of Object.keys(inBrowser.exploration.outcomes)) {
      assert.equal(summary.match(/ConcurrencyConflict/g)?.length, 1, summary);
    }
    assert.deepEqual(inBrowser.simulation.violations, []);
    assert.equal(inBrowser.simulation.outcomes.find((o) => o.client === 0).result.error.name, "ConcurrencyConflictError");

    // The same calls through the Node build: identical results, identical documents.
    const inNode = await scenario(streamdoc);
    assert.deepEqual(inBrowser, inNode);
  } finally {
    server.close();
  }
});
