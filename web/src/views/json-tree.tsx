// A document as a collapsible tree: objects and arrays fold, BSON wrappers
// (`{ $oid: … }`, `{ $numberLong: … }`) stay one leaf, long strings and arrays are cut
// for showing (the copy buttons give the whole value). One top-level field can be
// marked: labelled, and open all the way down (a stream document's read models).
import type { ExtendedJson } from "streamdoc";
import { isWrapper } from "../ejson";

type Json = ExtendedJson;

/** A top-level field shown open all the way down, with a label beside its name. */
export interface Marked {
  field: string;
  label: string;
}

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

interface NodeProps {
  name: string | null;
  value: Json;
  depth: number;
  marked?: Marked | undefined;
  /** Inside the marked field: every level open. */
  open?: boolean;
}

function Node({ name, value, depth, marked, open: allOpen = false }: NodeProps) {
  const key = name === null ? null : <span class="j-key">{name}: </span>;
  const isMarked = depth === 1 && marked !== undefined && name === marked.field;
  const label = isMarked ? <span class="j-label">{marked.label}</span> : null;
  if (typeof value !== "object" || value === null || isWrapper(value)) {
    return (
      <div class={isMarked ? "j-row j-marked" : "j-row"} data-field={isMarked ? name : undefined}>
        {key}
        <Leaf value={value} />
        {label}
      </div>
    );
  }
  const entries: [string, Json][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  if (entries.length === 0) {
    return (
      <div class={isMarked ? "j-row j-marked" : "j-row"} data-field={isMarked ? name : undefined}>
        {key}
        <span class="j-punct">
          {open}
          {close}
        </span>
        {label}
      </div>
    );
  }
  const shown = entries.slice(0, MAX_ITEMS);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  const count = Array.isArray(value) ? plural(entries.length, "item") : plural(entries.length, "field");
  const children = (
    <>
      {shown.map(([k, v]) => (
        <Node key={k} name={k} value={v} depth={depth + 1} marked={marked} open={allOpen || isMarked} />
      ))}
      {entries.length > shown.length && (
        <div class="j-row j-note">… {entries.length - shown.length} more not shown</div>
      )}
    </>
  );
  // The document itself: its fields, without a line of its own.
  if (name === null) return children;
  return (
    <details
      class={isMarked ? "j-node j-marked" : "j-node"}
      open={allOpen || isMarked || depth < 3}
      data-field={isMarked ? name : undefined}
    >
      <summary>
        {key}
        <span class="j-punct">{open}</span>
        <span class="j-count"> {count} </span>
        <span class="j-punct">{close}</span>
        {label}
      </summary>
      <div class="j-children">{children}</div>
    </details>
  );
}

export function JsonTree({ value, marked }: { value: Json; marked?: Marked }) {
  return (
    <div class="json-tree">
      <Node name={null} value={value} depth={0} marked={marked} />
    </div>
  );
}
