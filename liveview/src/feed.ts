import { EventEmitter } from 'node:events';
import {
  type CandleDoc,
  type CandleView,
  collectionNames,
  type Logger,
  type SessionStats,
  type StockDoc,
  type StockView,
} from '@stockmarket/common';
import type { Collection, Db } from 'mongodb';
import { toCandleView, toStockView } from './feed-documents.js';
import { candleIdsToRead, LOOKBACK_MS } from './feed-read-plan.js';
import { FeedState, INTERVALS } from './feed-state.js';
import { readSessionCandles } from './session-source.js';
import { SessionBook, sessionStartOf } from './session-stats.js';

/** After a write notice: long enough to read the notices of the other companies' writes in the same read. */
const NUDGE_DELAY_MS = 5;

export interface FeedChange {
  stocks: StockView[];
  candles: CandleView[];
  /** Session figures of the companies whose session changed (absent: none). */
  sessions?: SessionStats[];
}

export interface FeedOptions {
  readonly pollIntervalMs: number;
  readonly historyLimit: number;
  readonly staleAfterMs: number;
}

export interface FeedEvents {
  /** What changed in one tick, coalesced; never empty. */
  change: [FeedChange];
  /** The data turned stale (reads fail or hang) or fresh again. */
  freshness: [boolean];
}

/**
 * Follows MongoDB by polling, the portable way (FerretDB has no change streams): each tick reads
 * the small `stocks` collection and, for each company whose stock moved, the candles its new
 * trades can have touched, by their `_id` (company:interval:start), which every server looks up
 * by primary key. What changed is pushed once per tick, coalesced.
 *
 * The history (the only reads by a secondary key) is loaded at start and again after an outage
 * longer than the look-back, so a gap in the database connection leaves no gap in the chart.
 * The feed also keeps the trading sessions (`SessionBook`), fed from the session's 1 m candles
 * at start and from every change after, and sends their changes with the change.
 */
export class Feed extends EventEmitter<FeedEvents> {
  readonly state: FeedState;
  readonly sessions = new SessionBook();
  private readonly stocks: Collection<StockDoc>;
  private readonly candles: Collection<CandleDoc>;
  private timer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lastSuccess = 0;
  private lastError: string | undefined;
  private historyLoaded = false;
  private reportedFresh = false;
  private running = false;
  private polling: Promise<void> = Promise.resolve();
  private inPoll = false;
  /** A write notice came during a poll: read again as soon as it ends. */
  private nudged = false;
  /** Reads by outcome, for /metrics. */
  readonly reads = { ok: 0, failed: 0 };

  constructor(
    private readonly db: Db,
    stocksCollection: string,
    private readonly companies: readonly string[],
    private readonly options: FeedOptions,
    private readonly logger: Logger,
  ) {
    super();
    this.state = new FeedState(options.historyLimit);
    const names = collectionNames(stocksCollection);
    this.stocks = db.collection<StockDoc>(names.stocks);
    this.candles = db.collection<CandleDoc>(names.candles);
  }

  /** Whether the last successful read is recent enough to call the data live. */
  get fresh(): boolean {
    return this.lastSuccess > 0 && Date.now() - this.lastSuccess <= this.options.staleAfterMs;
  }

  get lastReadAt(): number {
    return this.lastSuccess;
  }

  /** The newest trade time any stock carries (0 before the first). */
  get newestTradeAt(): number {
    return Math.max(0, ...this.state.allStocks().map((stock) => stock.lastTradeAt ?? 0));
  }

  /**
   * Loads the session and the history once, then polls. Resolves after the first load (or its
   * failure).
   */
  async start(): Promise<void> {
    // The session's minutes before the feed's own history, so newer figures win.
    try {
      this.sessions.apply(await readSessionCandles(this.db, this.companies, sessionStartOf(Date.now())));
    } catch (error) {
      this.logger.warn(
        { err: (error as Error).message },
        'session read failed; the session starts with the held history',
      );
    }
    this.running = true;
    try {
      await this.loadHistory();
      this.markSuccess();
    } catch (error) {
      this.markFailure(error, 'initial load failed; will keep polling');
    }
    this.sessions.apply(
      this.companies.flatMap((company) => this.state.recentCandles(company, '1m', this.options.historyLimit)),
    );
    // A read that hangs (a frozen server) must still turn the page stale: checked apart from polls.
    this.watchdog = setInterval(() => this.reportFreshness(), Math.min(500, this.options.staleAfterMs / 2));
    this.watchdog.unref();
    this.schedule();
  }

