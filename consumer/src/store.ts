import type { CandleInterval } from '@stockmarket/common';
import { type Collection, type Db, Double, MongoServerError, type WriteConcernSettings } from 'mongodb';
import {
  candleFromSeconds,
  candleFromTrades,
  groupByWindow,
  MINUTE,
  SECOND,
  type SecondEntry,
  secondEntry,
  summarizeBatch,
  type TradeRecord,
  windowStart,
} from './aggregate.js';

/** Raw trades of one company-second, keyed by trade id: the duplicate filter. */
interface TradeBucket {
  _id: string;
  company: string;
  start: number;
  expiresAt: Date;
  /** `i<tradeId>` -> [price, quantity, 1 buy | -1 sell, ts] */
  t: Record<string, [number, number, number, number]>;
}

interface CandleDoc {
  _id: string;
  company: string;
  interval: CandleInterval;
  start: number;
  /** 1 m candles only: the contribution of each second, `x<secondStart>`. */
  s?: Record<string, SecondEntry>;
  updatedAt: Date;
  [field: string]: unknown;
}

export interface StoreOptions {
  readonly stocksCollection: string;
  readonly writeConcern: WriteConcernSettings['w'];
  readonly dedupRetentionMs: number;
  readonly candle1sRetentionMs: number;
}

export interface WriteResult {
  /** Trades already stored before this write (redeliveries): counted once, not twice. */
  readonly duplicates: number;
  readonly candles: number;
}

export const collectionNames = {
  buckets: 'trade_buckets',
  candles: 'candles',
  history: 'stock_history',
} as const;

export const candleId = (company: string, interval: CandleInterval, start: number) => `${company}:${interval}:${start}`;

/**
 * Idempotent batch writes. Every document is addressed by a deterministic `_id` and every value
 * is derived from stored state, so writing the same trades again (a redelivery after a crash
 * between write and ack) changes no aggregate:
 *   1. trades are `$set` into their company-second bucket under their id (a set: no duplicates);
 *   2. the 1 s candle is recomputed from the whole bucket;
 *   3. the 1 m candle is recomputed from the per-second entries it holds;
 *   4. `stocks` gets the batch mean as `avgPrice`, and the batch joins the history.
 * All filters are on `_id` alone (or `company` for `stocks`), the lookups every server serves fast.
 */
export class TradeStore {
  private readonly stocks: Collection;
  private readonly buckets: Collection<TradeBucket>;
  private readonly candles: Collection<CandleDoc>;
  private readonly history: Collection;

  constructor(
    db: Db,
    private readonly options: StoreOptions,
  ) {
    const writeConcern = { w: options.writeConcern };
    this.stocks = db.collection(options.stocksCollection, { writeConcern });
    this.buckets = db.collection<TradeBucket>(collectionNames.buckets, { writeConcern });
    this.candles = db.collection<CandleDoc>(collectionNames.candles, { writeConcern });
    this.history = db.collection(collectionNames.history, { writeConcern });
  }

  /** Indexes for the readers and for retention; idempotent, run at every start. */
  async ensureIndexes(): Promise<string[]> {
    const warnings: string[] = [];
    await this.stocks.createIndex({ company: 1 }, { name: 'company_unique', unique: true }).catch((error: Error) => {
      warnings.push(`stocks company index: ${error.message}`);
    });
    await this.candles.createIndex({ company: 1, interval: 1, start: -1 }, { name: 'company_interval_start' });
    await this.candles.createIndex({ updatedAt: 1 }, { name: 'updated_at' });
    await this.history.createIndex({ company: 1, to: -1 }, { name: 'company_to' });
    await this.buckets
      .createIndex({ expiresAt: 1 }, { name: 'expires_at_ttl', expireAfterSeconds: 0 })
      .catch((error: Error) => {
        // FerretDB accepts no TTL option; the periodic sweep below covers it.
        warnings.push(`TTL index: ${error.message}`);
        return this.buckets.createIndex({ expiresAt: 1 }, { name: 'expires_at' });
      });
    return warnings;
  }

