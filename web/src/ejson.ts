// Extended JSON as the package hands it out (canonical), and in its relaxed form, for
// showing: `{ $numberInt: "42" }` reads as 42, a date as `{ $date: "2026-…Z" }`.
import type { ExtendedJson } from "streamdoc";

type Json = ExtendedJson;
type JsonObject = { [key: string]: Json };

const isObject = (v: Json): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** The only key of a one-key object, or `undefined`. */
function soleKey(v: JsonObject): string | undefined {
  const keys = Object.keys(v);
  return keys.length === 1 ? keys[0] : undefined;
}

/** Canonical Extended JSON as relaxed Extended JSON (the MongoDB specification's rules). */
export function toRelaxed(value: Json): Json {
  if (Array.isArray(value)) return value.map(toRelaxed);
  if (!isObject(value)) return value;
  const key = soleKey(value);
  const inner = key === undefined ? undefined : value[key];
  if (typeof inner === "string") {
    if (key === "$numberInt") return Number(inner);
    if (key === "$numberLong") {
      const n = Number(inner);
      // Relaxed: a number when it is exact as a double; otherwise it stays canonical.
      return Number.isSafeInteger(n) ? n : value;
    }
    if (key === "$numberDouble") {
      const n = Number(inner);
      return Number.isFinite(n) && !Object.is(n, -0) ? n : value;
    }
  }
  if (key === "$date" && inner !== undefined && isObject(inner) && typeof inner.$numberLong === "string") {
    const ms = Number(inner.$numberLong);
    const date = new Date(ms);
    // Relaxed dates are ISO strings between 1970 and 9999.
    // (Whole seconds without `.000`, as the bson package and mongosh write them.)
    if (ms >= 0 && date.getUTCFullYear() <= 9999) return { $date: date.toISOString().replace(".000Z", "Z") };
    return value;
  }
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) out[k] = toRelaxed(v);
  return out;
}

const WRAPPERS = new Set([
  "$oid",
  "$numberInt",
  "$numberLong",
  "$numberDouble",
  "$numberDecimal",
  "$date",
  "$binary",
  "$timestamp",
  "$regularExpression",
  "$symbol",
  "$code",
  "$minKey",
  "$maxKey",
  "$undefined",
]);

/** A value of a BSON type that JSON lacks (`{ $oid: … }`, `{ $date: … }`): one leaf, not an object. */
export function isWrapper(value: Json): boolean {
  if (!isObject(value)) return false;
  const key = soleKey(value);
  return key !== undefined && WRAPPERS.has(key);
}

/** Pretty JSON with one key a line (for diffs and copying). */
export function pretty(value: Json): string {
  return JSON.stringify(value, null, 2);
}
