// The JavaScript half of the bindings: error classes, the expected-version constants,
// `drive`, which polls a Rust future from JavaScript so that every entry into the
// WebAssembly module happens inside a try/catch, and `guard`, which gives the package's
// entry points their API with every call turning a WebAssembly trap into an
// InternalError. Nothing here makes a decision about streams: the Rust side
// (wasm/src/error.rs) chooses the class and sets every field. `createError`, `drive` and
// `guard` are internal: the entry points do not export them.

/** `expectedStreamVersion`: the stream must not exist (no events yet). */
export const STREAM_DOES_NOT_EXIST = "STREAM_DOES_NOT_EXIST";
/** `expectedStreamVersion`: the stream must exist. */
export const STREAM_EXISTS = "STREAM_EXISTS";
/** `expectedStreamVersion`: no check (the default). */
export const NO_CONCURRENCY_CHECK = "NO_CONCURRENCY_CHECK";

/** The base class of every error the store reports; `kind` is core's stable kind. */
export class StreamdocError extends Error {
  constructor(message, kind) {
    super(message);
    this.kind = kind;
  }
}

function define(kind) {
  const name = `${kind}Error`;
  const cls = { [name]: class extends StreamdocError {} }[name];
  Object.defineProperty(cls.prototype, "name", { value: name, enumerable: false, writable: true, configurable: true });
  return cls;
}

Object.defineProperty(StreamdocError.prototype, "name", {
  value: "StreamdocError",
  enumerable: false,
  writable: true,
  configurable: true,
});

export const InvalidStreamNameError = define("InvalidStreamName");
export const InvalidConfigError = define("InvalidConfig");
export const EmptyAppendError = define("EmptyAppend");
export const InvalidEventError = define("InvalidEvent");
export const ConcurrencyConflictError = define("ConcurrencyConflict");
export const StreamTooLargeError = define("StreamTooLarge");
export const StreamArchivedError = define("StreamArchived");
export const InvalidRangeError = define("InvalidRange");
export const ContentionError = define("Contention");
export const CorruptDocumentError = define("CorruptDocument");
export const ProjectionError = define("Projection");
export const InvalidQueryError = define("InvalidQuery");
export const SubscriptionError = define("Subscription");
export const ServerError = define("Server");
export const UnexpectedReplyError = define("UnexpectedReply");
export const UnavailableError = define("Unavailable");
export const MisuseError = define("Misuse");
/** A bug: the WebAssembly module panicked. The module refuses every later call. */
export const InternalError = define("Internal");

const classes = {
  InvalidStreamName: InvalidStreamNameError,
  InvalidConfig: InvalidConfigError,
  EmptyAppend: EmptyAppendError,
  InvalidEvent: InvalidEventError,
  ConcurrencyConflict: ConcurrencyConflictError,
  StreamTooLarge: StreamTooLargeError,
  StreamArchived: StreamArchivedError,
  InvalidRange: InvalidRangeError,
  Contention: ContentionError,
  CorruptDocument: CorruptDocumentError,
  Projection: ProjectionError,
  InvalidQuery: InvalidQueryError,
  Subscription: SubscriptionError,
  Server: ServerError,
  UnexpectedReply: UnexpectedReplyError,
  Unavailable: UnavailableError,
  Misuse: MisuseError,
  Internal: InternalError,
};

/** @internal Called by the Rust side, which then sets the fields. */
export function createError(kind, message) {
  const cls = classes[kind] ?? StreamdocError;
  return new cls(message, kind);
}

/** The trap that made the module unusable, if one did. */
let trapped = null;

function trapError() {
  return createError(
    "Internal",
    `internal error in streamdoc (a bug; please report it): the WebAssembly module trapped (${trapped.message}); ` +
      "its state cannot be trusted, so it refuses every call: reload the page or restart the process",
  );
}

/** A trap (`WebAssembly.RuntimeError`) as an InternalError, remembered; any other error as it is. */
function converted(error) {
  if (error instanceof WebAssembly.RuntimeError) {
    trapped ??= error;
    return trapError();
  }
  return error;
}

function guarded(fn) {
  return function (...args) {
    if (trapped) throw trapError();
    try {
      return fn.apply(this, args);
    } catch (error) {
      throw converted(error);
    }
  };
}

/**
 * @internal The package's API from the raw bindings: `classes` with every prototype
 * method and getter guarded in place (instances made inside the bindings are guarded too) and
 * their constructors guarded through a proxy, and `functions` guarded.
 */
export function guard(classes, functions) {
  const api = {};
  for (const [name, cls] of Object.entries(classes)) {
    for (const key of Object.getOwnPropertyNames(cls.prototype)) {
      const d = Object.getOwnPropertyDescriptor(cls.prototype, key);
      if (key !== "constructor" && typeof d.value === "function") {
        Object.defineProperty(cls.prototype, key, { ...d, value: guarded(d.value) });
      } else if (typeof d.get === "function") {
        Object.defineProperty(cls.prototype, key, { ...d, get: guarded(d.get) });
      }
    }
    api[name] = new Proxy(cls, {
      construct(target, args, newTarget) {
        if (trapped) throw trapError();
        try {
          return Reflect.construct(target, args, newTarget);
        } catch (error) {
          throw converted(error);
        }
      },
    });
  }
  for (const [name, fn] of Object.entries(functions)) api[name] = guarded(fn);
  return api;
}

/**
 * @internal Runs a Rust task to completion: every poll is a synchronous call made
 * here, under try/catch, so a panic (turned into an InternalError by the panic hook)
 * rejects the promise instead of escaping into the microtask queue.
 */
export function drive(task) {
  return new Promise((resolve, reject) => {
    let queued = false;
    const step = () => {
      queued = false;
      if (trapped) {
        reject(trapError());
        return;
      }
      try {
        if (task.poll(wake)) {
          const output = task.output();
          task.free();
          resolve(output);
        }
      } catch (error) {
        reject(converted(error));
      }
    };
    const wake = () => {
      if (!queued) {
        queued = true;
        queueMicrotask(step);
      }
    };
    step();
  });
}
