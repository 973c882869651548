// What MongoDB would hold: the stored documents by database and collection, each with its
// BSON size against the 16 MiB limit. Switching the layout or the storage replays the
// session's operations on a new store, so the same session lands in other places. An
// inline projection (its options object's source) adds a read model to each stream
// document, at `projections.<name>`: it is marked in the document, since the same
// updateOne that pushed the events wrote it.
import { signal } from "@preact/signals";
import type { ExtendedJsonDocument, StoredDocuments } from "streamdoc";
import { MAX_DOCUMENT_BYTES, type SizeReport, sizeReport } from "../bson-size";
import { copyText } from "../clipboard";
import { pretty, toRelaxed } from "../ejson";
import { DEFAULT_PROJECTION, DEFAULT_SEGMENT_BYTES, type StoreConfig } from "../session";
import { busy, configError, session, setConfig, store, storeVersion } from "../state";
import { Editor } from "./editor";
import { HostPanel } from "./host-panel";
import { JsonTree } from "./json-tree";

/** Relaxed (default) or canonical Extended JSON. */
export const canonical = signal(false);
const customDraft = signal<string | null>(null);
const projectionDraft = signal<string | null>(null);

const LAYOUTS = [
  ["streamdoc", "streamdoc", "streamdoc's field names: events[].metadata.eventId, metadata.streamPosition"],
  ["emmett", "Emmett", "compatible with @event-driven-io/emmett-mongodb: messageId, emt: collections"],
] as const;
const STORAGES = [
  ["perStreamType", "per stream type", "one collection per stream type (the default)"],
  ["single", "single", "every stream in one collection"],
  ["custom", "custom", "wherever a JavaScript function says"],
] as const;

function Choices<T extends string>({
  name,
  options,
  value,
  onPick,
}: {
  name: string;
  options: readonly (readonly [T, string, string])[];
  value: T;
  onPick: (v: T) => void;
}) {
  return (
    <fieldset class="segmented">
      <legend>{name}</legend>
      {options.map(([v, text, title]) => (
        <label key={v} title={title}>
          <input type="radio" name={name} value={v} checked={value === v} onChange={() => onPick(v)} />
          <span>{text}</span>
        </label>
      ))}
    </fieldset>
  );
}

function Configuration() {
  const config = session.value.config;
  const change = (patch: Partial<StoreConfig>) => void setConfig({ ...config, ...patch });
  const draft = customDraft.value ?? config.custom;
  return (
    <section class="card config" aria-label="store configuration">
      <div class="row">
        <Choices name="layout" options={LAYOUTS} value={config.layout} onPick={(layout) => change({ layout })} />
        <Choices name="storage" options={STORAGES} value={config.storage} onPick={(storage) => change({ storage })} />
        <Choices
          name="Extended JSON"
          options={[
            ["relaxed", "relaxed", "numbers and dates as JSON reads them"],
            ["canonical", "canonical", "every BSON type spelt out, as the package hands documents out"],
          ]}
          value={canonical.value ? "canonical" : "relaxed"}
          onPick={(v) => (canonical.value = v === "canonical")}
        />
      </div>
      {config.storage === "custom" && (
        <div class="custom">
          <span class="label">custom storage: a function of the stream name's parts</span>
          <Editor
            label="custom storage"
            language="javascript"
            value={draft}
            onChange={(t) => (customDraft.value = t)}
            onSubmit={() => change({ custom: draft })}
          />
          <button type="button" id="apply-custom" onClick={() => change({ custom: draft })} disabled={busy.value}>
            Apply and replay
          </button>
        </div>
      )}
      <ProjectionConfig />
      <SegmentsConfig />
      <p class="hint">
        {session.value.ops.length} operations of this session, replayed on a store with the{" "}
        {config.layout === "emmett" ? "Emmett" : "streamdoc"} layout and{" "}
        {config.storage === "perStreamType"
          ? "a collection per stream type"
          : config.storage === "single"
            ? "one collection"
            : "custom storage"}
        {config.projection?.enabled ? " and an inline projection" : ""}
        {config.segments?.enabled
          ? `, streams in segments of at most ${config.segments.maxBytes.toLocaleString("en")} bytes`
          : ""}
        .
      </p>
      {configError.value && (
        <p class="error" role="alert">
          {configError.value}
        </p>
      )}
    </section>
  );
}

