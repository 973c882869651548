// What every browser test of the playground shares: `streamdoc serve --web-dir web/dist`
// on a free loopback port, headless Chromium (Debian's package, driven by playwright-core)
// and pages that record every console error or warning, page error and failed request,
// so that a test can assert the page said nothing wrong.
//
// The server is $STREAMDOC_BIN, else target/debug/streamdoc (`cargo build -p
// streamdoc-host --bin streamdoc`); the browser $STREAMDOC_CHROMIUM, else /usr/bin/chromium
// (`cargo xtask chromium` installs it). The page is web/dist (`cargo xtask web` builds it).
// Without one of them a test fails under CI and is skipped, saying why, elsewhere.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = fileURLToPath(new URL(".", import.meta.url));
export const WEB = join(here, "..");
export const DIST = join(WEB, "dist");
const ROOT = join(WEB, "..");
const BINARY = process.env.STREAMDOC_BIN || join(ROOT, "target/debug/streamdoc");
const CHROMIUM = process.env.STREAMDOC_CHROMIUM || "/usr/bin/chromium";
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];

function missing() {
  if (!existsSync(join(DIST, "index.html"))) return `no page at ${DIST}: run \`cargo xtask web\``;
  if (!existsSync(BINARY)) return `no server at ${BINARY}: run \`cargo build -p streamdoc-host --bin streamdoc\``;
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM}: run \`cargo xtask chromium\``;
  return false;
}

/** `false`, or why the browser tests cannot run (a failure under CI). */
export const skip = missing();
if (skip && !["", "0", "false"].includes(process.env.CI ?? "")) {
  throw new Error(`the playground's browser tests need their tools under CI; ${skip}`);
}

/**
 * Starts `streamdoc serve` on its embedded engine (whatever MONGODB_URI the run has),
 * serving web/dist: resolves to its URL and a way to stop it.
 */
export async function serve(extra = []) {
  const { MONGODB_URI: _, ...env } = process.env;
  // The request log stays out of the test report; it is shown if the server fails to start.
  const child = spawn(BINARY, ["serve", "--bind", "127.0.0.1:0", "--web-dir", DIST, ...extra], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...env, RUST_LOG: "warn" },
  });
  let log = "";
  child.stderr.on("data", (chunk) => {
    log += chunk;
  });
  const lines = createInterface({ input: child.stdout });
  const url = await new Promise((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`streamdoc serve exited with ${code}: ${log}`)));
    lines.on("line", (line) => {
      const found = /serving .* on (http:\/\/\S+?)\/? /.exec(line);
      if (found) resolve(found[1]);
    });
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}

/**
 * One server and one browser for a test file: `setup()` in `before`, `teardown()` in
 * `after`; `open(path)` gives a fresh page whose problems land in `page.problems`.
 * `serveArgs` go to `streamdoc serve` (e.g. `--command-endpoint`).
 */
export function playground({ serveArgs = [] } = {}) {
  const state = { server: null, browser: null };
  return {
    get url() {
      return state.server.url;
    },
    async setup() {
      if (skip) return;
      state.server = await serve(serveArgs);
      state.browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 60_000 });
    },
    async teardown() {
      await state.browser?.close();
      await state.server?.stop();
    },
    /** A page at `path` (default the playground), loaded and ready, recording problems. */
    async open(path = "/", { viewport = { width: 1280, height: 800 }, ready = true } = {}) {
      const context = await state.browser.newContext({ viewport });
      const page = await context.newPage();
      const problems = [];
      page.on("pageerror", (error) => problems.push(`page error: ${error.stack ?? error}`));
      page.on("console", (message) => {
        if (["error", "warning", "assert"].includes(message.type())) {
          problems.push(`console ${message.type()}: ${message.text()} (${message.location().url})`);
        }
      });
      page.on("requestfailed", (request) => {
        const why = request.failure()?.errorText;
        // host.ts probes the page's own URL with HEAD and reads the headers only; Chromium
        // reports such a request as aborted once its answer is in. It is not a failure.
        if (request.method() === "HEAD" && why === "net::ERR_ABORTED") return;
        problems.push(`request failed: ${request.method()} ${request.url()} (${why})`);
      });
      page.on("response", (response) => {
        if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
      });
      page.problems = problems;
      await page.goto(new URL(path, state.server.url).href);
      if (ready) await page.waitForSelector("[data-ready]", { timeout: 30_000 });
      return page;
    },
  };
}

/** Fails with the page's problems, if it had any (console errors and warnings too). */
export function assertNoProblems(page) {
  assert.deepEqual(page.problems, [], "the page logged problems");
}

/** Switches to a view by its tab. */
export async function showView(page, name) {
  await page.click(`nav [data-view="${name}"]`);
  await page.waitForSelector(`main[data-view="${name}"]`);
}

/** Replaces the text of the CodeMirror editor labelled `label`, as a person pasting it would. */
export async function setEditor(page, label, text) {
  await page.click(`[data-editor="${label}"] .cm-content`);
  await page.keyboard.press("ControlOrMeta+a");
  await page.keyboard.insertText(text);
}

/** Opens a scenario of the gallery; resolves once its view is shown. */
export async function openScenario(page, id) {
  await showView(page, "gallery");
  await page.click(`[data-scenario="${id}"]`);
  await page.waitForSelector('main:not([data-view="gallery"])', { timeout: 60_000 });
}
