// Operate: append to a stream and read it back, on the page's EventStore. What the store
// answers is shown in plain words; a read lists its events.
import { signal } from "@preact/signals";
import type { ComponentChildren } from "preact";
import type { RecordedEvent } from "streamdoc";
import type { Expected, StoreOp } from "../session";
import { busy, clearOps, outcomes, runOp, session, setView } from "../state";
import type { OpOutcome } from "../store";
import { expectedInWords } from "../words";
import { Editor } from "./editor";

/** The form's drafts (kept while the person looks at other views). */
const draft = {
  streamType: signal("order"),
  streamId: signal("42"),
  eventType: signal("OrderPlaced"),
  data: signal('{\n  "total": 42,\n  "currency": "EUR"\n}'),
  metadata: signal('{\n  "by": "alice"\n}'),
  expected: signal<"any" | "noStream" | "exists" | "exact">("any"),
  exact: signal("0"),
  from: signal(""),
  to: signal(""),
  maxCount: signal(""),
  fromArchive: signal(false),
  successor: signal("order:43"),
  summary: signal('{\n  "type": "BooksOpened",\n  "data": { "carriedOver": 42 }\n}'),
  closeAt: signal(""),
};

const streamName = () => `${draft.streamType.value}:${draft.streamId.value}`;

function expectedChoice(): Expected {
  const kind = draft.expected.value;
  if (kind !== "exact") return kind;
  const n = Number.parseInt(draft.exact.value, 10);
  return Number.isInteger(n) && n >= 0 ? n : 0;
}

/** A count field's value, or `undefined` when empty. */
function count(text: string): number | undefined {
  const n = Number.parseInt(text, 10);
  return text.trim() === "" || !Number.isInteger(n) || n < 0 ? undefined : n;
}

export async function appendFromForm(): Promise<void> {
  await runOp({
    op: "append",
    stream: streamName(),
    type: draft.eventType.value,
    data: draft.data.value,
    metadata: draft.metadata.value,
    expected: expectedChoice(),
  });
}

export async function readFromForm(): Promise<void> {
  const op: StoreOp = { op: "read", stream: streamName() };
  const from = count(draft.from.value);
  const to = count(draft.to.value);
  const maxCount = count(draft.maxCount.value);
  if (from !== undefined) op.from = from;
  if (to !== undefined) op.to = to;
  if (maxCount !== undefined) op.maxCount = maxCount;
  if (draft.fromArchive.value) op.fromArchive = true;
  await runOp(op);
}

/** The archive's and the close's expected version: an empty field is no check. */
function closeAt(): Expected {
  const at = count(draft.closeAt.value);
  return at === undefined ? "any" : at;
}

export async function archiveFromForm(): Promise<void> {
  await runOp({ op: "archive", stream: streamName(), expected: closeAt() });
}

export async function closeFromForm(): Promise<void> {
  await runOp({
    op: "closeStream",
    stream: streamName(),
    successor: draft.successor.value,
    summary: draft.summary.value,
    expected: closeAt(),
  });
}

export async function statusFromForm(): Promise<void> {
  await runOp({ op: "status", stream: streamName() });
}

function Field({
  label,
  value,
  id,
  width,
}: {
  label: string;
  value: typeof draft.streamType;
  id: string;
  width?: string;
}) {
  return (
    <label class="field" style={width ? { width } : undefined}>
      <span>{label}</span>
      <input id={id} value={value.value} onInput={(e) => (value.value = e.currentTarget.value)} spellcheck={false} />
    </label>
  );
}

const EXPECTED_CHOICES = [
  ["any", "any", "no check: reads the position, then appends"],
  ["noStream", "no stream", "the stream must not exist yet"],
  ["exists", "exists", "the stream must exist"],
  ["exact", "exact", "the stream must be at this version"],
] as const;

function FormCard({
  title,
  id,
  action,
  children,
}: {
  title: string;
  id: string;
  action: () => Promise<void>;
  children: ComponentChildren;
}) {
  return (
    <form
      class="card"
      aria-labelledby={id}
      onSubmit={(e) => {
        e.preventDefault();
        void action();
      }}
    >
      <h2 id={id}>{title}</h2>
      {children}
    </form>
  );
}

