import type { CandleInterval, CandleView, StockView } from '@stockmarket/common';

export const INTERVALS: readonly CandleInterval[] = ['1s', '1m'];

/** Identity of a candle's content: when it is unchanged, nothing is pushed. */
const candleVersion = (candle: CandleView) => `${candle.trades}|${candle.volume}|${candle.close}|${candle.lastTradeAt}`;
const stockVersion = (stock: StockView) =>
  `${stock.avgPrice}|${stock.lastPrice}|${stock.lastTradeAt}|${stock.updatedAt}|${stock.batchSize}`;

/**
 * What one liveview replica knows: the current stocks and the recent candles per company and
 * interval. Every read of the database goes through `applyStocks`/`applyCandles`, which return
 * exactly the entries that changed; a new client gets `snapshot()` and then every later change.
 * Since both happen on the one event loop, nothing falls between snapshot and follow, and
 * nothing arrives twice.
 */
export class FeedState {
  private readonly stocks = new Map<string, { view: StockView; version: string }>();
  private readonly candles = new Map<string, Map<number, { view: CandleView; version: string }>>();

  private changes = 0;

  constructor(private readonly historyLimit: number) {}

  /** Grows with every change applied: equal versions, equal state (for the encoded snapshot). */
  get version(): number {
    return this.changes;
  }

  applyStocks(views: readonly StockView[]): StockView[] {
    const changed: StockView[] = [];
    for (const view of views) {
      const version = stockVersion(view);
      if (this.stocks.get(view.company)?.version === version) continue;
      this.stocks.set(view.company, { view, version });
      changed.push(view);
    }
    if (changed.length > 0) this.changes++;
    return changed;
  }

  applyCandles(views: readonly CandleView[]): CandleView[] {
    const changed: CandleView[] = [];
    for (const view of views) {
      const key = `${view.company}:${view.interval}`;
      let series = this.candles.get(key);
      if (!series) {
        series = new Map();
        this.candles.set(key, series);
      }
      const version = candleVersion(view);
      if (series.get(view.start)?.version === version) continue;
      const oldest = series.size > 0 ? Math.min(...series.keys()) : undefined;
      // Older than everything kept while the history is full: not news to anyone.
      if (series.size >= this.historyLimit && oldest !== undefined && view.start < oldest) continue;
      series.set(view.start, { view, version });
      while (series.size > this.historyLimit) series.delete(Math.min(...series.keys()));
      changed.push(view);
    }
    if (changed.length > 0) this.changes++;
    return changed;
  }

  stock(company: string): StockView | undefined {
    return this.stocks.get(company)?.view;
  }

  allStocks(): StockView[] {
    return [...this.stocks.values()].map((entry) => entry.view).sort((a, b) => a.company.localeCompare(b.company));
  }

  /** The newest `limit` candles of one series, oldest first. */
  recentCandles(company: string, interval: CandleInterval, limit: number): CandleView[] {
    const series = this.candles.get(`${company}:${interval}`);
    if (!series || limit <= 0) return [];
    return [...series.values()]
      .map((entry) => entry.view)
      .sort((a, b) => a.start - b.start)
      .slice(-limit);
  }

  newestCandleStart(company: string, interval: CandleInterval): number | undefined {
    const series = this.candles.get(`${company}:${interval}`);
    return series && series.size > 0 ? Math.max(...series.keys()) : undefined;
  }

  snapshot(companies: readonly string[], candlesPerSeries: number): { stocks: StockView[]; candles: CandleView[] } {
    const candles: CandleView[] = [];
    for (const company of companies) {
      for (const interval of INTERVALS) candles.push(...this.recentCandles(company, interval, candlesPerSeries));
    }
    return { stocks: this.allStocks(), candles };
  }
}
