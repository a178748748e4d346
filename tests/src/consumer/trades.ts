/**
 * Test helpers (not used by the service): trades with ids, their ground-truth candles computed
 * independently of aggregate.ts, and a comparison with what the consumer stored.
 */
import { type CandleDoc, candleId, collectionNames } from '@stockmarket/common';
import type { Db } from 'mongodb';

export interface PublishedTrade {
  company: string;
  eventType: 'buy' | 'sell';
  price: number;
  id: string;
  ts: number;
  quantity: number;
}

export interface TruthCandle {
  trades: number;
  volume: number;
  open: number;
  high: number;
  low: number;
  close: number;
  buys: number;
  sells: number;
}

/** Deterministic trades: `perCompany` per company, `spacingMs` apart in event time. */
export function makeTrades(
  companies: readonly string[],
  perCompany: number,
  { start = Date.UTC(2024, 0, 2, 14, 30, 0) + 137, spacingMs = 20, prefix = 't' } = {},
): Map<string, PublishedTrade[]> {
  const all = new Map<string, PublishedTrade[]>();
  for (const [index, company] of companies.entries()) {
    const trades: PublishedTrade[] = [];
    let price = 50 + index * 75;
    for (let i = 0; i < perCompany; i++) {
      price = Math.max(1, Math.round((price + Math.sin(i * 1.7 + index) * 0.8) * 100) / 100);
      trades.push({
        company,
        eventType: (i * 7 + index) % 3 === 0 ? 'sell' : 'buy',
        price,
        id: `${prefix}${index}-${i}`,
        ts: start + i * spacingMs,
        quantity: 1 + ((i * 13) % 40),
      });
    }
    all.set(company, trades);
  }
  return all;
}

/** Ground truth, straight from the definition: candles keyed `<company>:<1s|1m>:<start>`. */
export function truthCandles(trades: Iterable<PublishedTrade>): Map<string, TruthCandle> {
  const groups = new Map<string, PublishedTrade[]>();
  for (const trade of trades) {
    for (const [interval, size] of [
      ['1s', 1000],
      ['1m', 60_000],
    ] as const) {
      const key = candleId(trade.company, interval, Math.floor(trade.ts / size) * size);
      const group = groups.get(key) ?? [];
      group.push(trade);
      groups.set(key, group);
    }
  }
  const candles = new Map<string, TruthCandle>();
  for (const [key, group] of groups) {
    group.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
    const prices = group.map((trade) => trade.price);
    candles.set(key, {
      trades: group.length,
      volume: group.reduce((sum, trade) => sum + trade.quantity, 0),
      open: prices[0] as number,
      high: Math.max(...prices),
      low: Math.min(...prices),
      close: prices[prices.length - 1] as number,
      buys: group.filter((trade) => trade.eventType === 'buy').length,
      sells: group.filter((trade) => trade.eventType === 'sell').length,
    });
  }
  return candles;
}

/** Every stored candle, keyed like the truth, with the compared fields only. */
export async function storedCandles(db: Db): Promise<Map<string, TruthCandle>> {
  const docs = await db.collection<CandleDoc>(collectionNames().candles).find({}).toArray();
  const stored = new Map<string, TruthCandle>();
  for (const doc of docs) {
    stored.set(doc._id, {
      trades: doc.trades,
      volume: doc.volume,
      open: doc.open,
      high: doc.high,
      low: doc.low,
      close: doc.close,
      buys: doc.buys,
      sells: doc.sells,
    });
  }
  return stored;
}

/** Differences between stored candles and the truth (empty when equal), at most `limit`. */
export function candleDifferences(
  stored: ReadonlyMap<string, TruthCandle>,
  truth: ReadonlyMap<string, TruthCandle>,
  limit = 10,
): string[] {
  const problems: string[] = [];
  for (const [key, want] of truth) {
    const got = stored.get(key);
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      problems.push(`${key}: stored ${JSON.stringify(got)} expected ${JSON.stringify(want)}`);
    }
  }
  for (const key of stored.keys()) if (!truth.has(key)) problems.push(`${key}: stored but not expected`);
  return problems.slice(0, limit);
}

/** Total of trades over the stored 1 m candles (progress probe). */
export async function storedTradeCount(db: Db): Promise<number> {
  const docs = await db
    .collection<CandleDoc>(collectionNames().candles)
    .find({ interval: '1m' }, { projection: { trades: 1 } })
    .toArray();
  return docs.reduce((sum, doc) => sum + doc.trades, 0);
}
