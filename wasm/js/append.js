// The append fast path of the bindings (not part of the package's exports).
//
// `appendToStream` reads its arguments here in one call instead of one boundary crossing
// per property and value: `encodeAppend` walks them in JavaScript, in the order and with
// the operations the Rust conversion uses (`Object.keys`, property reads, `typeof`,
// `Array.isArray`, `instanceof`), and writes them into one byte string that Rust decodes
// (wasm/src/convert.rs, `AppendReader`). It decides nothing: whatever the Rust conversion
// would refuse or treat specially (a non-string type, an Extended JSON object, a function,
// an out-of-range bigint, an invalid Date, a getter that throws...) makes it return
// `undefined`, and Rust converts the arguments the slow way, with its own error messages
// (the getters of such arguments then run twice).

const BAIL = Symbol("bail");
/** Extended JSON type keys (as `EXTENDED_JSON_KEYS` in convert.rs): such objects take the slow path. */
const EXTENDED = new Set([
  "$oid", "$symbol", "$numberInt", "$numberLong", "$numberDouble", "$numberDecimal", "$binary", "$uuid", "$code",
  "$timestamp", "$regularExpression", "$regex", "$dbPointer", "$date", "$minKey", "$maxKey", "$undefined",
]);
const SMALL = 4096;
const utf8 = new TextEncoder();
let buf = new Uint8Array(SMALL);
let view = new DataView(buf.buffer);
let pos = 0;
/** True while `encodeAppend` runs: a getter that appends again takes the slow path. */
let busy = false;

function reserve(n) {
  if (pos + n > buf.length) {
    let size = buf.length * 2;
    while (size < pos + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(buf.subarray(0, pos));
    buf = grown;
    view = new DataView(buf.buffer);
  }
}

function u8(v) {
  reserve(1);
  buf[pos++] = v;
}

function u32(v) {
  reserve(4);
  view.setUint32(pos, v, true);
  pos += 4;
}

function f64(tag, v) {
  reserve(9);
  buf[pos] = tag;
  view.setFloat64(pos + 1, v, true);
  pos += 9;
}

/** A string as its UTF-8 length (u32) and bytes (lone surrogates as U+FFFD, as `TextEncoder`). */
function string(s) {
  const n = s.length;
  reserve(4 + n * 3);
  const start = pos + 4;
  let p = start;
  let i = 0;
  if (n <= 64) {
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[p++] = c;
    }
  }
  if (i < n) p += utf8.encodeInto(i === 0 ? s : s.slice(i), buf.subarray(p)).written;
  view.setUint32(pos, p - start, true);
  pos = p;
}

// Value tags, as `AppendReader::value` reads them.
const NULL = 1, FALSE = 2, TRUE = 3, NUMBER = 4, STRING = 5, ARRAY = 6, DOCUMENT = 7, INT64 = 8, DATE = 9, BINARY = 10;

function value(v) {
  switch (typeof v) {
    case "string":
      u8(STRING);
      string(v);
      return;
    case "number":
      f64(NUMBER, v);
      return;
    case "boolean":
      u8(v ? TRUE : FALSE);
      return;
    case "undefined":
      u8(NULL);
      return;
    case "bigint":
      if (BigInt.asIntN(64, v) !== v) throw BAIL;
      reserve(9);
      buf[pos] = INT64;
      view.setBigInt64(pos + 1, v, true);
      pos += 9;
      return;
    case "object":
      if (v === null) {
        u8(NULL);
      } else if (Array.isArray(v)) {
        const n = v.length >>> 0;
        u8(ARRAY);
        u32(n);
        for (let i = 0; i < n; i++) value(v[i]);
      } else if (v instanceof Date) {
        const ms = v.getTime();
        if (!Number.isFinite(ms)) throw BAIL;
        f64(DATE, ms);
      } else if (v instanceof Uint8Array) {
        const n = v.length;
        u8(BINARY);
        u32(n);
        reserve(n);
        buf.set(v, pos);
        pos += n;
      } else {
        document(v);
      }
      return;
    default:
      throw BAIL;
  }
}

/** An object that is neither an array, a Date nor a Uint8Array, as a document. */
function document(o) {
  const keys = Object.keys(o);
  const n = keys.length;
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    if (k.charCodeAt(0) === 36 && EXTENDED.has(k)) throw BAIL;
  }
  u8(DOCUMENT);
  const at = pos;
  u32(0);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    const v = o[k];
    if (v === undefined) continue;
    string(k);
    value(v);
    count++;
  }
  view.setUint32(at, count, true);
}

/** `data` or `metadata`: absent (0), or a document. */
function optionalDocument(v) {
  if (v === undefined || v === null) {
    u8(0);
  } else if (typeof v === "object" && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof Uint8Array)) {
    document(v);
  } else {
    throw BAIL;
  }
}

/**
 * @internal The arguments of `appendToStream` as bytes: the stream name, the events
 * (`type`, `data`, `metadata`, `id`), the expected version; `undefined` for the slow path.
 */
export function encodeAppend(stream, events, options) {
  if (busy || typeof stream !== "string" || !Array.isArray(events)) return undefined;
  if (buf.length > 1 << 20) {
    buf = new Uint8Array(SMALL);
    view = new DataView(buf.buffer);
  }
  pos = 0;
  busy = true;
  try {
    string(stream);
    const n = events.length >>> 0;
    u32(n);
    for (let i = 0; i < n; i++) {
      const e = events[i];
      if (typeof e !== "object" || e === null) return undefined;
      const type = e.type;
      if (typeof type !== "string") return undefined;
      string(type);
      optionalDocument(e.data);
      optionalDocument(e.metadata);
      const id = e.id;
      if (id === undefined || id === null) {
        u8(0);
      } else if (typeof id === "string") {
        u8(STRING);
        string(id);
      } else {
        return undefined;
      }
    }
    const expected =
      options !== null && (typeof options === "object" || typeof options === "function")
        ? options.expectedStreamVersion
        : undefined;
    switch (typeof expected) {
      case "undefined":
        u8(0);
        break;
      case "string":
        if (expected === "NO_CONCURRENCY_CHECK") u8(1);
        else if (expected === "STREAM_DOES_NOT_EXIST") u8(2);
        else if (expected === "STREAM_EXISTS") u8(3);
        else return undefined;
        break;
      case "bigint":
        if (BigInt.asUintN(64, expected) !== expected) return undefined;
        reserve(9);
        buf[pos] = 4;
        view.setBigUint64(pos + 1, expected, true);
        pos += 9;
        break;
      case "number":
        f64(5, expected);
        break;
      default:
        if (expected !== null) return undefined;
        u8(0);
    }
    return buf.subarray(0, pos);
  } catch {
    // BAIL, or anything the arguments threw (a getter, a proxy, a stack overflow).
    return undefined;
  } finally {
    busy = false;
  }
}

/** @internal The result of `appendToStream`, as one object literal. */
export function appendResult(nextExpectedStreamVersion, createdNewStream) {
  return { nextExpectedStreamVersion, createdNewStream };
}
