// The Emmett side of the interop test (tests/tests/live/emmett.rs): run as
//   node emmett_interop.mjs <MONGODB_URI> <database> <step>
// in a folder where @event-driven-io/emmett-mongodb and the mongodb driver are
// installed. Prints one JSON object (BigInts as {"$bigint": "n"}) on stdout.
import { MongoClient } from 'mongodb';
import { getMongoDBEventStore } from '@event-driven-io/emmett-mongodb';

const [uri, database, step] = process.argv.slice(2);
const client = new MongoClient(uri, { monitorCommands: true });
const started = [];
client.on('commandStarted', (e) => {
  if (e.databaseName === database) started.push(e.commandName);
});
const store = getMongoDBEventStore({
  client,
  storage: { type: 'COLLECTION_PER_STREAM_TYPE', databaseName: database },
});
const commandsOf = async (action) => {
  started.length = 0;
  const result = await action();
  return { result, commands: [...started] };
};
const read = async (stream) => {
  const r = await store.readStream(stream);
  return {
    currentStreamVersion: r.currentStreamVersion,
    streamExists: r.streamExists,
    events: r.events.map((e) => ({
      type: e.type,
      data: e.data,
      messageId: e.metadata.messageId,
      streamName: e.metadata.streamName,
      streamPosition: e.metadata.streamPosition,
      positionIsBigInt: typeof e.metadata.streamPosition === 'bigint',
    })),
  };
};

const out = {};
try {
  if (step === 'write') {
    // A new stream, then one more append once the collection is known.
    out.created = await store.appendToStream(
      'shopping_cart:emm-1',
      [
        { type: 'ProductItemAdded', data: { productId: 'p-1', quantity: 2 } },
        { type: 'ProductItemAdded', data: { productId: 'p-2', quantity: 1 } },
      ],
      { expectedStreamVersion: 'STREAM_DOES_NOT_EXIST' },
    );
    out.second = await commandsOf(() =>
      store.appendToStream('shopping_cart:emm-1', [{ type: 'DiscountApplied', data: { percent: 10 } }], {
        expectedStreamVersion: 2n,
      }),
    );
    // A stream id with a colon: Emmett's fromStreamName splits on every colon.
    out.colonId = await store.appendToStream('shopping_cart:eu:8', [{ type: 'Opened', data: {} }]);
  } else if (step === 'read') {
    out.emm1 = await read('shopping_cart:emm-1');
    out.sd1 = await read('shopping_cart:sd-1');
    out.sd1Exists = await store.streamExists('shopping_cart:sd-1');
    out.appendToSd1 = await store.appendToStream('shopping_cart:sd-1', [{ type: 'Emptied', data: {} }], {
      expectedStreamVersion: 1n,
    });
    // A stale expectation that Emmett checks itself (it read the position first).
    try {
      await store.appendToStream('shopping_cart:sd-1', [{ type: 'Late', data: {} }], { expectedStreamVersion: 1n });
      out.stale = { ok: true };
    } catch (e) {
      out.stale = { name: e.constructor.name, code: e.code ?? null, errorCode: e.errorCode ?? null };
    }
    // A writer racing between Emmett's read and its write: Emmett's conditional upsert
    // misses and inserts, and the unique index answers E11000, which Emmett passes on
    // raw instead of as a concurrency error. The rival appends as a well-behaved writer.
    const race = 'shopping_cart:race-1';
    await store.appendToStream(race, [{ type: 'Opened', data: {} }]);
    const collection = await store.collectionFor('shopping_cart');
    const updateOne = collection.updateOne.bind(collection);
    collection.updateOne = async (filter, update, options) => {
      collection.updateOne = updateOne;
      const rival = { type: 'Rival', data: {}, metadata: { messageId: 'rival', streamName: race, streamPosition: 2n } };
      await updateOne(
        { streamName: { $eq: race }, 'metadata.streamPosition': 1n },
        { $push: { messages: rival }, $set: { 'metadata.streamPosition': 2n } },
      );
      return updateOne(filter, update, options);
    };
    try {
      await store.appendToStream(race, [{ type: 'Raced', data: {} }]);
      out.raced = { ok: true };
    } catch (e) {
      out.raced = { name: e.constructor.name, code: e.code ?? null, errorCode: e.errorCode ?? null };
    }
    out.race = await read(race);
  } else {
    throw new Error(`unknown step ${step}`);
  }
} finally {
  await client.close();
}
process.stdout.write(JSON.stringify(out, (_, v) => (typeof v === 'bigint' ? { $bigint: v.toString() } : v)));
