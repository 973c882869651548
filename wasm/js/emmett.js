// The JavaScript half of the package's Emmett compatibility (not part of the package's
// exports): the after-commit hook and upcasting, as `@event-driven-io/emmett` runs
// them, and the shape of emmett-mongodb's `projections.inline` queries. The Rust side
// (wasm/src/store.rs, wasm/src/projections.rs) reads the options and calls these;
// nothing here decides anything about streams.
import { guard } from "./runtime.js";

/**
 * @internal An event as read, upcast as Emmett's `upcastRecordedMessage` does: the
 * upcast's `data`, its `metadata` over the event's; the rest (`type` included) as read.
 */
export function upcastEvent(recorded, upcast) {
  const upcasted = upcast(recorded);
  return {
    ...recorded,
    data: upcasted.data,
    ...("metadata" in recorded || "metadata" in upcasted
      ? {
          metadata: {
            ...("metadata" in recorded ? recorded.metadata : {}),
            ...("metadata" in upcasted ? upcasted.metadata : {}),
          },
        }
      : {}),
  };
}

/**
 * @internal The result of an acknowledged append, after `onAfterCommit(events)` has
 * settled. `committed` resolves to `{ result, events, failure }`: the append's result,
 * the appended events as read back, or why they could not be read back. As in Emmett
 * (`tryPublishMessagesAfterCommit`), the hook is awaited and its failure (or the
 * read-back's) is logged with `console.error`, never thrown: the append stands.
 */
export async function afterCommit(committed, hook) {
  const { result, events, failure } = await committed;
  try {
    if (failure !== undefined) throw failure;
    await hook(events, undefined); // no context, as Emmett's in-memory store
  } catch (error) {
    console.error("Error in on after commit hook", error);
  }
  return result;
}

/** @internal Whether `value` is a Promise or another thenable (an async `evolve`'s result). */
export function isThenable(value) {
  return (typeof value === "object" || typeof value === "function") && value !== null && typeof value.then === "function";
}

/** @internal Lets a promise nobody awaits settle without an unhandled rejection. */
export function settleQuietly(value) {
  Promise.resolve(value).catch(() => {});
}

/**
 * @internal emmett-mongodb's `store.projections` for a store's handle: `inline.findOne`,
 * `inline.find` and `inline.count`, guarded as the package's methods are (a trap of the
 * module becomes an InternalError).
 */
export function inlineQueries(store) {
  const { findOne, find, count } = guard(
    {},
    {
      findOne: (streamFilter, projectionQuery) => store.findOneInline(streamFilter, projectionQuery),
      find: (streamFilter, projectionQuery, queryOptions) => store.findInline(streamFilter, projectionQuery, queryOptions),
      count: (streamFilter, projectionQuery) => store.countInline(streamFilter, projectionQuery),
    },
  );
  return { inline: { findOne, find, count } };
}
