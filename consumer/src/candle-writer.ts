import { type CandleDoc, candleId, type SecondEntry, secondKey, secondOfKey } from '@stockmarket/common';
import type { Collection } from 'mongodb';
import { bookedFromSeconds, candleFromSeconds } from './aggregate.js';
import { insertNew } from './insert-new.js';

/**
 * The candles of a batch: each touched second's candle replaced by one recomputed from its whole
 * bucket, each touched minute recomputed from the per-second entries it holds.
 */
export class CandleWriter {
  constructor(
    private readonly candles: Collection<CandleDoc>,
    private readonly options: { readonly candle1sRetentionMs: number },
  ) {}

  /** The 1 s candles, each written whole. */
  async putSeconds(docs: readonly CandleDoc[]): Promise<void> {
    await this.putAll(this.candles, docs);
  }

  /** Insert, or replace where the document exists: an upsert that costs one round trip when new. */
  private async putAll(collection: Collection<CandleDoc>, docs: readonly CandleDoc[]): Promise<void> {
    for (const index of await insertNew(collection, docs)) {
      const doc = docs[index] as CandleDoc;
      await collection.replaceOne({ _id: doc._id }, doc, { upsert: true });
    }
  }

  /** The seconds of a minute that hold a booked entry (written before). */
  async bookedSeconds(company: string, minute: number): Promise<Set<number>> {
    const current = await this.candles.findOne({ _id: candleId(company, '1m', minute) }, { projection: { s: 1 } });
    return new Set(Object.keys(current?.s ?? {}).map(secondOfKey));
  }

  /** The minute keeps its seconds' entries; its OHLC is recomputed from all of them. */
  async updateMinute(
    company: string,
    minute: number,
    entries: ReadonlyMap<number, SecondEntry>,
    now: number,
  ): Promise<void> {
    const _id = candleId(company, '1m', minute);
    // Single writer per company (leases): read, merge, write. A read by `_id` is cheap everywhere.
    const current = await this.candles.findOne({ _id });
    const seconds = new Map<number, SecondEntry>();
    for (const [key, entry] of Object.entries(current?.s ?? {})) seconds.set(secondOfKey(key), entry);
    for (const [start, entry] of entries) seconds.set(start, entry);
    const candle = candleFromSeconds(seconds);
    const booked = bookedFromSeconds(seconds);
    const rc = booked ? { rc: booked } : {};
    if (!current) {
      const s: Record<string, SecondEntry> = {};
      for (const [start, entry] of seconds) s[secondKey(start)] = entry;
      const doc: CandleDoc = {
        _id,
        company,
        interval: '1m',
        start: minute,
        s,
        ...candle,
        ...rc,
        updatedAt: new Date(now),
      };
      if ((await insertNew(this.candles, [doc])).length === 0) return;
    }
    const set: Record<string, unknown> = { ...candle, ...rc, updatedAt: new Date(now) };
    for (const [start, entry] of entries) set[`s.${secondKey(start)}`] = entry;
    // A minute with a second written before reconciliation existed has no exact booked figures.
    const unset = booked ? {} : { $unset: { rc: '' as const } };
    await this.candles.updateOne({ _id }, { $set: set, ...unset }, { upsert: true });
  }

  /** Retention: 1 s candles past theirs. */
  async sweep(now: number): Promise<number> {
    const candles = await this.candles.deleteMany({
      interval: '1s',
      start: { $lt: now - this.options.candle1sRetentionMs },
    });
    return candles.deletedCount;
  }
}
