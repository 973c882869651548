// The page's pure modules, in Node (loaded through Vite, which compiles their TypeScript):
// the BSON size against the `bson` package's encoder, relaxed Extended JSON against its
// serializer, the session's URL encoding, the line diff and the plain words of errors.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Binary, BSON, Decimal128, Double, EJSON, Int32, Long, ObjectId, Timestamp } from "bson";
import { createServer } from "vite";
import { WEB } from "./harness.mjs";

let vite;
const load = (path) => vite.ssrLoadModule(path);
before(async () => {
  vite = await createServer({ root: WEB, logLevel: "silent", server: { middlewareMode: true, hmr: false } });
});
after(() => vite?.close());

/** Documents of every BSON type the store can hold, as the package hands them out. */
const samples = [
  {},
  { streamName: "order:42", n: new Int32(1), big: Long.fromString("9007199254740993"), d: new Double(2.5) },
  { nested: { list: [new Int32(1), "two", [true, null], { deep: new Double(1e300) }], empty: {}, none: [] } },
  { text: "née ☕ 𝄞 and \u{10FFFF}", key_é: "x", when: new Date(Date.UTC(2026, 0, 1)), old: new Date(-1) },
  {
    id: new ObjectId("6955b900e220a8397b000000"),
    dec: Decimal128.fromString("1.10"),
    ts: new Timestamp({ t: 5, i: 1 }),
  },
  {
    bin: new Binary(new Uint8Array([1, 2, 3, 4, 5]), 0),
    uuid: new Binary(new Uint8Array(16), 4),
    old: new Binary(new Uint8Array(3), 2),
  },
  { re: new BSON.BSONRegExp("^a.*b$", "i"), min: new BSON.MinKey(), max: new BSON.MaxKey() },
  { events: Array.from({ length: 12 }, (_, i) => ({ type: "E", data: { i: new Int32(i) }, at: new Long(i) })) },
];
const canonical = (doc) => EJSON.serialize(doc, { relaxed: false });

test("the BSON size of a document is the length of its encoding, for every BSON type", async () => {
  const { documentSize, utf8Length } = await load("/src/bson-size.ts");
  for (const doc of samples) {
    assert.equal(documentSize(canonical(doc)), BSON.serialize(doc).length, JSON.stringify(canonical(doc)));
  }
  assert.equal(utf8Length("a é ☕ 𝄞"), Buffer.byteLength("a é ☕ 𝄞"));
  // A lone surrogate is encoded as U+FFFD (3 bytes) by every UTF-8 encoder.
  assert.equal(utf8Length("\ud800x"), 4);
});

test("the size report counts the events of the last one's size that still fit under 16 MiB", async () => {
  const { MAX_DOCUMENT_BYTES, documentSize, elementSize, sizeReport } = await load("/src/bson-size.ts");
  const event = { type: "ChunkStored", data: { padding: "x".repeat(1000) } };
  const doc = { streamName: "blob:1", events: [event, event] };
  const report = sizeReport(doc);
  assert.equal(report.bytes, documentSize(doc));
  assert.ok(report.moreEvents > 15_000 && report.moreEvents < 17_000, String(report.moreEvents));
  assert.ok(elementSize("2", event) > 1000);
  // Exactly that many more fit, and not one more (keys grow a byte at index 10, 100, …).
  const fits = { ...doc, events: [...doc.events, ...Array(report.moreEvents).fill(event)] };
  assert.ok(documentSize(fits) <= MAX_DOCUMENT_BYTES);
  assert.ok(documentSize({ ...fits, events: [...fits.events, event] }) > MAX_DOCUMENT_BYTES);
  assert.equal(sizeReport({ streamName: "x:1" }).moreEvents, null);
});

test("relaxed Extended JSON is what the bson package's relaxed serializer writes", async () => {
  const { toRelaxed } = await load("/src/ejson.ts");
  for (const doc of samples.slice(2)) {
    assert.deepEqual(
      toRelaxed(canonical(doc)),
      EJSON.serialize(doc, { relaxed: true }),
      JSON.stringify(canonical(doc)),
    );
  }
  // Deliberately unlike the bson package: an Int64 that a JavaScript number cannot hold
  // exactly stays canonical instead of showing a rounded number.
  const { big, ...exact } = samples[1];
  assert.deepEqual(toRelaxed(canonical(exact)), EJSON.serialize(exact, { relaxed: true }));
  assert.deepEqual(toRelaxed(canonical({ big })), { big: { $numberLong: "9007199254740993" } });
});

