import {
  addFigures,
  type BookedFigures,
  CANDLE_INTERVAL_MS,
  type CandleFields,
  figuresOf,
  type SecondEntry,
  type StoredTrade,
} from '@stockmarket/common';

/** A trade as the consumer keeps it (and stores it in its bucket): every field known. */
export type TradeRecord = StoredTrade;

export interface BatchSummary {
  readonly count: number;
  /** Mean price of the batch: the contract's `avgPrice`. */
  readonly avgPrice: number;
  readonly vwap: number;
  readonly volume: number;
  readonly lastPrice: number;
  readonly firstTradeAt: number;
  readonly lastTradeAt: number;
  readonly firstId: string;
  readonly lastId: string;
}

/** Trades in event-time order, ties broken by id, so every replica orders them the same way. */
function byTime(a: TradeRecord, b: TradeRecord): number {
  return a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function summarizeBatch(trades: readonly TradeRecord[]): BatchSummary {
  if (trades.length === 0) throw new Error('empty batch');
  const ordered = [...trades].sort(byTime);
  let sum = 0;
  let volume = 0;
  let notional = 0;
  for (const trade of ordered) {
    sum += trade.price;
    volume += trade.quantity;
    notional += trade.price * trade.quantity;
  }
  const first = ordered[0] as TradeRecord;
  const last = ordered[ordered.length - 1] as TradeRecord;
  return {
    count: ordered.length,
    avgPrice: sum / ordered.length,
    vwap: notional / volume,
    volume,
    lastPrice: last.price,
    firstTradeAt: first.ts,
    lastTradeAt: last.ts,
    firstId: first.id,
    lastId: last.id,
  };
}

export const SECOND = CANDLE_INTERVAL_MS['1s'];
export const MINUTE = CANDLE_INTERVAL_MS['1m'];

export function windowStart(ts: number, size: number): number {
  return Math.floor(ts / size) * size;
}

/** Groups items by the window their time falls in. */
export function groupByWindow<T>(items: readonly T[], time: (item: T) => number, size: number): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const start = windowStart(time(item), size);
    const group = groups.get(start);
    if (group) group.push(item);
    else groups.set(start, [item]);
  }
  return groups;
}

/** OHLC, VWAP, volume and buy/sell counts of a set of trades (open/close by event time). */
export function candleFromTrades(trades: readonly TradeRecord[]): CandleFields {
  if (trades.length === 0) throw new Error('empty candle');
  const ordered = [...trades].sort(byTime);
  const first = ordered[0] as TradeRecord;
  const last = ordered[ordered.length - 1] as TradeRecord;
  let high = -Infinity;
  let low = Infinity;
  let volume = 0;
  let notional = 0;
  let buys = 0;
  for (const trade of ordered) {
    high = Math.max(high, trade.price);
    low = Math.min(low, trade.price);
    volume += trade.quantity;
    notional += trade.price * trade.quantity;
    if (trade.side === 'buy') buys++;
  }
  return {
    open: first.price,
    high,
    low,
    close: last.price,
    vwap: notional / volume,
    volume,
    trades: ordered.length,
    buys,
    sells: ordered.length - buys,
    lastTradeAt: last.ts,
  };
}

/**
 * A second's entry in its minute: the candle's figures, and the reconciliation figures of the
 * trades (`nc`, `d`), derived from the whole bucket like the candle, so a replay gives the same.
 */
export function secondEntry(candle: CandleFields, trades?: readonly TradeRecord[]): SecondEntry {
  const booked = trades ? figuresOf(trades) : undefined;
  return {
    ...(booked ? { nc: booked.notionalCents, d: booked.digest } : {}),
    o: candle.open,
    h: candle.high,
    l: candle.low,
    c: candle.close,
    v: candle.volume,
    pv: candle.vwap * candle.volume,
    n: candle.trades,
    b: candle.buys,
    t: candle.lastTradeAt,
  };
}

/** A minute candle from its seconds (keyed by second start), in time order. */
export function candleFromSeconds(seconds: ReadonlyMap<number, SecondEntry>): CandleFields {
  const starts = [...seconds.keys()].sort((a, b) => a - b);
  if (starts.length === 0) throw new Error('empty minute');
  const first = seconds.get(starts[0] as number) as SecondEntry;
  const last = seconds.get(starts[starts.length - 1] as number) as SecondEntry;
  let high = -Infinity;
  let low = Infinity;
  let volume = 0;
  let notional = 0;
  let trades = 0;
  let buys = 0;
  for (const start of starts) {
    const entry = seconds.get(start) as SecondEntry;
    high = Math.max(high, entry.h);
    low = Math.min(low, entry.l);
    volume += entry.v;
    notional += entry.pv;
    trades += entry.n;
    buys += entry.b;
  }
  return {
    open: first.o,
    high,
    low,
    close: last.c,
    vwap: notional / volume,
    volume,
    trades,
    buys,
    sells: trades - buys,
    lastTradeAt: last.t,
  };
}

/**
 * The booked figures of a minute, summed over its seconds; undefined when a second lacks them
 * (written before reconciliation existed): such a minute cannot be reconciled exactly.
 */
export function bookedFromSeconds(seconds: ReadonlyMap<number, SecondEntry>): BookedFigures | undefined {
  const parts: BookedFigures[] = [];
  for (const entry of seconds.values()) {
    if (entry.nc === undefined || entry.d === undefined) return undefined;
    parts.push({ trades: entry.n, quantity: entry.v, notionalCents: entry.nc, digest: entry.d });
  }
  return addFigures(parts);
}
