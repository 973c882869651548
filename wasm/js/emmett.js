// The JavaScript half of the package's Emmett compatibility (not part of the package's
// exports): the after-commit hook and upcasting, as `@event-driven-io/emmett` runs
// them. The Rust side (wasm/src/store.rs) reads the options and calls these; nothing
// here decides anything about streams.

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
