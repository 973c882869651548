// The session on both stores: the page's engine, and the host's store (its embedded engine
// or MongoDB, through `streamdoc serve --command-endpoint`, see host.ts), command by
// command through the package's executor. What each answered and the documents each
// holds, compared.
import type { Command, ExtendedJsonDocument, Reply, StoredDocuments } from "streamdoc";
import { type DiffLine, diffLines } from "./diff";
import { pretty, toRelaxed } from "./ejson";
import { dropHostDatabase, type HostOptions, hostDocuments, hostExecutor } from "./host";
import type { Session } from "./session";
import { customResolver, replay } from "./store";

export interface SideBySide {
  /** The host's scratch database the session ran in. */
  database: string;
  /** What each store answered, operation by operation. */
  answers: { page: string; host: string }[];
  host: StoredDocuments;
  /** The documents (by collection, `_id` aside) and the answers are the same. */
  identical: boolean;
  /** The documents' differences, page (−) to host (+). */
  diff: DiffLine[];
}

/** The scratch database of a session on the host. */
export const scratchDatabase = (prefix: string, session: Session) => `${prefix}_playground_${session.seed}`;

/**
 * `value` with every object's keys sorted, arrays in their order: documents compare with
 * their fields unordered, since servers order an upserted document's fields differently
 * (an upsert builds its document from the filter's equality fields, then the update's:
 * FerretDB puts `streamName` before `metadata`, core's engine after it).
 */
function sortedKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortedKeys) as T;
  if (value === null || typeof value !== "object") return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortedKeys(v)])) as T;
}

/**
 * Documents keyed by collection (the database dropped when it is the store's own, so the
 * page's `streamdoc` and the host's scratch database compare), without the `_id`s a
 * server picks itself, their fields in sorted order.
 */
function comparable(documents: StoredDocuments, database: string): Record<string, ExtendedJsonDocument[]> {
  const out: Record<string, ExtendedJsonDocument[]> = {};
  for (const ns of Object.keys(documents).sort()) {
    const key = ns.startsWith(`${database}.`) ? ns.slice(database.length + 1) : ns;
    out[key] = (documents[ns] ?? []).map(({ _id, ...rest }) => sortedKeys(rest));
  }
  return out;
}

/**
 * The databases the session writes to on the host: its scratch database, or, for a custom
 * storage, the ones the function names, which must be scratch databases too (the host
 * would refuse every command elsewhere, so that is said before sending any).
 */
function databases(session: Session, scratchPrefix: string): string[] {
  if (session.config.storage !== "custom") return [scratchDatabase(scratchPrefix, session)];
  const resolve = customResolver(session.config.custom);
  const found = new Set<string>();
  for (const op of session.ops) {
    const colon = op.stream.indexOf(":");
    if (colon < 0) continue;
    const { database } = resolve({ name: op.stream, type: op.stream.slice(0, colon), id: op.stream.slice(colon + 1) });
    if (!database.startsWith(scratchPrefix)) {
      throw new Error(
        `the custom storage puts ${op.stream} in the database "${database}", and the host runs commands only in databases whose name starts with "${scratchPrefix}": return such a database from the function to compare`,
      );
    }
    found.add(database);
  }
  return [...found];
}

/** Replays the session on the host (in a fresh scratch database) and compares it with the page's. */
export async function runOnHost(
  session: Session,
  page: { documents: StoredDocuments; answers: string[] },
  scratchPrefix: string,
  options: HostOptions = {},
): Promise<SideBySide> {
  const database = scratchDatabase(scratchPrefix, session);
  const written = databases(session, scratchPrefix);
  for (const db of written) await dropHostDatabase(db, options);
  const result = await replay(session, { executor: hostExecutor<Command, Reply>(options), database });
  result.store?.free();
  if (result.configError) throw new Error(result.configError);
  const host: StoredDocuments = {};
  for (const db of written) Object.assign(host, await hostDocuments(db, options));
  const answers = page.answers.map((text, i) => ({ page: text, host: result.outcomes[i]?.text ?? "(not run)" }));
  const show = (d: Record<string, ExtendedJsonDocument[]>) => pretty(toRelaxed(d));
  const diff = diffLines(show(comparable(page.documents, "streamdoc")), show(comparable(host, database)));
  const identical = diff.every((l) => l.kind === "same") && answers.every((a) => a.page === a.host);
  return { database, answers, host, identical, diff };
}
