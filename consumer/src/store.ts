import {
  bucketId,
  bucketTradeKey,
  type CandleDoc,
  candleId,
  collectionNames,
  decodeBucketTrade,
  encodeBucketTrade,
  type HistoryDoc,
  historyId,
  LEDGER_COLLECTION,
  type LedgerDoc,
  type LedgerMessage,
  ledgerId,
  type SecondEntry,
  type StockDoc,
  secondKey,
  secondOfKey,
  type TradeBucket,
  tradeIdOfKey,
} from '@stockmarket/common';
import { type Collection, type Db, Double, type WriteConcernSettings } from 'mongodb';
import {
  bookedFromSeconds,
  candleFromSeconds,
  candleFromTrades,
  groupByWindow,
  MINUTE,
  SECOND,
  secondEntry,
  summarizeBatch,
  type TradeRecord,
  windowStart,
} from './aggregate.js';
import { ensureIndexes } from './indexes.js';
import { insertNew, isDuplicateKeyError } from './insert-new.js';

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
  /**
   * Ids of trades not written: their second was booked before, and its bucket (the duplicate
   * filter) has since been swept, so a redelivery cannot be told from a new trade. The caller
   * dead-letters them: counting one twice or rebuilding the second from it alone would both be wrong.
   */
  readonly beyondDedupWindow: ReadonlySet<string>;
}

/**
 * Idempotent batch writes. Every document is addressed by a deterministic `_id` and every value
 * is derived from stored state, so writing the same trades again (a redelivery after a crash
 * between write and ack) changes no aggregate:
 *   1. trades go into their company-second bucket under their id (a set: no duplicates);
 *   2. the 1 s candle is recomputed from the whole bucket;
 *   3. the 1 m candle is recomputed from the per-second entries it holds;
 *   4. `stocks` gets the batch mean as `avgPrice`, and the batch joins the history.
 * New documents are inserted (one `insertMany` per kind), and only existing ones updated: on
 * FerretDB/SQLite an insert or a read by `_id` costs the same whatever the collection size, while
 * stock FerretDB v1.24.2 scans the collection for an update or delete by `_id` (docs/consumer.md).
 */
export class TradeStore {
  private readonly stocks: Collection<StockDoc>;
  private readonly buckets: Collection<TradeBucket>;
  private readonly candles: Collection<CandleDoc>;
  private readonly history: Collection<HistoryDoc>;
  private readonly ledger: Collection<LedgerDoc>;

  constructor(
    private readonly db: Db,
    private readonly options: StoreOptions,
  ) {
    const writeConcern = { w: options.writeConcern };
    const names = collectionNames(options.stocksCollection);
    this.stocks = db.collection<StockDoc>(names.stocks, { writeConcern });
    this.buckets = db.collection<TradeBucket>(names.buckets, { writeConcern });
    this.candles = db.collection<CandleDoc>(names.candles, { writeConcern });
    this.history = db.collection<HistoryDoc>(names.history, { writeConcern });
    this.ledger = db.collection<LedgerDoc>(LEDGER_COLLECTION, { writeConcern });
  }

  /** The contract's indexes (the same list mongo-init creates); idempotent, run at every start. */
  ensureIndexes(): Promise<string[]> {
    return ensureIndexes(this.db, collectionNames(this.options.stocksCollection));
  }

