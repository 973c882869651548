/**
 * The page's bridge to a `streamdoc serve` host: core's commands run on the host's store
 * through its command endpoint (`streamdoc serve --command-endpoint`), one by one, and
 * the documents they wrote are read back or dropped. Plain `fetch`, no dependencies.
 *
 * The endpoint works only in databases whose name starts with the host's scratch prefix
 * (`scratch`), never in the store's own database. Its routes:
 *
 * - `GET /commands`: `{ enabled, scratchPrefix, tokenRequired, kinds }`, always 200;
 * - `POST /commands`: one command as the package gives it to an executor → its reply;
 * - `GET /commands/documents?database=`: `{ "database.collection": [documents] }`;
 * - `DELETE /commands/databases/{database}`: drops the database (204).
 *
 * Every error of the host is an RFC 9457 problem (`{ type, title, status, detail }`).
 */

/** Where the host is, and its bearer token (`streamdoc serve --token`) if it has one. */
export interface HostOptions {
  /** The host's origin, e.g. `"http://127.0.0.1:8080"`; `""` (the default): the page's own. */
  base?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
}

/** What `GET /commands` answers. */
export interface CommandEndpointStatus {
  /** Whether the host runs with `--command-endpoint`. */
  enabled: boolean;
  /** The prefix every database the endpoint works in starts with. */
  scratchPrefix: string;
  /** Whether the command routes want the bearer token. */
  tokenRequired: boolean;
  /** The command kinds the endpoint runs. */
  kinds: string[];
}

/** Whether the page can run its commands on a host, and if not, why. */
export type HostProbe =
  | { available: true; scratchPrefix: string; tokenRequired: boolean }
  | { available: false; reason: string };

/** The header every answer of a streamdoc host carries (its version). */
export const HOST_HEADER = "x-streamdoc";

/** An answer of the host that is not the one asked for: its problem's title and detail. */
export class HostError extends Error {
  /** The HTTP status. */
  readonly status: number;
  /** The problem's `type` URI, when the host gave a problem. */
  readonly type: string | undefined;

  constructor(status: number, message: string, type: string | undefined) {
    super(message);
    this.name = "HostError";
    this.status = status;
    this.type = type;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isStatus(value: unknown): value is CommandEndpointStatus {
  return (
    isRecord(value) &&
    typeof value.enabled === "boolean" &&
    typeof value.scratchPrefix === "string" &&
    typeof value.tokenRequired === "boolean" &&
    Array.isArray(value.kinds)
  );
}

function headers(options: HostOptions, json: boolean): Headers {
  const result = new Headers({ accept: "application/json" });
  if (json) result.set("content-type", "application/json");
  if (options.token !== undefined) result.set("authorization", `Bearer ${options.token}`);
  return result;
}

/** The error for an answer of status `response.status`, from its problem when it has one. */
async function failure(response: Response): Promise<HostError> {
  const fallback = `${response.status} ${response.statusText}`.trim();
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return new HostError(response.status, `the host answered ${fallback}`, undefined);
  }
  if (!isRecord(body)) return new HostError(response.status, `the host answered ${fallback}`, undefined);
  const title = typeof body.title === "string" ? body.title : fallback;
  const detail = typeof body.detail === "string" ? `: ${body.detail}` : "";
  const type = typeof body.type === "string" ? body.type : undefined;
  return new HostError(response.status, `${title}${detail}`, type);
}

/** `fetch`, its failure to get any answer said as the host being unreachable. */
async function request(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new HostError(0, `cannot reach the host at ${url}: ${why}`, undefined);
  }
}

/** The JSON of a 200 answer; a {@link HostError} for any other. */
async function json(response: Response): Promise<unknown> {
  if (response.status !== 200) throw await failure(response);
  return response.json();
}

/**
 * Whether the page can run commands on a host, without a failed request (which the
 * browser would log in its console): with `base` left out it first asks the page's own
 * address (`HEAD`), which answers wherever the page is served, and only when the answer
 * carries {@link HOST_HEADER} asks `GET /commands`, which a host answers with 200 whether
 * its endpoint is on or not. With `base` given, the caller says a host is there, and
 * `GET /commands` is asked at once.
 */
export async function probeHost(base = ""): Promise<HostProbe> {
  if (base === "") {
    if (typeof location === "undefined" || !location.protocol.startsWith("http")) {
      return { available: false, reason: "the page is not served over HTTP" };
    }
    let page: Response;
    try {
      page = await fetch(location.href, { method: "HEAD", cache: "no-store" });
    } catch (e) {
      return { available: false, reason: `the page's server does not answer: ${e instanceof Error ? e.message : e}` };
    }
    if (!page.headers.has(HOST_HEADER)) {
      return { available: false, reason: "the page is not served by `streamdoc serve`" };
    }
  }
  let status: unknown;
  try {
    status = await json(await request(`${base}/commands`, { headers: headers({}, false) }));
  } catch (e) {
    return { available: false, reason: e instanceof Error ? e.message : String(e) };
  }
  if (!isStatus(status)) {
    return { available: false, reason: `${base || "the page's server"} does not answer GET /commands as a host does` };
  }
  if (!status.enabled) {
    return {
      available: false,
      reason: "the host runs without its command endpoint: start it with `streamdoc serve --command-endpoint`",
    };
  }
  return { available: true, scratchPrefix: status.scratchPrefix, tokenRequired: status.tokenRequired };
}

/**
 * An executor for the package's `Simulation` and `EventStore` (their `executor` option)
 * that runs each command on the host: it posts the command as given and resolves to the
 * host's reply (`duplicateKey` and `serverError` replies included: they are the server's
 * answer). Any other answer rejects with a {@link HostError} whose message is the
 * problem's title and detail, which the package reports as the store being unavailable.
 *
 * The type parameters let a caller name the package's `Command` and `Reply` types:
 * `hostExecutor<Command, Reply>({})`.
 */
export function hostExecutor<C = unknown, R = unknown>(options: HostOptions): (command: C) => Promise<R> {
  const url = `${options.base ?? ""}/commands`;
  return async (command: C): Promise<R> => {
    const init = { method: "POST", headers: headers(options, true), body: JSON.stringify(command) };
    // The host answers in the reply shape the package reads (and checks).
    return (await json(await request(url, init))) as R;
  };
}

/**
 * Every document of the host's scratch `database`: `{ "database.collection": [documents] }`
 * in canonical Extended JSON (the shape of the package's `documents()`), collections
 * without documents left out.
 */
export async function hostDocuments(database: string, options: HostOptions = {}): Promise<Record<string, unknown[]>> {
  const url = `${options.base ?? ""}/commands/documents?database=${encodeURIComponent(database)}`;
  const body = await json(await request(url, { headers: headers(options, false) }));
  const documents: Record<string, unknown[]> = {};
  if (isRecord(body)) {
    for (const [namespace, list] of Object.entries(body)) {
      if (Array.isArray(list)) documents[namespace] = list;
    }
  }
  return documents;
}

/** Drops the host's scratch `database` (also when it does not exist). */
export async function dropHostDatabase(database: string, options: HostOptions = {}): Promise<void> {
  const url = `${options.base ?? ""}/commands/databases/${encodeURIComponent(database)}`;
  const response = await request(url, { method: "DELETE", headers: headers(options, false) });
  if (response.status !== 204) throw await failure(response);
}
