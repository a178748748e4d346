import {
  type CandleDoc,
  candleId,
  collectionNames,
  type HistoryDoc,
  historyId,
  LEDGER_COLLECTION,
  type LedgerDoc,
  type LedgerMessage,
  type SecondEntry,
  type StockDoc,
  type TradeBucket,
} from '@stockmarket/common';
import { type Collection, type Db, Double, type WriteConcernSettings } from 'mongodb';
import {
  candleFromTrades,
  groupByWindow,
  MINUTE,
  SECOND,
  secondEntry,
  summarizeBatch,
  type TradeRecord,
  windowStart,
} from './aggregate.js';
import { CandleWriter } from './candle-writer.js';
import { ensureIndexes } from './indexes.js';
import { isDuplicateKeyError } from './insert-new.js';
import { LedgerStore } from './ledger-store.js';
import { TradeBuckets } from './trade-buckets.js';

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
  private readonly buckets: TradeBuckets;
  private readonly candles: CandleWriter;
  private readonly history: Collection<HistoryDoc>;
  private readonly ledger: LedgerStore;

  constructor(
    private readonly db: Db,
    private readonly options: StoreOptions,
  ) {
    const writeConcern = { w: options.writeConcern };
    const names = collectionNames(options.stocksCollection);
    this.stocks = db.collection<StockDoc>(names.stocks, { writeConcern });
    this.buckets = new TradeBuckets(db.collection<TradeBucket>(names.buckets, { writeConcern }), options);
    this.candles = new CandleWriter(db.collection<CandleDoc>(names.candles, { writeConcern }), options);
    this.history = db.collection<HistoryDoc>(names.history, { writeConcern });
    this.ledger = new LedgerStore(db.collection<LedgerDoc>(LEDGER_COLLECTION, { writeConcern }));
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
    const { merged, existing } = await this.buckets.addToBuckets(company, seconds, now);
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
    await this.candles.putSeconds(secondCandles);
    // 3. Each touched minute, recomputed from its per-second entries.
    for (const [minute, entries] of minuteEntries) await this.candles.updateMinute(company, minute, entries, now);
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
      const booked = await this.candles.bookedSeconds(company, minute);
      for (const start of starts) {
        if (booked.has(start) && !(await this.buckets.exists(company, start))) swept.add(start);
      }
    }
    return swept;
  }

  /** A publisher's ledger message, as its run's part of the minute (idempotent: `LedgerStore`). */
  writeLedger(message: LedgerMessage, now = Date.now()): Promise<void> {
    return this.ledger.write(message, now);
  }

  /** A round trip to the database, for readiness while no batch is written. */
  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }

  /** Retention: raw trades past the duplicate window, 1 s candles past theirs. */
  async sweep(now = Date.now()): Promise<{ buckets: number; candles: number }> {
    const buckets = await this.buckets.sweep(now);
    const candles = await this.candles.sweep(now);
    return { buckets, candles };
  }
}

function dedupeById(trades: readonly TradeRecord[]): TradeRecord[] {
  const seen = new Map<string, TradeRecord>();
  for (const trade of trades) if (!seen.has(trade.id)) seen.set(trade.id, trade);
  return [...seen.values()];
}
