/**
 * The MongoDB contract: collection names, typed documents, `_id` builders, the bucket encoding
 * and the index list. The consumer writes this layout, the liveview reads it, mongo-init creates
 * the same indexes (mongo-init/setup.cjs runs in mongosh and cannot import this file: a test
 * compares its list with `indexPlan`), and the tests read it back. See docs/architecture.md.
 */
import type { Double } from 'mongodb';
import type { BookedFigures } from './ledger.js';

/** The default database and `stocks` collection of the original programs (MONGODB_DB, MONGODB_COLLECTION). */
export const DEFAULT_DATABASE = 'stockmarket';
export const DEFAULT_STOCKS_COLLECTION = 'stocks';

/** Where each kind of document lives. Only `stocks` is configurable (MONGODB_COLLECTION). */
export interface CollectionNames {
  /** The contract's collection: one document per company with at least `company` and `avgPrice`. */
  readonly stocks: string;
  /** 1 s and 1 m OHLC candles, addressed by `candleId`. */
  readonly candles: string;
  /** One entry per written batch, addressed by `historyId`. */
  readonly history: string;
  /** Raw trades per company-second, the duplicate filter, addressed by `bucketId`. */
  readonly buckets: string;
}

export function collectionNames(stocks: string = DEFAULT_STOCKS_COLLECTION): CollectionNames {
  return Object.freeze({ stocks, candles: 'candles', history: 'stock_history', buckets: 'trade_buckets' });
}

/** A trade as stored in a bucket: every field known (defaults filled in by the consumer). */
export interface StoredTrade {
  readonly id: string;
  readonly price: number;
  readonly quantity: number;
  readonly side: 'buy' | 'sell';
  /** Event time, epoch ms. */
  readonly ts: number;
}

/** A `stocks` document. Pages written for the original need only `company` and `avgPrice`. */
export type StockDoc = {
  company: string;
  /** Mean price of the latest batch, always a BSON double (the contract says so). */
  avgPrice: Double | number;
  lastPrice?: number;
  vwap?: number;
  batchSize?: number;
  volume?: number;
  lastTradeAt?: number;
  updatedAt?: Date;
  /** Incremented by every batch write. */
  version?: number;
};

/** A 1 s candle's contribution to its minute, kept inside the 1 m candle document (`s`). */
export type SecondEntry = {
  o: number;
  h: number;
  l: number;
  c: number;
  v: number;
  /** Sum of price * quantity, for the minute's VWAP. */
  pv: number;
  n: number;
  b: number;
  t: number;
  /** Reconciliation (common/src/ledger.ts): notional in cents and the id digest of the second's trades. */
  nc?: number;
  d?: string;
};

export type CandleInterval = '1s' | '1m';

/** How long each candle interval is, in ms: the one table of it (candle windows, gaps, steps). */
export const CANDLE_INTERVAL_MS: Readonly<Record<CandleInterval, number>> = Object.freeze({ '1s': 1000, '1m': 60_000 });

/** What a span of trades adds up to (a candle's window, or a whole session). */
export interface SpanFigures {
  open: number;
  high: number;
  low: number;
  /** Last price of the span. */
  close: number;
  /** Volume-weighted average price over the span. */
  vwap: number;
  volume: number;
  trades: number;
  buys: number;
  sells: number;
}

/** The figures of a candle, as computed from trades or seconds. */
export interface CandleFields extends SpanFigures {
  /** Event time of the candle's newest trade, epoch ms. */
  lastTradeAt: number;
}

/**
 * A candle document. A 1 m candle also holds its seconds' entries in `s` (keys `secondKey`); it
 * is written in two steps when new, so a reader can meet one that has `s` and no figures yet.
 */
export type CandleDoc = CandleFields & {
  _id: string;
  company: string;
  interval: CandleInterval;
  /** Window start, epoch ms. */
  start: number;
  s?: Record<string, SecondEntry>;
  /** 1 m only: the booked figures of the minute, summed over `s` (absent if an entry lacks them). */
  rc?: BookedFigures;
  updatedAt: Date;
};

/** Raw trades of one company-second, keyed by `bucketTradeKey(id)`: a set, so no trade twice. */
export type TradeBucket = {
  _id: string;
  company: string;
  start: number;
  /** Retention of the duplicate filter (TTL index where the server has one, else a sweep). */
  expiresAt: Date;
  /** `bucketTradeKey(id)` -> `encodeBucketTrade(trade)`. */
  t: Record<string, string>;
};

/** One written batch; the `_id` makes a replayed batch's insert a no-op. */
export type HistoryDoc = {
  _id: string;
  company: string;
  avgPrice: Double | number;
  vwap: number;
  count: number;
  volume: number;
  from: number;
  to: number;
  writtenAt: Date;
};

export const candleId = (company: string, interval: CandleInterval, start: number): string =>
  `${company}:${interval}:${start}`;
export const bucketId = (company: string, start: number): string => `${company}:${start}`;
export const historyId = (company: string, firstId: string, lastId: string, count: number): string =>
  `${company}:${firstId}:${lastId}:${count}`;

/** Field names inside documents: prefixed, because a trade id or a time may start with a digit. */
export const bucketTradeKey = (tradeId: string): string => `i${tradeId}`;
export const tradeIdOfKey = (key: string): string => key.slice(1);
export const secondKey = (start: number): string => `x${start}`;
export const secondOfKey = (key: string): number => Number(key.slice(1));

/** A trade in its bucket: `"<price> <quantity> <b|s> <ts>"` (a string: far cheaper to store than an array). */
export function encodeBucketTrade(trade: StoredTrade): string {
  return `${trade.price} ${trade.quantity} ${trade.side === 'buy' ? 'b' : 's'} ${trade.ts}`;
}

export function decodeBucketTrade(id: string, value: string): StoredTrade {
  const [price, quantity, side, ts] = value.split(' ');
  return { id, price: Number(price), quantity: Number(quantity), side: side === 'b' ? 'buy' : 'sell', ts: Number(ts) };
}

export interface IndexSpec {
  readonly key: Readonly<Record<string, 1 | -1>>;
  readonly name: string;
  readonly unique?: boolean;
  readonly expireAfterSeconds?: number;
}

export interface PlannedIndex {
  readonly collection: string;
  readonly index: IndexSpec;
  /** Created instead when the server refuses `index` (FerretDB has no TTL indexes; the sweep covers it). */
  readonly fallback?: IndexSpec;
  /** A failure is only reported (a unique index over duplicate data another program wrote). */
  readonly optional?: boolean;
}

/** Every index the readers and the retention need; created idempotently at every start. */
export function indexPlan(names: CollectionNames): PlannedIndex[] {
  return [
    { collection: names.stocks, index: { key: { company: 1 }, name: 'company_unique', unique: true }, optional: true },
    {
      collection: names.candles,
      index: { key: { company: 1, interval: 1, start: -1 }, name: 'company_interval_start' },
    },
    { collection: names.candles, index: { key: { updatedAt: 1 }, name: 'updated_at' } },
    { collection: names.history, index: { key: { company: 1, to: -1 }, name: 'company_to' } },
    {
      collection: names.buckets,
      index: { key: { expiresAt: 1 }, name: 'expires_at_ttl', expireAfterSeconds: 0 },
      fallback: { key: { expiresAt: 1 }, name: 'expires_at' },
    },
  ];
}
