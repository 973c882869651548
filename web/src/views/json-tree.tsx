// A document as a collapsible tree: objects and arrays fold, BSON wrappers
// (`{ $oid: … }`, `{ $numberLong: … }`) stay one leaf, long strings and arrays are cut
// for showing (the copy buttons give the whole value).
import type { ExtendedJson } from "streamdoc";
import { isWrapper } from "../ejson";

type Json = ExtendedJson;

const MAX_STRING = 160;
const MAX_ITEMS = 50;

function Leaf({ value }: { value: Json }) {
  if (typeof value === "string") {
    const cut = value.length > MAX_STRING;
    const shown = JSON.stringify(cut ? value.slice(0, MAX_STRING) : value);
    return (
      <span class="j-string">
        {cut ? `${shown.slice(0, -1)}…"` : shown}
        {cut && <span class="j-note"> ({value.length.toLocaleString("en")} characters)</span>}
      </span>
    );
  }
  if (typeof value === "number") return <span class="j-number">{String(value)}</span>;
  if (typeof value === "boolean" || value === null) return <span class="j-literal">{String(value)}</span>;
  return <span class="j-wrapper">{JSON.stringify(value)}</span>;
}

function Node({ name, value, depth }: { name: string | null; value: Json; depth: number }) {
  const key = name === null ? null : <span class="j-key">{name}: </span>;
  if (typeof value !== "object" || value === null || isWrapper(value)) {
    return (
      <div class="j-row">
        {key}
        <Leaf value={value} />
      </div>
    );
  }
  const entries: [string, Json][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) {
    return (
      <div class="j-row">
        {key}
        <span class="j-punct">
          {open}
          {close}
        </span>
      </div>
    );
  }
  const shown = entries.slice(0, MAX_ITEMS);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const count = Array.isArray(value) ? plural(entries.length, "item") : plural(entries.length, "field");
  const children = (
    <>
      {shown.map(([k, v]) => (
        <Node key={k} name={k} value={v} depth={depth + 1} />
      ))}
      {entries.length > shown.length && (
        <div class="j-row j-note">… {entries.length - shown.length} more not shown</div>
      )}
    </>
  );
  // The document itself: its fields, without a line of its own.
  if (name === null) return children;
  return (
    <details class="j-node" open={depth < 3}>
      <summary>
        {key}
        <span class="j-punct">{open}</span>
        <span class="j-count"> {count} </span>
        <span class="j-punct">{close}</span>
      </summary>
      <div class="j-children">{children}</div>
    </details>
  );
}

export function JsonTree({ value }: { value: Json }) {
  return (
    <div class="json-tree">
      <Node name={null} value={value} depth={0} />
    </div>
  );
}
