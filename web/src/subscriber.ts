// The race lab's live subscriber: a consumer subscribed to the race's stream type with
// the package's `subscribe`, on the page's engine, through its change stream. The race
// runs again along its schedule on one `Engine` shared by the package's `Simulation` and
// an `EventStore`; after each step the subscriber catches up (`catchUp()`: no timers, so
// the same schedule always gives the same frames) and what it has received, its
// checkpoints and its stats are recorded as that step's frame. Which events a batch
// holds, and when a checkpoint moves, are the package's decisions; the page only shows them.
import { Engine, EventStore, type EventStoreOptions, type SubscriptionStats } from "streamdoc";
import { features } from "./features";
import { packageRace } from "./package-races";
import { newSimulation } from "./race";
import type { RaceState } from "./session";
import { errorInWords } from "./words";

/** The subscriber's consumer name. */
export const CONSUMER = "live-subscriber";

/** A batch the subscriber received, and the step after which it did. */
export interface ReceivedBatch {
  step: number;
  stream: string;
  after: bigint;
  positions: bigint[];
  types: string[];
}

/** What the subscriber had after a step (frame 0: before any). */
export interface SubscriberFrame {
  received: ReceivedBatch[];
  /** The consumer's checkpoint per stream, as stored. */
  checkpoints: Record<string, bigint>;
  stats: SubscriptionStats;
  /** How many batches this step's catch-up delivered. */
  delivered: number;
}

export interface SubscriberRun {
  streamType: string;
  frames: SubscriberFrame[];
  error: string | null;
}

/** The store configuration the race's clients run with (the gallery's races: core's, in database `app`). */
function storeOptions(race: RaceState, engine: Engine): EventStoreOptions {
  const from = race.from !== undefined && features.designs ? packageRace(race.from) : undefined;
  return from ? { engine, database: "app", layout: from.layout } : { engine };
}

/** The consumer's checkpoints (the resume token's document, stream `""`, left out). */
function checkpointsOf(store: EventStore): Record<string, bigint> {
  const found: Record<string, bigint> = {};
  for (const [ns, docs] of Object.entries(store.documents())) {
    if (!ns.endsWith(".streamdoc_checkpoints")) continue;
    for (const d of docs) {
      const position = d.position as { $numberLong?: string } | undefined;
      if (d.consumer === CONSUMER && typeof d.streamName === "string" && d.streamName !== "" && position?.$numberLong) {
        found[d.streamName] = BigInt(position.$numberLong);
      }
    }
  }
  return found;
}

/** Runs the race's schedule with the subscriber catching up after each step. */
export async function runSubscriber(race: RaceState): Promise<SubscriberRun> {
  const streamType = race.stream.split(":")[0] ?? race.stream;
  const frames: SubscriberFrame[] = [];
  const engine = new Engine();
  let step = 0;
  const received: ReceivedBatch[] = [];
  let store: EventStore | null = null;
  try {
    const sim = newSimulation(race, engine);
    store = new EventStore(storeOptions(race, engine));
    const sub = store.subscribe({ consumer: CONSUMER, streamType, source: "changeStream", manual: true }, (batch) => {
      received.push({
        step,
        stream: batch.stream,
        after: batch.after,
        positions: batch.events.map((e) => e.metadata.streamPosition),
        types: batch.events.map((e) => e.type),
      });
    });
    const record = async () => {
      const delivered = await sub.catchUp();
      frames.push({
        received: [...received],
        checkpoints: checkpointsOf(store as EventStore),
        stats: sub.stats(),
        delivered,
      });
    };
    await record();
    const lost = new Set(race.lost);
    for (const [i, client] of race.schedule.entries()) {
      if (!sim.runnable().includes(client)) break;
      step = i + 1;
      sim.step(client, lost.has(i) && features.loseReply ? { loseReply: true } : undefined);
      await record();
    }
    await sub.stop();
    sim.free();
    return { streamType, frames, error: null };
  } catch (e) {
    return { streamType, frames, error: errorInWords(e) };
  } finally {
    store?.free();
    engine.free();
  }
}
