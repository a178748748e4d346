import { type CollectionNames, indexPlan } from '@stockmarket/common';
import { type Db, MongoServerError } from 'mongodb';

/**
 * Creates the storage contract's indexes (createIndex is a no-op for an identical existing one).
 * Returns warnings: a `fallback` used where the server refuses an index (FerretDB has no TTL
 * indexes; the consumer's sweep covers retention there), an `optional` index that failed.
 */
export async function ensureIndexes(db: Db, names: CollectionNames): Promise<string[]> {
  const warnings: string[] = [];
  for (const { collection, index, fallback, optional } of indexPlan(names)) {
    const { key, ...options } = index;
    try {
      await db.collection(collection).createIndex({ ...key }, options);
    } catch (error) {
      if (!(error instanceof MongoServerError) || (!fallback && !optional)) throw error;
      warnings.push(`${collection}.${index.name}: ${error.message}${fallback ? `; using ${fallback.name}` : ''}`);
      if (fallback) {
        const { key: fallbackKey, ...fallbackOptions } = fallback;
        await db.collection(collection).createIndex({ ...fallbackKey }, fallbackOptions);
      }
    }
  }
  return warnings;
}
