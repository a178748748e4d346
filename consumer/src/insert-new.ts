import { type Collection, MongoBulkWriteError, MongoServerError, type OptionalUnlessRequiredId } from 'mongodb';

/**
 * Inserts documents with `ordered: false`; returns the indexes of those whose `_id` exists
 * already (the caller updates them instead). Other errors are thrown.
 */
export async function insertNew<T extends { _id: string }>(
  collection: Collection<T>,
  docs: readonly T[],
): Promise<number[]> {
  if (docs.length === 0) return [];
  try {
    await collection.insertMany(docs as OptionalUnlessRequiredId<T>[], { ordered: false });
    return [];
  } catch (error) {
    if (!(error instanceof MongoBulkWriteError)) throw error;
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    if (writeErrors.length === 0 || writeErrors.some((entry) => entry.code !== 11000)) throw error;
    return writeErrors.map((entry) => entry.index);
  }
}

export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}
