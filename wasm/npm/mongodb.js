// An executor for the official `mongodb` driver: runs the store's commands on a real
// server. Commands arrive in canonical Extended JSON and replies leave in it, so no
// BSON type is lost on the way (Int32 stays Int32, Int64 stays Int64, Double stays Double).
import { BSON, MongoServerError } from "mongodb";

const { EJSON } = BSON;
const exact = { relaxed: false };

/** Reads a canonical Extended JSON document into driver values of the exact BSON types. */
const toDriver = (doc) => EJSON.deserialize(doc, exact);
/** Writes driver values (read with `promoteValues: false`) as canonical Extended JSON. */
const fromDriver = (value) => EJSON.serialize(value, exact);

/**
 * An executor for `new EventStore({ executor })` running every command on `client`.
 * Server errors become replies (`duplicateKey` for code 11000, `serverError` otherwise, with
 * code 8 when the server gave none);
 * anything else (a network error, a timeout) is thrown, which the store reports as
 * `UnavailableError`.
 */
export function mongoExecutor(client) {
  return async (command) => {
    const collection = client.db(command.database).collection(command.collection);
    try {
      switch (command.kind) {
        case "createIndex":
          // Key patterns are plain numbers for the driver.
          await collection.createIndex(EJSON.deserialize(command.keys), { name: command.name, unique: command.unique });
          return { kind: "acknowledged" };
        case "findOne": {
          const options = { promoteValues: false, promoteBuffers: false, bsonRegExp: true };
          if (command.projection !== null) options.projection = toDriver(command.projection);
          const found = await collection.findOne(toDriver(command.filter), options);
          return { kind: "found", document: found === null ? null : fromDriver(found) };
        }
        case "find": {
          const options = { promoteValues: false, promoteBuffers: false, bsonRegExp: true };
          if (command.projection !== null) options.projection = toDriver(command.projection);
          // Sort directions are plain numbers for the driver, as key patterns are.
          if (command.sort !== null) options.sort = EJSON.deserialize(command.sort);
          if (command.skip > 0) options.skip = command.skip;
          if (command.limit > 0) options.limit = command.limit;
          // Every batch: `toArray` follows the cursor to its end.
          const found = await collection.find(toDriver(command.filter), options).toArray();
          return { kind: "foundMany", documents: found.map(fromDriver) };
        }
        case "count": {
          const options = {};
          if (command.skip > 0) options.skip = command.skip;
          if (command.limit > 0) options.limit = command.limit;
          const count = await collection.countDocuments(toDriver(command.filter), options);
          return { kind: "counted", count };
        }
        case "updateOne": {
          const r = await collection.updateOne(toDriver(command.filter), toDriver(command.update), { upsert: command.upsert });
          const upsertedId = r.upsertedId == null ? null : fromDriver({ id: r.upsertedId }).id;
          return { kind: "updated", matchedCount: r.matchedCount, modifiedCount: r.modifiedCount, upsertedId };
        }
        case "insertOne": {
          const r = await collection.insertOne(toDriver(command.document));
          return { kind: "inserted", insertedId: fromDriver({ id: r.insertedId }).id };
        }
        case "deleteOne": {
          const r = await collection.deleteOne(toDriver(command.filter));
          return { kind: "deleted", deletedCount: r.deletedCount };
        }
        default:
          throw new TypeError(`unknown command kind ${command.kind}`);
      }
    } catch (error) {
      // With `promoteValues: false` the error's fields are BSON wrappers too (Int32).
      const code = error instanceof MongoServerError ? Number(error.code?.valueOf()) : NaN;
      if (Number.isInteger(code)) {
        return code === 11000
          ? { kind: "duplicateKey", message: error.message }
          : { kind: "serverError", code, message: error.message };
      }
      // `{ ok: 0 }` with no code at all (mongo-java-server, for a `$slice` past the end):
      // MongoDB's UnknownError, 8, as the host's executor reports it; core decides.
      if (error instanceof MongoServerError && error.code === undefined) {
        return { kind: "serverError", code: 8, message: `the server answered ok: 0 with no error code: ${error.message}` };
      }
      throw error;
    }
  };
}
