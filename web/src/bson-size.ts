// The exact length of a document's BSON encoding, from its canonical Extended JSON (the
// form the package gives stored documents in). core computes the same number
// (core/src/engine/bson_size.rs) to enforce the 16 MiB limit, but the package does not
// expose it, so the page computes it; web/test/unit.test.mjs checks it against the `bson`
// package's encoder.
import type { ExtendedJson } from "streamdoc";

type Json = ExtendedJson;
type JsonObject = { [key: string]: Json };

/** MongoDB's largest document: 16 MiB (a write producing a larger one is refused). */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** UTF-8 length of a string, without encoding it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

const stringSize = (s: string) => 4 + utf8Length(s) + 1;
const cstringSize = (s: string) => utf8Length(s) + 1;

/** The length of a document's encoding: `int32 length, elements, 0x00`. */
export function documentSize(doc: JsonObject): number {
  let n = 5;
  for (const [key, value] of Object.entries(doc)) n += elementSize(key, value);
  return n;
}

/** One element: type byte, key cstring, value. */
export function elementSize(key: string, value: Json): number {
  return 1 + cstringSize(key) + valueSize(value);
}

function arraySize(items: Json[]): number {
  let n = 5;
  items.forEach((item, i) => {
    n += elementSize(String(i), item);
  });
  return n;
}

function binaryLength(base64: string, subType: string): number {
  const padding = base64.endsWith("==") ? 2 : base64.endsWith("=") ? 1 : 0;
  const bytes = (base64.length * 3) / 4 - padding;
  // Subtype 2 (the old binary) repeats the length inside the payload.
  return 4 + 1 + bytes + (Number.parseInt(subType, 16) === 2 ? 4 : 0);
}

/** The size of a value (without type byte and key). */
export function valueSize(value: Json): number {
  if (typeof value === "string") return stringSize(value);
  if (typeof value === "boolean") return 1;
  if (value === null) return 0;
  if (typeof value === "number") return Number.isInteger(value) && Math.abs(value) <= 0x7fffffff ? 4 : 8;
  if (Array.isArray(value)) return arraySize(value);
  const keys = Object.keys(value);
  if (keys.length === 1 || (keys.length === 2 && "$code" in value && "$scope" in value)) {
    const wrapped = wrapperSize(value);
    if (wrapped !== undefined) return wrapped;
  }
  return documentSize(value);
}

/** The size of a canonical Extended JSON wrapper (`{ $numberLong: "5" }`, …), if it is one. */
function wrapperSize(value: JsonObject): number | undefined {
  const [key] = Object.keys(value);
  const inner = value[key as string] as Json;
  const field = (name: string) =>
    typeof inner === "object" && inner !== null && !Array.isArray(inner) ? inner[name] : undefined;
  switch (key) {
    case "$oid":
      return 12;
    case "$numberInt":
      return 4;
    case "$numberLong":
    case "$numberDouble":
    case "$date":
    case "$timestamp":
      return 8;
    case "$numberDecimal":
      return 16;
    case "$symbol":
      return typeof inner === "string" ? stringSize(inner) : undefined;
    case "$minKey":
    case "$maxKey":
    case "$undefined":
      return 0;
    case "$binary": {
      const base64 = field("base64");
      const subType = field("subType");
      return typeof base64 === "string" && typeof subType === "string" ? binaryLength(base64, subType) : undefined;
    }
    case "$regularExpression": {
      const pattern = field("pattern");
      const options = field("options");
      return typeof pattern === "string" && typeof options === "string"
        ? cstringSize(pattern) + cstringSize(options)
        : undefined;
    }
    case "$dbPointer": {
      const ref = field("$ref");
      return typeof ref === "string" ? stringSize(ref) + 12 : undefined;
    }
    case "$code": {
      if (typeof inner !== "string") return undefined;
      const scope = value.$scope;
      if (scope === undefined) return stringSize(inner);
      return typeof scope === "object" && scope !== null && !Array.isArray(scope)
        ? 4 + stringSize(inner) + documentSize(scope)
        : undefined;
    }
    default:
      return undefined;
  }
}

/** The events array of a stream document (`events` in both layouts, `messages` if so named). */
export function streamEvents(doc: JsonObject): Json[] {
  for (const key of ["events", "messages"]) {
    const list = doc[key];
    if (Array.isArray(list)) return list;
  }
  return [];
}

/** A stream document's size against the limit, and how many more events like its last one fit. */
export interface SizeReport {
  bytes: number;
  /** `bytes` as a share of the limit, 0 to 1. */
  share: number;
  /** Events the size of the last one that still fit (`null` without events). */
  moreEvents: number | null;
}

export function sizeReport(doc: JsonObject): SizeReport {
  const bytes = documentSize(doc);
  const events = streamEvents(doc);
  const last = events[events.length - 1];
  return {
    bytes,
    share: Math.min(1, bytes / MAX_DOCUMENT_BYTES),
    moreEvents: last === undefined ? null : eventsThatFit(MAX_DOCUMENT_BYTES - bytes, events.length, valueSize(last)),
  };
}

/**
 * How many more array elements of `size` bytes fit in `room` bytes, the first at index
 * `from`: an element's key is its index, so it grows by a byte at 10, 100, 1000, ….
 */
function eventsThatFit(room: number, from: number, size: number): number {
  let fit = 0;
  let index = from;
  let left = room;
  while (left > 0) {
    const digits = String(index).length;
    const each = 1 + digits + 1 + size;
    const inBand = 10 ** digits - index;
    const take = Math.min(inBand, Math.floor(left / each));
    fit += take;
    left -= take * each;
    index += take;
    if (take < inBand) break;
  }
  return fit;
}
