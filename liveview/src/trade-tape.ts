import {
  bucketId,
  CANDLE_INTERVAL_MS,
  collectionNames,
  decodeBucketTrade,
  type TradeBucket,
  tradeIdOfKey,
} from '@stockmarket/common';
import type { Db } from 'mongodb';

/**
 * The trade tape: the newest raw trades of a company, read from the consumer's duplicate filter
 * (`trade_buckets`, one document per company-second) through the storage contract in common.
 */
export interface TapeTrade {
  ts: number;
  side: 'buy' | 'sell';
  quantity: number;
  price: number;
}

export type TradeSource = (company: string, newestTradeAt: number, limit: number) => Promise<TapeTrade[]>;

const SECOND = CANDLE_INTERVAL_MS['1s'];
/** Seconds read per round (by primary key, in parallel), and the most seconds looked back. */
const SECONDS_PER_ROUND = 3;
const MAX_SECONDS = 12;

/** The trades of one bucket; an entry that does not decode (not the contract's shape) is skipped. */
export function decodeBucket(doc: Pick<TradeBucket, 't'>): TapeTrade[] {
  const trades: TapeTrade[] = [];
  for (const [key, value] of Object.entries(doc.t ?? {})) {
    if (typeof value !== 'string') continue;
    const { price, quantity, side, ts } = decodeBucketTrade(tradeIdOfKey(key), value);
    if (!Number.isFinite(price) || !Number.isFinite(ts)) continue;
    trades.push({ price, quantity: Number.isFinite(quantity) ? quantity : 1, side, ts });
  }
  return trades;
}

/** The newest `limit` trades of a company at or before `newestTradeAt`, newest first. */
export function tradeSource(db: Db): TradeSource {
  const buckets = db.collection<TradeBucket>(collectionNames().buckets);
  return async (company, newestTradeAt, limit) => {
    if (newestTradeAt <= 0) return [];
    const newestSecond = Math.floor(newestTradeAt / SECOND) * SECOND;
    const trades: TapeTrade[] = [];
    for (let back = 0; back < MAX_SECONDS && trades.length < limit; back += SECONDS_PER_ROUND) {
      // Primary-key lookups only: the one filter shape FerretDB pushes down to its storage.
      const ids = Array.from({ length: SECONDS_PER_ROUND }, (_, i) =>
        bucketId(company, newestSecond - (back + i) * SECOND),
      );
      const docs = await Promise.all(ids.map((id) => buckets.findOne({ _id: id })));
      for (const doc of docs) if (doc) trades.push(...decodeBucket(doc));
    }
    return trades.sort((a, b) => b.ts - a.ts).slice(0, limit);
  };
}
