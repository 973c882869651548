// What this build of the package can do beyond the API the page was written against:
// the broken designs (`designs()`, `new Simulation({ design })`) and lost replies
// (`sim.step(client, { loseReply: true })`) arrive together. The page asks, instead of
// assuming, so that it runs on a package with or without them.

import type { DesignInfo } from "streamdoc";
import * as streamdoc from "streamdoc";

/** A design of the append, as `designs()` lists them (`"streamdoc"`: the real one). */
export type Design = DesignInfo;

const designsFn = Reflect.get(streamdoc, "designs") as (() => Design[]) | undefined;

export const features = {
  /** `designs()` and the `design` option of `Simulation`. */
  designs: typeof designsFn === "function",
  /** `step(client, { loseReply: true })`, and retries of appends whose reply was lost. */
  loseReply: typeof designsFn === "function",
};

const REAL_DESIGN: Design = {
  id: "streamdoc",
  title: "streamdoc",
  summary: "One conditional updateOne per append, a unique index on streamName, event ids for retries.",
  breaks: null,
  because: "",
  scenario: "racing-first-append",
  needsFaults: false,
};

/** The designs the race lab can run: the package's list, or the real design alone. */
export function designs(): Design[] {
  if (!designsFn) return [REAL_DESIGN];
  try {
    const list = designsFn();
    return list.length > 0 ? list : [REAL_DESIGN];
  } catch {
    return [REAL_DESIGN];
  }
}