/** Segments: a switch, and the largest segment (the package's `segments: { maxBytes }`). */
function SegmentsConfig() {
  const config = session.value.config;
  const maxBytes = config.segments?.maxBytes ?? DEFAULT_SEGMENT_BYTES;
  const on = config.segments?.enabled === true;
  const apply = (enabled: boolean, bytes: number) =>
    void setConfig({ ...config, segments: { enabled, maxBytes: bytes } });
  return (
    <div class="segments-config">
      <label
        class="switch"
        title="the package's segments option: a stream in several documents { streamName, segment: k }"
      >
        <input
          type="checkbox"
          id="segments-toggle"
          checked={on}
          disabled={busy.value}
          onChange={(e) => apply(e.currentTarget.checked, maxBytes)}
        />
        <span>segments: a stream in several documents, the next opened when one is full</span>
      </label>
      {on && (
        <label class="field" style={{ width: "14rem" }}>
          <span>largest segment (bytes)</span>
          <input
            id="segment-bytes"
            type="number"
            min="1"
            value={maxBytes}
            disabled={busy.value}
            onChange={(e) => {
              const bytes = Number.parseInt(e.currentTarget.value, 10);
              if (Number.isInteger(bytes) && bytes > 0) apply(true, bytes);
            }}
          />
        </label>
      )}
    </div>
  );
}

