// What the page knows of the market (stocks, sessions, candles from the snapshot, the updates and
// the history) and what the user looks at; shared by the tiles, the chart and the tape.
import type { CandleInterval, CandleView, SessionStats, StockView } from '@stockmarket/common';
import { CANDLE_INTERVAL_MS } from '@stockmarket/common/storage';

export const stocks = new Map<string, StockView>();
export const sessions = new Map<string, SessionStats>();
/** Candles by series (company:interval), then by start. */
export const candles = new Map<string, Map<number, CandleView>>();
/** The charted company (none until one is picked or auto-selected) and the chart's interval. */
export const selection: { company: string | undefined; interval: CandleInterval } = {
  company: undefined,
  interval: '1s',
};

export const priceOf = (stock: StockView) => stock.lastPrice ?? stock.avgPrice;
export const seriesKey = (company: string, candleInterval: CandleInterval) => `${company}:${candleInterval}`;

/** The newest `count` candles, oldest first, without sorting the whole series (called per tick). */
export function newestCandles(company: string, candleInterval: CandleInterval, count: number): CandleView[] {
  const series = candles.get(seriesKey(company, candleInterval));
  if (!series) return [];
  const step = CANDLE_INTERVAL_MS[candleInterval];
  let newest = 0;
  for (const start of series.keys()) newest = Math.max(newest, start);
  const from = newest - (count - 1) * step;
  return [...series.values()].filter((candle) => candle.start >= from).sort((a, b) => a.start - b.start);
}

export const sortedSeries = (company: string, candleInterval: CandleInterval) =>
  [...(candles.get(seriesKey(company, candleInterval))?.values() ?? [])].sort((a, b) => a.start - b.start);

export function mergeCandles(list: readonly CandleView[]): void {
  for (const candle of list) {
    const key = seriesKey(candle.company, candle.interval);
    let series = candles.get(key);
    if (!series) {
      series = new Map();
      candles.set(key, series);
    }
    series.set(candle.start, candle);
    if (series.size > 1200) series.delete(Math.min(...series.keys()));
  }
}

/** Keeps the newest view of each stock; returns the newest trade time among them (0 if none). */
export function mergeStocks(list: readonly StockView[]): number {
  for (const stock of list) stocks.set(stock.company, stock);
  return Math.max(0, ...list.map((stock) => stock.lastTradeAt ?? 0));
}

/** Keeps the newest session of each company; says whether the charted company's is among them. */
export function mergeSessions(list: readonly SessionStats[] | undefined): boolean {
  for (const session of list ?? []) sessions.set(session.company, session);
  return list?.some((session) => session.company === selection.company) ?? false;
}