  async writeBatch(company: string, trades: readonly TradeRecord[], now = Date.now()): Promise<WriteResult> {
    const unique = dedupeById(trades);
    let duplicates = trades.length - unique.length;
    const minuteEntries = new Map<number, Map<number, SecondEntry>>();
    const seconds = groupByWindow(unique, (trade) => trade.ts, SECOND);
    for (const [start, secondTrades] of [...seconds].sort((a, b) => a[0] - b[0])) {
      const { merged, existing } = await this.addToBucket(company, start, secondTrades, now);
      duplicates += existing;
      const candle = candleFromTrades(merged);
      await this.candles.replaceOne(
        { _id: candleId(company, '1s', start) },
        { company, interval: '1s', start, ...candle, updatedAt: new Date(now) },
        { upsert: true },
      );
      const minute = windowStart(start, MINUTE);
      const entries = minuteEntries.get(minute) ?? new Map<number, SecondEntry>();
      entries.set(start, secondEntry(candle));
      minuteEntries.set(minute, entries);
    }
    for (const [minute, entries] of minuteEntries) {
      await this.updateMinute(company, minute, entries, now);
    }
    const summary = summarizeBatch(unique);
    await this.stocks.updateOne(
      { company },
      {
        $set: {
          company,
          // A double even when the mean is a whole number, as the contract says.
          avgPrice: new Double(summary.avgPrice),
          lastPrice: summary.lastPrice,
          vwap: summary.vwap,
          batchSize: summary.count,
          volume: summary.volume,
          lastTradeAt: summary.lastTradeAt,
          updatedAt: new Date(now),
        },
        $inc: { version: 1 },
      },
      { upsert: true },
    );
    await this.history.updateOne(
      { _id: `${company}:${summary.firstId}:${summary.lastId}:${summary.count}` as never },
      {
        $setOnInsert: {
          company,
          avgPrice: new Double(summary.avgPrice),
          vwap: summary.vwap,
          count: summary.count,
          volume: summary.volume,
          from: summary.firstTradeAt,
          to: summary.lastTradeAt,
          writtenAt: new Date(now),
        },
      },
      { upsert: true },
    );
    return { duplicates, candles: seconds.size + minuteEntries.size };
  }

  /** `$set` each trade under its id; the pre-image tells which were there already. */
  private async addToBucket(
    company: string,
    start: number,
    trades: readonly TradeRecord[],
    now: number,
  ): Promise<{ merged: TradeRecord[]; existing: number }> {
    const set: Record<string, unknown> = {
      company,
      start,
      expiresAt: new Date(Math.max(now, start) + this.options.dedupRetentionMs),
    };
    for (const trade of trades) {
      set[`t.i${trade.id}`] = [trade.price, trade.quantity, trade.side === 'buy' ? 1 : -1, trade.ts];
    }
    const before = await this.buckets.findOneAndUpdate(
      { _id: `${company}:${start}` },
      { $set: set },
      { upsert: true, returnDocument: 'before' },
    );
    const merged = new Map<string, TradeRecord>();
    let existing = 0;
    for (const [key, [price, quantity, side, ts]] of Object.entries(before?.t ?? {})) {
      merged.set(key.slice(1), { id: key.slice(1), price, quantity, side: side > 0 ? 'buy' : 'sell', ts });
    }
    for (const trade of trades) {
      if (merged.has(trade.id)) existing++;
      merged.set(trade.id, trade);
    }
    return { merged: [...merged.values()], existing };
  }

  private async updateMinute(
    company: string,
    minute: number,
    entries: ReadonlyMap<number, SecondEntry>,
    now: number,
  ): Promise<void> {
    const set: Record<string, unknown> = { company, interval: '1m', start: minute };
    for (const [start, entry] of entries) set[`s.x${start}`] = entry;
    const after = await this.candles.findOneAndUpdate(
      { _id: candleId(company, '1m', minute) },
      { $set: set },
      { upsert: true, returnDocument: 'after' },
    );
    const seconds = new Map<number, SecondEntry>();
    for (const [key, entry] of Object.entries(after?.s ?? {})) seconds.set(Number(key.slice(1)), entry);
    await this.candles.updateOne(
      { _id: candleId(company, '1m', minute) },
      { $set: { ...candleFromSeconds(seconds), updatedAt: new Date(now) } },
    );
  }

  /** Retention: raw trades past the duplicate window, 1 s candles past theirs. */
  async sweep(now = Date.now()): Promise<{ buckets: number; candles: number }> {
    const buckets = await this.buckets.deleteMany({ expiresAt: { $lt: new Date(now) } });
    const candles = await this.candles.deleteMany({
      interval: '1s',
      start: { $lt: now - this.options.candle1sRetentionMs },
    });
    return { buckets: buckets.deletedCount, candles: candles.deletedCount };
  }
}

function dedupeById(trades: readonly TradeRecord[]): TradeRecord[] {
  const seen = new Map<string, TradeRecord>();
  for (const trade of trades) if (!seen.has(trade.id)) seen.set(trade.id, trade);
  return [...seen.values()];
}

export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === 11000;
}