  private schedule(delayMs = this.options.pollIntervalMs): void {
    if (!this.running) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.inPoll = true;
      this.nudged = false;
      this.polling = this.poll().finally(() => {
        this.inPoll = false;
        this.schedule(this.nudged ? NUDGE_DELAY_MS : this.options.pollIntervalMs);
      });
    }, delayMs);
  }

  /**
   * A write was committed (a write notice): read now instead of at the next poll. Notices that
   * come during a read make one more read after it, so a burst costs at most two reads.
   */
  nudge(): void {
    // Before the first schedule the initial load is still running: it reads everything anyway.
    if (!this.running || this.timer === undefined) return;
    if (this.inPoll) {
      this.nudged = true;
      return;
    }
    this.schedule(NUDGE_DELAY_MS);
  }

  /** Reads the stocks and the newest candles of every series; returns what changed. */
  private async loadHistory(): Promise<FeedChange> {
    const stocks = await this.readStocks();
    const reads = this.companies.flatMap((company) =>
      INTERVALS.map((interval) =>
        this.candles
          .find({ company, interval }, { projection: { s: 0 } })
          .sort({ start: -1 })
          .limit(this.options.historyLimit)
          .toArray(),
      ),
    );
    const candles = (await Promise.all(reads)).flat().flatMap((doc) => toCandleView(doc) ?? []);
    this.historyLoaded = true;
    return { candles: this.state.applyCandles(candles), stocks: this.state.applyStocks(stocks) };
  }

  private async poll(): Promise<void> {
    try {
      const outage = this.lastSuccess > 0 && Date.now() - this.lastSuccess > LOOKBACK_MS;
      const change = !this.historyLoaded || outage ? await this.loadHistory() : await this.readChanges();
      this.markSuccess();
      if (change.stocks.length === 0 && change.candles.length === 0) return;
      const sessions = this.sessions.apply(change.candles);
      if (sessions.length > 0) change.sessions = this.sessions.all(sessions);
      this.emit('change', change);
    } catch (error) {
      this.markFailure(error, 'feed read failed');
    }
  }

  private async readChanges(): Promise<FeedChange> {
    const stocks = await this.readStocks();
    const ids: string[] = [];
    for (const stock of stocks) {
      if (!this.companies.includes(stock.company) || stock.lastTradeAt === undefined) continue;
      const previous = this.state.stock(stock.company)?.lastTradeAt;
      if (previous === stock.lastTradeAt) continue;
      ids.push(
        ...candleIdsToRead(
          stock.company,
          stock.lastTradeAt,
          previous,
          this.state.newestCandleStart(stock.company, '1s'),
        ),
      );
    }
    // Primary-key lookups only: the one filter shape FerretDB pushes down to its storage.
    const docs = await Promise.all(ids.map((id) => this.candles.findOne({ _id: id }, { projection: { s: 0 } })));
    const candles = docs.flatMap((doc) => (doc ? (toCandleView(doc) ?? []) : []));
    // Candles first: a client that sees the new price also has the candle it belongs to.
    return { candles: this.state.applyCandles(candles), stocks: this.state.applyStocks(stocks) };
  }

  private async readStocks(): Promise<StockView[]> {
    const docs = await this.stocks.find({}, { projection: { _id: 0 } }).toArray();
    return docs.flatMap((doc) => toStockView(doc) ?? []);
  }

  private markSuccess(): void {
    this.reads.ok++;
    this.lastSuccess = Date.now();
    if (this.lastError) this.logger.info('feed reads succeed again');
    this.lastError = undefined;
    this.reportFreshness();
  }

  private markFailure(error: unknown, what: string): void {
    this.reads.failed++;
    const message = (error as Error).message;
    // Logged once per distinct error, not once per tick.
    if (message !== this.lastError) this.logger.warn({ err: message }, what);
    this.lastError = message;
    this.reportFreshness();
  }

  private reportFreshness(): void {
    const fresh = this.fresh;
    if (fresh === this.reportedFresh) return;
    this.reportedFresh = fresh;
    if (!fresh) this.logger.warn({ lastReadAt: this.lastSuccess }, 'data is stale');
    this.emit('freshness', fresh);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    clearInterval(this.watchdog);
    await this.polling;
  }
}
