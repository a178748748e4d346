import type { CandleInterval, CandleView, Logger, StockView } from '@stockmarket/common';
import type { Collection, Db, Document } from 'mongodb';
import { FeedState } from './feed-state.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** How far back a poll looks for candles that changed (covers a full batch interval and more). */
const LOOKBACK_SECONDS = 30;

export interface FeedChange {
  stocks: StockView[];
  candles: CandleView[];
}

/**
 * Follows MongoDB by polling, the portable way (FerretDB has no change streams): each tick reads
 * the small `stocks` collection and, for each company whose stock moved, the candles its new
 * trades can have touched, by their `_id` (company:interval:start), which every server looks up
 * by primary key. What changed is pushed once per tick, coalesced.
 */
export class Feed {
  readonly state: FeedState;
  private readonly stocks: Collection;
  private readonly candles: Collection;
  private timer: NodeJS.Timeout | undefined;
  private lastSuccess = 0;
  private lastError: string | undefined;
  private running = false;
  private polling: Promise<void> = Promise.resolve();

  constructor(
    db: Db,
    stocksCollection: string,
    private readonly companies: readonly string[],
    private readonly options: { pollIntervalMs: number; historyLimit: number; staleAfterMs: number },
    private readonly logger: Logger,
    private readonly onChange: (change: FeedChange) => void,
    private readonly onFreshness: (fresh: boolean) => void = () => {},
  ) {
    this.state = new FeedState(options.historyLimit);
    this.stocks = db.collection(stocksCollection);
    this.candles = db.collection('candles');
  }

  /** Whether the last successful read is recent enough to call the data live. */
  get fresh(): boolean {
    return Date.now() - this.lastSuccess <= this.options.staleAfterMs;
  }

  get lastReadAt(): number {
    return this.lastSuccess;
  }

  /** Loads the history once, then polls. Resolves after the first load (or its failure). */
  async start(): Promise<void> {
    this.running = true;
    try {
      await this.loadHistory();
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'initial load failed; will keep polling');
    }
    this.schedule();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.polling = this.poll().finally(() => this.schedule());
    }, this.options.pollIntervalMs);
  }

  private async loadHistory(): Promise<void> {
    const wasFresh = this.fresh;
    const stocks = await this.readStocks();
    const candles: CandleView[] = [];
    for (const company of this.companies) {
      for (const interval of ['1s', '1m'] as const) {
        const docs = await this.candles
          .find({ company, interval }, { projection: { s: 0 } })
          .sort({ start: -1 })
          .limit(this.options.historyLimit)
          .toArray();
        for (const doc of docs) {
          const view = toCandleView(doc);
          if (view) candles.push(view);
        }
      }
    }
    this.state.applyStocks(stocks);
    this.state.applyCandles(candles);
    this.markSuccess(wasFresh);
  }

  private async poll(): Promise<void> {
    const wasFresh = this.fresh;
    try {
      const stocks = await this.readStocks();
      const candleIds: string[] = [];
      for (const stock of stocks) {
        const previous = this.state.stock(stock.company);
        if (stock.lastTradeAt === undefined || previous?.lastTradeAt === stock.lastTradeAt) continue;
        candleIds.push(...this.candleIdsToRead(stock.company, stock.lastTradeAt, previous?.lastTradeAt));
      }
      const candles: CandleView[] = [];
      for (const id of candleIds) {
        const doc = await this.candles.findOne({ _id: id as never }, { projection: { s: 0 } });
        const view = doc ? toCandleView(doc) : undefined;
        if (view) candles.push(view);
      }
      const change = { candles: this.state.applyCandles(candles), stocks: this.state.applyStocks(stocks) };
      this.markSuccess(wasFresh);
      if (change.stocks.length > 0 || change.candles.length > 0) this.onChange(change);
    } catch (error) {
      const message = (error as Error).message;
      if (message !== this.lastError) this.logger.warn({ err: message }, 'feed read failed');
      this.lastError = message;
      if (wasFresh && !this.fresh) this.onFreshness(false);
      else if (!this.fresh) this.onFreshness(false);
    }
  }

  /** The candles that trades up to `newest` can have changed since `previous`. */
  private candleIdsToRead(company: string, newest: number, previous: number | undefined): string[] {
    const newestSecond = Math.floor(newest / SECOND) * SECOND;
    const known = this.state.newestCandleStart(company, '1s');
    let from = Math.min(previous ?? newestSecond, known ?? newestSecond);
    from = Math.max(Math.floor(from / SECOND) * SECOND, newestSecond - LOOKBACK_SECONDS * SECOND);
    const ids: string[] = [];
    for (let start = from; start <= newestSecond; start += SECOND) ids.push(candleKey(company, '1s', start));
    const firstMinute = Math.floor(from / MINUTE) * MINUTE;
    for (let start = firstMinute; start <= newestSecond; start += MINUTE) ids.push(candleKey(company, '1m', start));
    return ids;
  }

  private async readStocks(): Promise<StockView[]> {
    const docs = await this.stocks.find({}, { projection: { _id: 0 } }).toArray();
    return docs.flatMap((doc) => {
      const view = toStockView(doc);
      return view ? [view] : [];
    });
  }

  private markSuccess(wasFresh: boolean): void {
    this.lastSuccess = Date.now();
    if (this.lastError) this.logger.info('feed reads succeed again');
    this.lastError = undefined;
    if (!wasFresh) this.onFreshness(true);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.polling;
  }
}

const candleKey = (company: string, interval: CandleInterval, start: number) => `${company}:${interval}:${start}`;

const num = (value: unknown): number | undefined => {
  const n = typeof value === 'number' ? value : typeof value === 'object' && value !== null ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
};
const time = (value: unknown): number | undefined => (value instanceof Date ? value.getTime() : num(value));

/** A `stocks` document as the page needs it; documents with only company and avgPrice qualify. */
export function toStockView(doc: Document): StockView | undefined {
  const avgPrice = num(doc.avgPrice);
  if (typeof doc.company !== 'string' || avgPrice === undefined) return undefined;
  const view: StockView = { company: doc.company, avgPrice };
  const optional = {
    lastPrice: num(doc.lastPrice),
    vwap: num(doc.vwap),
    batchSize: num(doc.batchSize),
    lastTradeAt: time(doc.lastTradeAt),
    updatedAt: time(doc.updatedAt),
  };
  for (const [key, value] of Object.entries(optional))
    if (value !== undefined) (view as unknown as Record<string, number>)[key] = value;
  return view;
}

/** A candle document as the page needs it; undefined while its figures are not yet derived. */
export function toCandleView(doc: Document): CandleView | undefined {
  if (num(doc.trades) === undefined || num(doc.open) === undefined) return undefined;
  return {
    company: String(doc.company),
    interval: doc.interval === '1m' ? '1m' : '1s',
    start: num(doc.start) ?? 0,
    open: num(doc.open) ?? 0,
    high: num(doc.high) ?? 0,
    low: num(doc.low) ?? 0,
    close: num(doc.close) ?? 0,
    vwap: num(doc.vwap) ?? 0,
    volume: num(doc.volume) ?? 0,
    trades: num(doc.trades) ?? 0,
    buys: num(doc.buys) ?? 0,
    sells: num(doc.sells) ?? 0,
    lastTradeAt: num(doc.lastTradeAt) ?? 0,
  };
}
