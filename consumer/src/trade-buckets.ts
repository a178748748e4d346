import {
  bucketId,
  bucketTradeKey,
  decodeBucketTrade,
  encodeBucketTrade,
  type TradeBucket,
  tradeIdOfKey,
} from '@stockmarket/common';
import type { Collection } from 'mongodb';
import type { TradeRecord } from './aggregate.js';
import { insertNew } from './insert-new.js';

/**
 * The duplicate filter: raw trades per company-second under their ids (a set, so no trade twice),
 * kept for `dedupRetentionMs` (a TTL index where the server has one, else `sweep`).
 */
export class TradeBuckets {
  constructor(
    private readonly buckets: Collection<TradeBucket>,
    private readonly options: { readonly dedupRetentionMs: number },
  ) {}

  /** Whether the second's bucket is there (not yet swept). */
  async exists(company: string, start: number): Promise<boolean> {
    return (await this.buckets.findOne({ _id: bucketId(company, start) }, { projection: { _id: 1 } })) !== null;
  }

  /**
   * Adds trades to their buckets. Seconds seen for the first time (nearly all of them) are
   * inserted in one round trip; a bucket that exists (a second split across batches, or a
   * redelivery) gets its trades `$set` under their ids, and its pre-image tells which were there.
   */
  async addToBuckets(
    company: string,
    seconds: ReadonlyArray<[number, TradeRecord[]]>,
    now: number,
  ): Promise<{ merged: Map<number, TradeRecord[]>; existing: number }> {
    const expiresAt = (start: number) => new Date(Math.max(now, start) + this.options.dedupRetentionMs);
    const merged = new Map<number, TradeRecord[]>();
    const docs: TradeBucket[] = seconds.map(([start, secondTrades]) => {
      merged.set(start, secondTrades);
      const t: TradeBucket['t'] = {};
      for (const trade of secondTrades) t[bucketTradeKey(trade.id)] = encodeBucketTrade(trade);
      return { _id: bucketId(company, start), company, start, expiresAt: expiresAt(start), t };
    });
    const taken = await insertNew(this.buckets, docs);
    let existing = 0;
    for (const index of taken) {
      const [start, secondTrades] = seconds[index] as [number, TradeRecord[]];
      const set: Record<string, unknown> = { expiresAt: expiresAt(start) };
      for (const trade of secondTrades) set[`t.${bucketTradeKey(trade.id)}`] = encodeBucketTrade(trade);
      const before = await this.buckets.findOneAndUpdate(
        { _id: bucketId(company, start) },
        { $set: set },
        { upsert: true, returnDocument: 'before' },
      );
      const all = new Map<string, TradeRecord>();
      for (const [key, value] of Object.entries(before?.t ?? {})) {
        all.set(tradeIdOfKey(key), decodeBucketTrade(tradeIdOfKey(key), value));
      }
      for (const trade of secondTrades) {
        if (all.has(trade.id)) existing++;
        all.set(trade.id, trade);
      }
      merged.set(start, [...all.values()]);
    }
    return { merged, existing };
  }

  /** Retention: raw trades past the duplicate window. */
  async sweep(now: number): Promise<number> {
    const buckets = await this.buckets.deleteMany({ expiresAt: { $lt: new Date(now) } });
    return buckets.deletedCount;
  }
}
