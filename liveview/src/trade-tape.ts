import type { Db, Document } from 'mongodb';

/**
 * The trade tape, and the one module of the liveview that knows how the consumer stores raw trades:
 * collection `trade_buckets`, one document per company-second, `_id` `<COMPANY>:<secondStart>`,
 * field `t` mapping `i<tradeId>` to `"<price> <quantity> <b|s> <ts>"` (older documents hold
 * `[price, quantity, 1 | -1, ts]` arrays). See consumer/src/store.ts.
 */
export interface TapeTrade {
  ts: number;
  side: 'buy' | 'sell';
  quantity: number;
  price: number;
}

export type TradeSource = (company: string, newestTradeAt: number, limit: number) => Promise<TapeTrade[]>;

const SECOND = 1000;
/** Seconds read per round (by primary key, in parallel), and the most seconds looked back. */
const SECONDS_PER_ROUND = 3;
const MAX_SECONDS = 12;

export function decodeBucket(doc: Document): TapeTrade[] {
  const t = doc.t;
  if (typeof t !== 'object' || t === null) return [];
  const trades: TapeTrade[] = [];
  for (const value of Object.values(t as Record<string, unknown>)) {
    const parts =
      typeof value === 'string' ? value.split(' ') : Array.isArray(value) ? value.map((part) => String(part)) : [];
    const [price, quantity, side, ts] = parts.map((part, index) => (index === 2 ? part : Number(part))) as [
      number,
      number,
      string,
      number,
    ];
    if (!Number.isFinite(price) || !Number.isFinite(ts)) continue;
    trades.push({
      price,
      quantity: Number.isFinite(quantity) ? quantity : 1,
      side: side === 'b' || side === '1' ? 'buy' : 'sell',
      ts,
    });
  }
  return trades;
}

/** The newest `limit` trades of a company at or before `newestTradeAt`, newest first. */
export function tradeSource(db: Db): TradeSource {
  const buckets = db.collection('trade_buckets');
  return async (company, newestTradeAt, limit) => {
    if (newestTradeAt <= 0) return [];
    const newestSecond = Math.floor(newestTradeAt / SECOND) * SECOND;
    const trades: TapeTrade[] = [];
    for (let back = 0; back < MAX_SECONDS && trades.length < limit; back += SECONDS_PER_ROUND) {
      // Primary-key lookups only: the one filter shape FerretDB pushes down to its storage.
      const ids = Array.from(
        { length: SECONDS_PER_ROUND },
        (_, i) => `${company}:${newestSecond - (back + i) * SECOND}`,
      );
      const docs = await Promise.all(ids.map((id) => buckets.findOne({ _id: id as never })));
      for (const doc of docs) if (doc) trades.push(...decodeBucket(doc));
    }
    return trades.sort((a, b) => b.ts - a.ts).slice(0, limit);
  };
}
