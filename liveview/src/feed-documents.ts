// Stored documents as the page needs them: pure conversions, tolerant of every numeric BSON type.
import type { CandleView, StockView } from '@stockmarket/common';
import type { Document } from 'mongodb';

const num = (value: unknown): number | undefined => {
  // Double, Int32, Long and Decimal128 from the driver are objects that convert with Number().
  const n = typeof value === 'number' ? value : typeof value === 'object' && value !== null ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
};
const time = (value: unknown): number | undefined => (value instanceof Date ? value.getTime() : num(value));

/** A `stocks` document as the page needs it; documents with only company and avgPrice qualify. */
export function toStockView(doc: Document): StockView | undefined {
  const avgPrice = num(doc.avgPrice);
  if (typeof doc.company !== 'string' || doc.company.length === 0 || avgPrice === undefined) return undefined;
  const view: StockView = { company: doc.company, avgPrice };
  const lastPrice = num(doc.lastPrice);
  const vwap = num(doc.vwap);
  const batchSize = num(doc.batchSize);
  const lastTradeAt = time(doc.lastTradeAt);
  const updatedAt = time(doc.updatedAt);
  if (lastPrice !== undefined) view.lastPrice = lastPrice;
  if (vwap !== undefined) view.vwap = vwap;
  if (batchSize !== undefined) view.batchSize = batchSize;
  if (lastTradeAt !== undefined) view.lastTradeAt = lastTradeAt;
  if (updatedAt !== undefined) view.updatedAt = updatedAt;
  return view;
}

/** A candle document as the page needs it; undefined while its figures are not yet derived. */
export function toCandleView(doc: Document): CandleView | undefined {
  const start = num(doc.start);
  if (typeof doc.company !== 'string' || start === undefined) return undefined;
  if (doc.interval !== '1s' && doc.interval !== '1m') return undefined;
  const open = num(doc.open);
  const high = num(doc.high);
  const low = num(doc.low);
  const close = num(doc.close);
  const trades = num(doc.trades);
  // A 1 m document between its two writes holds only the per-second map: not a candle yet.
  if (open === undefined || high === undefined || low === undefined || close === undefined || trades === undefined) {
    return undefined;
  }
  return {
    company: doc.company,
    interval: doc.interval,
    start,
    open,
    high,
    low,
    close,
    vwap: num(doc.vwap) ?? close,
    volume: num(doc.volume) ?? 0,
    trades,
    buys: num(doc.buys) ?? 0,
    sells: num(doc.sells) ?? 0,
    lastTradeAt: time(doc.lastTradeAt) ?? start,
  };
}