/** Says that appends also write a read model, when the store has an inline projection. */
function ProjectionNote() {
  if (!session.value.config.projection?.enabled) return null;
  return (
    <p class="hint" id="projection-note">
      An inline projection is on: each append's <code>updateOne</code> also writes its read model into the stream
      document.{" "}
      <button type="button" class="quiet small" onClick={() => setView("documents")}>
        See it in Documents
      </button>
    </p>
  );
}

function AppendForm() {
  return (
    <FormCard title="Append" id="append-title" action={appendFromForm}>
      <ProjectionNote />
      <div class="row">
        <Field label="stream type" value={draft.streamType} id="stream-type" width="9rem" />
        <Field label="stream id" value={draft.streamId} id="stream-id" width="9rem" />
        <Field label="event type" value={draft.eventType} id="event-type" />
      </div>
      <div class="editors">
        <div>
          <span class="label">data (JSON)</span>
          <Editor
            label="data"
            value={draft.data.value}
            onChange={(t) => (draft.data.value = t)}
            onSubmit={appendFromForm}
          />
        </div>
        <div>
          <span class="label">metadata (JSON)</span>
          <Editor
            label="metadata"
            value={draft.metadata.value}
            onChange={(t) => (draft.metadata.value = t)}
            onSubmit={appendFromForm}
          />
        </div>
      </div>
      <fieldset class="expected">
        <legend>expected version</legend>
        {EXPECTED_CHOICES.map(([value, text, title]) => (
          <label key={value} title={title} class="choice">
            <input
              type="radio"
              name="expected"
              value={value}
              checked={draft.expected.value === value}
              onChange={() => (draft.expected.value = value)}
            />
            {text}
          </label>
        ))}
        <input
          aria-label="exact version"
          id="expected-exact"
          class="narrow"
          type="number"
          min="0"
          value={draft.exact.value}
          disabled={draft.expected.value !== "exact"}
          onInput={(e) => (draft.exact.value = e.currentTarget.value)}
        />
      </fieldset>
      <div class="actions">
        <button type="submit" class="primary" id="append" disabled={busy.value}>
          Append to {streamName()}
        </button>
        <span class="hint">
          <kbd>Ctrl</kbd>+<kbd>Enter</kbd> in an editor
        </span>
      </div>
    </FormCard>
  );
}

function ReadForm() {
  return (
    <FormCard title="Read" id="read-title" action={readFromForm}>
      <div class="row">
        <Field label="from" value={draft.from} id="read-from" width="6rem" />
        <Field label="to" value={draft.to} id="read-to" width="6rem" />
        <Field label="max count" value={draft.maxCount} id="read-max" width="6rem" />
        <label class="choice" title="read a stream archiveStream or closeStream moved to the archive collection">
          <input
            type="checkbox"
            id="read-archive"
            checked={draft.fromArchive.value}
            onChange={(e) => (draft.fromArchive.value = e.currentTarget.checked)}
          />
          from the archive
        </label>
        <button type="submit" id="read" disabled={busy.value}>
          Read {streamName()}
        </button>
      </div>
      <p class="hint">Positions are 1-based and inclusive; empty fields read everything.</p>
    </FormCard>
  );
}

/** Archive, close the books, status: the stream's life after its last append. */
function LifecycleForm() {
  return (
    <FormCard title="Archive or close the books" id="lifecycle-title" action={closeFromForm}>
      <div class="row">
        <Field label="at version (empty: no check)" value={draft.closeAt} id="close-at" width="12rem" />
        <Field label="successor" value={draft.successor} id="close-successor" width="10rem" />
      </div>
      <div>
        <span class="label">summary: the successor's first event (JSON)</span>
        <Editor
          label="summary"
          value={draft.summary.value}
          onChange={(t) => (draft.summary.value = t)}
          onSubmit={closeFromForm}
        />
      </div>
      <div class="actions">
        <button type="submit" id="close-stream" disabled={busy.value}>
          Close {streamName()} into {draft.successor.value}
        </button>
        <button type="button" id="archive-stream" disabled={busy.value} onClick={() => void archiveFromForm()}>
          Archive {streamName()}
        </button>
        <button
          type="button"
          id="stream-status"
          class="quiet"
          disabled={busy.value}
          onClick={() => void statusFromForm()}
        >
          Status
        </button>
      </div>
      <p class="hint">
        Archiving seals the stream, copies it to the archive collection and leaves a tombstone; closing the books also
        starts the successor with the summary.
      </p>
    </FormCard>
  );
}