  async writeBatch(company: string, trades: readonly TradeRecord[], now = Date.now()): Promise<WriteResult> {
    const beyondDedupWindow = new Set<string>();
    const all = [...groupByWindow(dedupeById(trades), (trade) => trade.ts, SECOND)].sort((a, b) => a[0] - b[0]);
    const swept = await this.sweptSeconds(company, all, now);
    const seconds = all.filter(([start, secondTrades]) => {
      if (!swept.has(start)) return true;
      for (const trade of secondTrades) beyondDedupWindow.add(trade.id);
      return false;
    });
    const unique = seconds.flatMap(([, secondTrades]) => secondTrades);
    if (unique.length === 0)
      return { duplicates: trades.length - beyondDedupWindow.size, candles: 0, beyondDedupWindow };
    // 1. Raw trades into their company-second buckets; what was there already is a duplicate.
    const { merged, existing } = await this.addToBuckets(company, seconds, now);
    // 2. Each touched second's candle, recomputed from its whole bucket.
    const minuteEntries = new Map<number, Map<number, SecondEntry>>();
    const secondCandles: CandleDoc[] = [];
    for (const [start, secondTrades] of merged) {
      const candle = candleFromTrades(secondTrades);
      secondCandles.push({
        _id: candleId(company, '1s', start),
        company,
        interval: '1s',
        start,
        ...candle,
        updatedAt: new Date(now),
      });
      const minute = windowStart(start, MINUTE);
      const entries = minuteEntries.get(minute) ?? new Map<number, SecondEntry>();
      entries.set(start, secondEntry(candle, secondTrades));
      minuteEntries.set(minute, entries);
    }
    await this.putAll(this.candles, secondCandles);
    // 3. Each touched minute, recomputed from its per-second entries.
    for (const [minute, entries] of minuteEntries) await this.updateMinute(company, minute, entries, now);
    // 4. The contract's `stocks` document and the batch history.
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
    // Insert-only (a replayed batch finds its entry there already): cheaper than an upsert.
    await this.history
      .insertOne({
        _id: historyId(company, summary.firstId, summary.lastId, summary.count),
        company,
        avgPrice: new Double(summary.avgPrice),
        vwap: summary.vwap,
        count: summary.count,
        volume: summary.volume,
        from: summary.firstTradeAt,
        to: summary.lastTradeAt,
        writtenAt: new Date(now),
      })
      .catch((error: unknown) => {
        if (!isDuplicateKeyError(error)) throw error;
      });
    return {
      duplicates: trades.length - beyondDedupWindow.size - unique.length + existing,
      candles: merged.size + minuteEntries.size,
      beyondDedupWindow,
    };
  }

  /**
   * Seconds booked before whose bucket is gone. A bucket expires no earlier than its second's
   * start plus the retention, so only seconds that old are looked up (a backlog or a redelivery
   * after the window): their minute candle says whether the second was booked, and the bucket
   * whether its trade ids can still be checked. A second never booked is written as new.
   */
  private async sweptSeconds(
    company: string,
    seconds: ReadonlyArray<[number, TradeRecord[]]>,
    now: number,
  ): Promise<Set<number>> {
    const swept = new Set<number>();
    const old = seconds.map(([start]) => start).filter((start) => start + this.options.dedupRetentionMs <= now);
    for (const [minute, starts] of groupByWindow(old, (start) => start, MINUTE)) {
      const candle = await this.candles.findOne({ _id: candleId(company, '1m', minute) }, { projection: { s: 1 } });
      for (const start of starts) {
        if (!candle?.s?.[secondKey(start)]) continue;
        const bucket = await this.buckets.findOne({ _id: bucketId(company, start) }, { projection: { _id: 1 } });
        if (!bucket) swept.add(start);
      }
    }
    return swept;
  }

  /**
   * Adds trades to their buckets. Seconds seen for the first time (nearly all of them) are
   * inserted in one round trip; a bucket that exists (a second split across batches, or a
   * redelivery) gets its trades `$set` under their ids, and its pre-image tells which were there.
   */
  private async addToBuckets(
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

  /** Insert, or replace where the document exists: an upsert that costs one round trip when new. */
  private async putAll(collection: Collection<CandleDoc>, docs: readonly CandleDoc[]): Promise<void> {
    for (const index of await insertNew(collection, docs)) {
      const doc = docs[index] as CandleDoc;
      await collection.replaceOne({ _id: doc._id }, doc, { upsert: true });
    }
  }

  /** The minute keeps its seconds' entries; its OHLC is recomputed from all of them. */
  private async updateMinute(
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

  /**
   * A publisher's ledger message, as its run's part of the minute: a document of its own,
   * inserted. A redelivery (or two replicas writing it) finds it there and replaces it with the
   * same figures, so nothing changes; no part is ever read, merged or written by two writers.
   */
  async writeLedger(message: LedgerMessage, now = Date.now()): Promise<void> {
    const { company, minute, source, partial, closedAt, trades, quantity, notionalCents, digest } = message;
    const doc: LedgerDoc = {
      _id: ledgerId(company, minute, source),
      company,
      minute,
      source,
      partial,
      closedAt,
      trades,
      quantity,
      notionalCents,
      digest,
      updatedAt: new Date(now),
    };
    if ((await insertNew(this.ledger, [doc])).length === 0) return;
    await this.ledger.replaceOne({ _id: doc._id }, doc, { upsert: true }).catch((error: unknown) => {
      // Two replicas upserting the same new part at once: the other one's copy is the same part.
      if (!isDuplicateKeyError(error)) throw error;
    });
  }

  /** A round trip to the database, for readiness while no batch is written. */
  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
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
