// The race's definition: the stream, and 2 to 4 clients with their scripted operations.
// A change starts the schedule over.

import { scriptInWords } from "../race";
import { editRace } from "../race-actions";
import type { Expected, RaceClient, RaceOp, RaceState } from "../session";

const NAMES = ["a", "b", "c", "d"];
const MAX_OPS = 3;

/** The kinds of scripted operation, as the picker offers them. */
const KINDS = [
  ["append", "append at an expected version"],
  ["any", "read-then-append (no check)"],
  ["retry", "append, retried after a lost reply"],
  ["read", "read the stream"],
  ["archive", "archive the stream"],
  ["closeStream", "close the books into a successor"],
  ["status", "the stream's status"],
  ["readArchive", "read the stream from the archive"],
] as const;
type Kind = (typeof KINDS)[number][0];

function kindOf(op: RaceOp): Kind {
  if (op.op === "read") return op.fromArchive ? "readArchive" : "read";
  if (op.op === "append") return op.expected === "any" ? "any" : "append";
  return op.op;
}

/** The successor a close starts: the race's stream id with `-next`. */
export const successorOf = (stream: string) => `${stream}-next`;

function opOfKind(kind: Kind, previous: RaceOp, client: string, stream: string): RaceOp {
  const type = previous.op === "append" || previous.op === "retry" ? previous.type : `${client.toUpperCase()}Wrote`;
  const expected: Expected = "expected" in previous && previous.expected !== "any" ? previous.expected : "noStream";
  switch (kind) {
    case "read":
      return { op: "read" };
    case "readArchive":
      return { op: "read", fromArchive: true };
    case "status":
      return { op: "status" };
    case "archive":
      return { op: "archive", expected: "any" };
    case "closeStream":
      return { op: "closeStream", expected: "any", successor: successorOf(stream), type: "BooksOpened" };
    case "any":
      return { op: "append", expected: "any", type };
    case "retry":
      return { op: "retry", expected, type };
    default:
      return { op: "append", expected, type };
  }
}

function ExpectedPicker({
  value,
  onChange,
  id,
  unchecked = false,
}: {
  value: Expected;
  onChange: (e: Expected) => void;
  id: string;
  /** Offers "no check" too (an archive's or a close's default). */
  unchecked?: boolean;
}) {
  const kind = typeof value === "number" ? "exact" : value;
  return (
    <span class="expected-picker">
      <select
        id={id}
        aria-label="expected version"
        value={kind}
        onChange={(e) => {
          const v = e.currentTarget.value;
          onChange(v === "exact" ? 1 : (v as Expected));
        }}
      >
        {unchecked && <option value="any">no check</option>}
        <option value="noStream">no stream</option>
        <option value="exists">exists</option>
        <option value="exact">exact</option>
      </select>
      {typeof value === "number" && (
        <input
          type="number"
          min="0"
          class="narrow"
          aria-label="exact version"
          value={value}
          onChange={(e) => onChange(Math.max(0, Number.parseInt(e.currentTarget.value, 10) || 0))}
        />
      )}
    </span>
  );
}

function ClientEditor({ race, index }: { race: RaceState; index: number }) {
  const client = race.clients[index] as RaceClient;
  const setOps = (ops: RaceOp[]) =>
    editRace({ clients: race.clients.map((c, i) => (i === index ? { ...c, ops } : c)) });
  return (
    <fieldset class="client-editor">
      <legend>client {client.name}</legend>
      {client.ops.map((op, i) => (
        <div class="op-row" key={i}>
          <select
            aria-label={`${client.name}: operation ${i + 1}`}
            value={kindOf(op)}
            onChange={(e) =>
              setOps(
                client.ops.map((o, k) =>
                  k === i ? opOfKind(e.currentTarget.value as Kind, o, client.name, race.stream) : o,
                ),
              )
            }
          >
            {KINDS.map(([k, text]) => (
              <option key={k} value={k}>
                {text}
              </option>
            ))}
          </select>
          {(op.op === "archive" || op.op === "closeStream") && (
            <ExpectedPicker
              id={`expected-${client.name}-${i}`}
              unchecked
              value={op.expected}
              onChange={(expected) => setOps(client.ops.map((o, k) => (k === i ? { ...op, expected } : o)))}
            />
          )}
          {(op.op === "retry" || (op.op === "append" && op.expected !== "any")) && (
            <ExpectedPicker
              id={`expected-${client.name}-${i}`}
              value={op.expected}
              onChange={(expected) => setOps(client.ops.map((o, k) => (k === i ? { ...op, expected } : o)))}
            />
          )}
          {client.ops.length > 1 && (
            <button
              type="button"
              class="quiet small"
              aria-label={`remove ${client.name}'s operation ${i + 1}`}
              onClick={() => setOps(client.ops.filter((_, k) => k !== i))}
            >
              ✕
            </button>
          )}
          <span class="hint">{scriptInWords(op)}</span>
        </div>
      ))}
      {client.ops.length < MAX_OPS && (
        <button
          type="button"
          class="quiet small"
          onClick={() =>
            setOps([...client.ops, { op: "append", expected: "any", type: `${client.name.toUpperCase()}Wrote` }])
          }
        >
          + operation
        </button>
      )}
    </fieldset>
  );
}

export function ClientsEditor({ race }: { race: RaceState }) {
  const count = race.clients.length;
  return (
    <details class="card clients">
      <summary>
        The race: {count} clients on <code>{race.stream}</code> (change the scripts)
      </summary>
      <div class="client-grid">
        {race.clients.map((c, i) => (
          <ClientEditor key={c.name} race={race} index={i} />
        ))}
      </div>
      <div class="actions">
        <button
          type="button"
          disabled={count >= 4}
          onClick={() =>
            editRace({
              clients: [
                ...race.clients,
                {
                  name: NAMES[count] ?? `c${count}`,
                  ops: [{ op: "append", expected: "noStream", type: "OrderPlaced" }],
                },
              ],
            })
          }
        >
          + client
        </button>
        <button
          type="button"
          class="quiet"
          disabled={count <= 2}
          onClick={() => editRace({ clients: race.clients.slice(0, -1) })}
        >
          − client
        </button>
      </div>
    </details>
  );
}
