import type { MongoClient } from "mongodb";
import type { Executor } from "./index.js";

/**
 * An executor for `new EventStore({ executor })` that runs every command on a MongoDB
 * server through the official driver (an optional peer dependency).
 *
 * @example
 * import { MongoClient } from "mongodb";
 * import { EventStore } from "streamdoc";
 * import { mongoExecutor } from "streamdoc/mongodb";
 *
 * const client = await MongoClient.connect(process.env.MONGODB_URI!);
 * const store = new EventStore({ database: "app", executor: mongoExecutor(client) });
 */
export declare function mongoExecutor(client: MongoClient): Executor;