/** The inline projection: a switch, and the source of its options object (JavaScript). */
function ProjectionConfig() {
  const config = session.value.config;
  const applied = config.projection?.source ?? DEFAULT_PROJECTION;
  const draft = projectionDraft.value ?? applied;
  const on = config.projection?.enabled === true;
  const apply = (enabled: boolean, source: string) => void setConfig({ ...config, projection: { enabled, source } });
  return (
    <div class="projection-config">
      <label class="switch" title="a read model in each stream's document, written by the append's own updateOne">
        <input
          type="checkbox"
          id="projection-toggle"
          checked={on}
          disabled={busy.value}
          onChange={(e) => apply(e.currentTarget.checked, e.currentTarget.checked ? draft : applied)}
        />
        <span>inline projection: a read model kept in each stream's document</span>
      </label>
      {on && (
        <div class="custom">
          <span class="label">
            projection: one options object, as emmett-mongodb's <code>mongoDBInlineProjection</code> takes it (evolve
            must be synchronous)
          </span>
          <Editor
            label="projection"
            language="javascript"
            value={draft}
            onChange={(t) => (projectionDraft.value = t)}
            onSubmit={() => apply(true, draft)}
          />
          <div class="actions">
            <button type="button" id="apply-projection" onClick={() => apply(true, draft)} disabled={busy.value}>
              Apply and replay
            </button>
            <button
              type="button"
              class="quiet"
              id="reset-projection"
              onClick={() => {
                projectionDraft.value = DEFAULT_PROJECTION;
                apply(true, DEFAULT_PROJECTION);
              }}
              disabled={busy.value || draft === DEFAULT_PROJECTION}
            >
              Back to the example
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(bytes < 1024 * 1024 ? 3 : 1)} MiB`;

function SizeBar({ size }: { size: SizeReport }) {
  const percent = size.share * 100;
  const level = percent > 90 ? "full" : percent > 50 ? "half" : "low";
  return (
    <div class="size">
      <div class={`bar ${level}`} aria-hidden="true">
        <div style={{ width: `${Math.max(percent, 0.4)}%` }} />
      </div>
      <span class="size-text">
        {size.bytes.toLocaleString("en")} bytes of BSON ({percent < 0.1 ? "<0.1" : percent.toFixed(1)}% of 16 MiB ={" "}
        {mib(MAX_DOCUMENT_BYTES)})
        {size.moreEvents !== null && (
          <>
            {" · "}
            <strong class="more-events">
              ≈ {size.moreEvents.toLocaleString("en")} more events of this size until the limit
            </strong>
          </>
        )}
      </span>
    </div>
  );
}

/** The read models a stream document holds (`projections.<name>`), with the position each was written at. */
function readModels(doc: ExtendedJsonDocument): { name: string; position: string }[] | null {
  if (doc.projections === undefined) return null;
  const projections = toRelaxed(doc.projections);
  if (typeof projections !== "object" || projections === null || Array.isArray(projections)) return null;
  return Object.entries(projections as Record<string, unknown>).map(([name, model]) => {
    const metadata = (model as { _metadata?: { streamPosition?: unknown } } | null)?._metadata;
    const position = metadata?.streamPosition;
    return { name, position: typeof position === "number" ? String(position) : JSON.stringify(position ?? "?") };
  });
}

/** What the `projections` field of a stream document holds, in a sentence. */
function ReadModelsNote({ models }: { models: { name: string; position: string }[] }) {
  return (
    <p class="read-models-note" data-read-models={models.map((m) => m.name).join(" ")}>
      {models.length === 0 ? (
        <>
          <code>projections</code> holds no read model any more: the projection's evolve deleted it (returned null).
        </>
      ) : (
        <>
          Read model{models.length === 1 ? "" : "s"}{" "}
          {models.map((m, i) => (
            <span key={m.name}>
              {i > 0 ? ", " : ""}
              <code>projections.{m.name}</code> (at stream position {m.position})
            </span>
          ))}
          : written by the same <code>updateOne</code> as the events it folds, not by a second write.
        </>
      )}
    </p>
  );
}

/** The segment a document is of (`segment: k`, in a segmented store), or `null`. */
function segmentOf(doc: ExtendedJsonDocument): string | null {
  if (doc.segment === undefined) return null;
  const k = toRelaxed(doc.segment);
  return typeof k === "number" ? String(k) : JSON.stringify(k);
}

const READ_MODELS_LABEL = "read models · written by the same updateOne as the events";

function StoredDocument({ doc }: { doc: ExtendedJsonDocument }) {
  const size = sizeReport(doc);
  const shown = canonical.value ? doc : toRelaxed(doc);
  const name = typeof doc.streamName === "string" ? doc.streamName : JSON.stringify(doc._id);
  const models = readModels(doc);
  const segment = segmentOf(doc);
  return (
    <article class="document" data-stream={name} data-segment={segment ?? undefined}>
      <header>
        <h4>
          {name}
          {segment !== null && (
            <>
              {" "}
              <span class="tag segment-tag">segment {segment}</span>
            </>
          )}
        </h4>
        <button
          type="button"
          class="quiet small"
          onClick={() => void copyText(pretty(shown), `the document of ${name}`)}
        >
          Copy
        </button>
      </header>
      <SizeBar size={size} />
      {models && <ReadModelsNote models={models} />}
      <JsonTree value={shown} marked={models ? { field: "projections", label: READ_MODELS_LABEL } : undefined} />
    </article>
  );
}

/** `{ "db.collection": [...] }` as `[db, [[collection, docs]]]`, sorted. */
function byDatabase(documents: StoredDocuments): [string, [string, ExtendedJsonDocument[]][]][] {
  const dbs = new Map<string, [string, ExtendedJsonDocument[]][]>();
  for (const ns of Object.keys(documents).sort()) {
    const dot = ns.indexOf(".");
    const db = ns.slice(0, dot);
    const list = dbs.get(db) ?? [];
    list.push([ns.slice(dot + 1), documents[ns] ?? []]);
    dbs.set(db, list);
  }
  return [...dbs.entries()];
}

export function Documents() {
  storeVersion.value;
  const documents = store.value?.documents() ?? {};
  const dbs = byDatabase(documents);
  return (
    <div class="documents">
      <Configuration />
      <section class="card" aria-labelledby="docs-title">
        <h2 id="docs-title">What MongoDB would hold</h2>
        {dbs.length === 0 ? (
          <p class="empty">No documents yet: append an event (Operate) or open a scenario.</p>
        ) : (
          dbs.map(([db, collections]) => (
            <details class="database" open key={db}>
              <summary>
                <span class="tag">database</span> {db}
              </summary>
              {collections.map(([collection, docs]) => (
                <details class="collection" open key={collection} data-namespace={`${db}.${collection}`}>
                  <summary>
                    <span class="tag">collection</span> {collection}{" "}
                    <span class="count">
                      {docs.length} {docs.length === 1 ? "document" : "documents"}
                    </span>
                  </summary>
                  {docs.map((doc, i) => (
                    <StoredDocument key={i} doc={doc} />
                  ))}
                </details>
              ))}
            </details>
          ))
        )}
      </section>
      <HostPanel />
    </div>
  );
}
