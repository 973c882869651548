// `cargo xtask wasm bench`: the package's figures, each measured side by side in this
// one run. Prints ratios; asserts nothing about time.
import { argumentPaths, corpusReplay, exploration, versusEmmett } from "./benchmarks.mjs";

const fmt = (n) => Math.round(n).toLocaleString("en-US");
const appends = 30_000;
const streams = 10_000;

const rounds = 5;
// The corpus and the exploration first, in a module whose memory the append loads (tens
// of thousands of streams) have not yet grown.
const corpus = await corpusReplay(5);
const explored = exploration(5);
const exploredFive = exploration(5, { clients: 5 });
const race = exploration(5, { race: "five-writers" });
const vs = await versusEmmett({ appends, streams, rounds });
vs.stores.streamdoc.free();
const paths = await argumentPaths({ appends, streams, rounds });
paths.stores.encoded.free();
paths.stores.property.free();
const native = process.env.STREAMDOC_NATIVE_CORPUS ?? "";
const nativeMs = Number.parseFloat(native);
const gzip = Number(process.env.STREAMDOC_WASM_GZIP_BYTES ?? NaN);

console.log(`\n| measurement | streamdoc (wasm, Node ${process.version}) | baseline | ratio |`);
console.log("|---|---|---|---|");
console.log(
  `| ${fmt(appends)} one-event appends over ${fmt(streams)} streams (after a warm-up, median of ${rounds} alternating rounds) | ${fmt(vs.streamdoc)} appends/s | Emmett \`getInMemoryEventStore\`: ${fmt(vs.emmett)} appends/s | ${vs.ratio.toFixed(1)}× Emmett's appends/s |`,
);
console.log(
  `| the same appends with richer event data (5 fields, a nested list), arguments read in one call (the encoded path) | ${fmt(paths.encoded)} appends/s | read property by property: ${fmt(paths.property)} appends/s | ${paths.ratio.toFixed(2)}× the property path's appends/s |`,
);
if (Number.isFinite(nativeMs)) {
  console.log(
    `| replaying the corpus (${corpus.scenarios} scenarios, median of 5) | ${corpus.ms.toFixed(0)} ms | native (Rust runner): ${nativeMs.toFixed(0)} ms | ${(corpus.ms / nativeMs).toFixed(2)}× the native time |`,
  );
} else {
  console.log(`| replaying the corpus (${corpus.scenarios} scenarios, median of 5) | ${corpus.ms.toFixed(0)} ms | (no native figure) | |`);
}
for (const [what, e] of [
  ["4 clients × 2 steps", explored],
  ["5 clients × 2 steps", exploredFive],
  ["five writers racing to create one stream (index, write, a verifying read for each loser)", race],
]) {
  console.log(`| exploring all ${fmt(e.schedules)} schedules of ${what} (median of 5) | ${e.ms.toFixed(0)} ms | ${fmt(e.states)} distinct states run | ${fmt(e.schedules / e.states)} schedules per state run |`);
}
if (Number.isFinite(gzip)) console.log(`| streamdoc_bg.wasm, gzipped | ${(gzip / 1024).toFixed(0)} KiB (${fmt(gzip)} bytes) | target: at most 300 KB | |`);