test("a session survives the URL hash; other formats and broken links say what they could not restore", async () => {
  const { decodeSession, emptySession, encodeSession, PACKAGE_VERSION } = await load("/src/session.ts");
  const session = {
    ...emptySession(Date.UTC(2026, 0, 1)),
    ops: [{ op: "append", stream: "order:1", type: "Placed", data: '{"a":1}', metadata: "{}", expected: 0 }],
    view: "race",
  };
  const hash = encodeSession(session);
  assert.match(hash, /^#s1\.[A-Za-z0-9+\-$]+$/);
  assert.deepEqual(decodeSession(hash), { session, notes: [] });
  assert.equal(decodeSession(""), null);

  const fresh = () => emptySession(0);
  const [future] = decodeSession("#s2.abc", fresh).notes;
  assert.match(future, /format 2, and this page reads format 1 only: nothing of it could be restored/);
  assert.match(decodeSession("#s1.garbage", fresh).notes[0], /cannot be read/);
  assert.match(decodeSession("#section-3", fresh).notes[0], /does not hold a playground session/);

  // A link of another package version: restored, with a note; a malformed part is left out.
  const old = encodeSession({ ...session, package: "0.0.1", race: { stream: 5 } });
  const restored = decodeSession(old, fresh);
  assert.deepEqual(restored.session.ops, session.ops);
  assert.equal(restored.session.package, PACKAGE_VERSION);
  assert.match(restored.notes[0], /made with streamdoc 0\.0\.1; this page runs streamdoc/);
  assert.match(restored.notes[1], /race could not be read/);
  assert.deepEqual(restored.session.race, fresh().race);

  // The inline projection is optional: a configuration saved before it loads as it was;
  // one with a projection round-trips; a malformed one is left out, said in words.
  const before = { layout: "emmett", storage: "single", custom: "" };
  assert.deepEqual(decodeSession(encodeSession({ ...session, config: before }), fresh), {
    session: { ...session, config: before },
    notes: [],
  });
  const withProjection = { ...session.config, projection: { enabled: true, source: "({ canHandle: [] })" } };
  assert.deepEqual(
    decodeSession(encodeSession({ ...session, config: withProjection }), fresh).session.config,
    withProjection,
  );
  for (const projection of ["on", { enabled: "yes", source: "" }, { enabled: true }]) {
    const odd = decodeSession(encodeSession({ ...session, config: { ...before, projection } }), fresh);
    assert.deepEqual(odd.session.config, fresh().config, JSON.stringify(projection));
    assert.match(odd.notes[0], /store configuration could not be read/);
  }
});

test("the line diff keeps every line and marks the changed ones; long unchanged runs fold", async () => {
  const { diffLines, folded } = await load("/src/diff.ts");
  const before = ["{", "a", "b", "c", "d", "e", "f", "g", "}"].join("\n");
  const after = ["{", "a", "b", "c", "X", "d", "e", "f", "g", "}"].join("\n");
  const diff = diffLines(before, after);
  assert.deepEqual(
    diff.filter((l) => l.kind !== "same"),
    [{ kind: "added", text: "X" }],
  );
  assert.equal(
    diff
      .filter((l) => l.kind !== "added")
      .map((l) => l.text)
      .join("\n"),
    before,
  );
  assert.deepEqual(
    diffLines("a\nb", "a\nc").map((l) => l.kind),
    ["same", "removed", "added"],
  );
  const hunks = folded(diff, 1);
  assert.deepEqual(hunks[0], { kind: "folded", count: 3 });
  assert.equal(hunks.at(-1).kind, "folded");
});

test("errors in plain words come from the error's kind and details", async () => {
  const { errorInWords } = await load("/src/words.ts");
  const conflict = {
    kind: "ConcurrencyConflict",
    details: { kind: "ConcurrencyConflict", stream: "order:1", expected: 1, actual: 2 },
  };
  assert.equal(errorInWords(conflict), "conflict: you expected 1, the stream is at 2 (order:1). Nothing was written.");
  const missing = {
    kind: "ConcurrencyConflict",
    details: { stream: "order:1", expected: "streamExists", actual: null },
  };
  assert.match(errorInWords(missing), /^conflict: you expected an existing stream, the stream does not exist/);
  const name = { kind: "InvalidStreamName", details: { reason: "missingColon", name: "order1" } };
  assert.equal(
    errorInWords(name),
    "\"order1\" is not a stream name: it has no ':' between the stream type and the stream id.",
  );
  const projection = {
    kind: "Projection",
    message: 'projection "summary" failed on order:1: evolve threw: no way',
    details: { kind: "Projection", stream: "order:1", projection: "summary", message: "evolve threw: no way" },
  };
  assert.equal(
    errorInWords(projection),
    'the projection "summary" failed on order:1: evolve threw: no way. Nothing was written.',
  );
  const refused = {
    kind: "InvalidConfig",
    details: { kind: "InvalidConfig", reason: "invalidProjection", name: "a.b", why: "the name may not contain '.'" },
  };
  assert.equal(errorInWords(refused), "the projection \"a.b\" is refused: the name may not contain '.'.");
  const type = new TypeError("unknown option `layuot`");
  assert.equal(errorInWords(type), "refused: unknown option `layuot`");
});
