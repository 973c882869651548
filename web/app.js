// The playground's first page: the wasm package in the browser, beside the server's API.
// Plain ES modules, no bundler: `cargo xtask play` copies the package's browser build to ./pkg/.
import { EventStore, STREAM_DOES_NOT_EXIST, NO_CONCURRENCY_CHECK } from "./pkg/index.js";

const local = new EventStore({ database: "streamdoc" });
const $ = (id) => document.getElementById(id);
const show = (id, value) => {
  $(id).textContent = typeof value === "string" ? value : JSON.stringify(value, (_, v) => (typeof v === "bigint" ? Number(v) : v), 2);
};
const status = (text, isError = false) => {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
};

/** The expected version for both halves: [wasm option, HTTP headers]. */
function expectation() {
  const text = $("expected").value.trim();
  if (text === "" || text === "any") return [NO_CONCURRENCY_CHECK, {}];
  if (text === "noStream") return [STREAM_DOES_NOT_EXIST, { "If-None-Match": "*" }];
  if (/^\d+$/.test(text)) return [BigInt(text), { "If-Match": `"${text}"` }];
  throw new Error(`expected version must be any, noStream or a number, not ${JSON.stringify(text)}`);
}

async function server(path, init) {
  const response = await fetch(path, init);
  const body = await response.json();
  return { status: response.status, etag: response.headers.get("ETag"), body };
}

async function readBoth() {
  const name = $("stream").value;
  const path = `/streams/${encodeURIComponent(name)}`;
  try {
    show("local-read", await local.readStream(name));
    const stored = Object.values(local.documents()).flat().find((d) => d.streamName === name);
    show("local-doc", stored ?? "(no document)");
  } catch (e) {
    show("local-read", `${e.name}: ${e.message}`);
  }
  try {
    show("server-read", await server(path));
    show("server-doc", (await server(`${path}/document`)).body);
  } catch (e) {
    show("server-read", `the server's API is not reachable: ${e.message}`);
  }
}

$("append").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("stream").value;
  let data, expected, headers;
  try {
    data = JSON.parse($("data").value || "{}");
    [expected, headers] = expectation();
  } catch (e) {
    status(e.message, true);
    return;
  }
  const events = [{ type: $("type").value, data }];
  const outcome = [];
  try {
    const r = await local.appendToStream(name, events, { expectedStreamVersion: expected });
    outcome.push(`browser: appended, next version ${r.nextExpectedStreamVersion}`);
  } catch (e) {
    outcome.push(`browser: ${e.name}: ${e.message}`);
  }
  try {
    const r = await server(`/streams/${encodeURIComponent(name)}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...headers },
      body: JSON.stringify({ events }),
    });
    outcome.push(r.status === 200 ? `server: appended, ETag ${r.etag}` : `server: ${r.status} ${r.body.title}: ${r.body.detail}`);
  } catch (e) {
    outcome.push(`server: not reachable (${e.message})`);
  }
  status(outcome.join(" · "), outcome.some((o) => /Error|: 4\d\d|: 5\d\d|not reachable/.test(o)));
  await readBoth();
});
$("read").addEventListener("click", readBoth);
status("ready: the wasm module is loaded");
readBoth();