function opInWords(op: StoreOp): string {
  if (op.op === "read") {
    const range = [op.from && `from ${op.from}`, op.to && `to ${op.to}`, op.maxCount && `at most ${op.maxCount}`]
      .filter(Boolean)
      .join(", ");
    return `read ${op.stream}${op.fromArchive ? " from the archive" : ""}${range ? ` (${range})` : ""}`;
  }
  if (op.op === "status") return `the status of ${op.stream}`;
  if (op.op === "archive" || op.op === "closeStream") {
    const check = op.expected === "any" ? "with no check" : `expecting ${checkInWords(op.expected)}`;
    if (op.op === "archive") return `archive ${op.stream}, ${check}`;
    return `close the books of ${op.stream} into ${op.successor}, ${check}`;
  }
  const times = op.repeat && op.repeat > 1 ? ` ×${op.repeat}` : "";
  const expected = typeof op.expected === "number" ? `version ${op.expected}` : expectedInWords(op.expected);
  return `append ${op.type}${times} to ${op.stream}, expecting ${expected}`;
}

const checkInWords = (e: Expected) => (typeof e === "number" ? `version ${e}` : expectedInWords(e));

export function EventsTable({ events }: { events: RecordedEvent[] }) {
  if (events.length === 0) return null;
  const show = (v: unknown) =>
    JSON.stringify(v, (_, x) => (typeof x === "bigint" ? Number(x) : x))?.slice(0, 160) ?? "";
  return (
    <div class="table-wrap">
      <table class="events">
        <thead>
          <tr>
            <th>position</th>
            <th>type</th>
            <th>data</th>
            <th>event id</th>
          </tr>
        </thead>
        <tbody>
          {events.map((e) => (
            <tr key={String(e.metadata.streamPosition)}>
              <td class="num">{String(e.metadata.streamPosition)}</td>
              <td>{e.type}</td>
              <td class="mono">{show(e.data)}</td>
              <td class="mono small">{e.metadata.eventId ?? e.metadata.messageId}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Outcome({ index, op, outcome }: { index: number; op: StoreOp; outcome: OpOutcome | undefined }) {
  const state = outcome === undefined ? "pending" : outcome.ok ? "ok" : "error";
  return (
    <li
      class={`outcome ${state}`}
      data-op={index}
      data-read-model={outcome?.ok && outcome.readModel ? outcome.readModel.change : undefined}
    >
      <div class="what">
        <span class="index">#{index + 1}</span> {opInWords(op)}
      </div>
      <div class="result" role={state === "error" ? "alert" : undefined}>
        {outcome?.text ?? "…"}
      </div>
      {outcome?.ok && outcome.read && <EventsTable events={outcome.read.events} />}
    </li>
  );
}

export function Operate() {
  const ops = session.value.ops;
  const results = outcomes.value;
  return (
    <div class="operate">
      <div class="forms">
        <AppendForm />
        <ReadForm />
        <LifecycleForm />
      </div>
      <section class="card results" aria-labelledby="results-title">
        <div class="heading">
          <h2 id="results-title">What the store answered</h2>
          {ops.length > 0 && (
            <button type="button" class="quiet" onClick={() => void clearOps()}>
              Start over
            </button>
          )}
        </div>
        {ops.length === 0 ? (
          <p class="empty">
            Nothing yet. Append an event: it lands in a MongoDB document on an engine that runs in this page.
          </p>
        ) : (
          <ol class="outcomes" reversed>
            {ops.map((op, i) => <Outcome key={i} index={i} op={op} outcome={results[i]} />).reverse()}
          </ol>
        )}
      </section>
    </div>
  );
}
