import {
  type CandleDoc,
  candleId,
  collectionNames,
  LEDGER_COLLECTION,
  LEDGER_MINUTE_MS,
  type LedgerDoc,
  type Logger,
  ledgerFigures,
  ledgerIdRange,
} from '@stockmarket/common';
import type { Db } from 'mongodb';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { ReconciledMinute, ReconciliationView, SystemEvent } from '../../shared/system-message.js';
import { ReconciliationBook } from './book.js';
import { classifyMinute, type MinuteSides } from './verdict.js';

export interface ReconcilerOptions {
  readonly companies: readonly string[];
  readonly intervalMs: number;
  /** How long after its end a minute may still be in flight (pending, not yet a break). */
  readonly graceMs: number;
  /** How many of the newest minutes each round compares. */
  readonly windowMinutes: number;
}

/** What the API needs of the reconciler. */
export type ReconciliationSource = Pick<Reconciler, 'compare' | 'view'> & { readonly graceMs: number };

/** Most minutes one API answer holds (a day of one company). */
export const MAX_QUERY_MINUTES = 1_440;

/**
 * The reconciler: every liveview replica runs one, read-only (docs/reconciliation.md). Each round
 * reads the ledger documents and the 1 m candles' booked figures of the newest minutes by `_id`
 * (cheap everywhere, FerretDB included), classifies each company-minute, and keeps the tally, the
 * metrics and the break/recovery events for the System view.
 */
export class Reconciler {
  private readonly book = new ReconciliationBook();
  private pendingEvents: SystemEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly metrics;

  constructor(
    private readonly db: Db,
    private readonly options: ReconcilerOptions,
    registry: Registry,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    const registers = [registry];
    this.metrics = {
      minutes: new Gauge({
        name: 'liveview_reconciliation_minutes',
        help: 'Company-minutes compared since this replica started, by their latest status',
        labelNames: ['status'],
        registers,
      }),
      breaks: new Gauge({
        name: 'liveview_reconciliation_breaks',
        help: 'Company-minutes in break now (ledger and booked figures differ past the grace period)',
        registers,
      }),
      lost: new Gauge({
        name: 'liveview_reconciliation_lost_trades',
        help: 'Trades confirmed to the publisher and missing from the database, over the minutes in break',
        registers,
      }),
      extra: new Gauge({
        name: 'liveview_reconciliation_extra_trades',
        help: 'Trades booked beyond the ledger (counted twice), over the minutes in break',
        registers,
      }),
      breaksTotal: new Counter({
        name: 'liveview_reconciliation_breaks_total',
        help: 'Breaks found (company-minutes that became a break)',
        registers,
      }),
      lastReconciled: new Gauge({
        name: 'liveview_reconciliation_last_reconciled_minute_timestamp_seconds',
        help: 'Start of the newest minute with a final status (matched, break, partial, no ledger), per company',
        labelNames: ['company'],
        registers,
      }),
      lastRound: new Gauge({
        name: 'liveview_reconciliation_last_round_timestamp_seconds',
        help: 'When the last reconciliation round ended',
        registers,
      }),
      graceSeconds: new Gauge({
        name: 'liveview_reconciliation_grace_seconds',
        help: 'LIVEVIEW_RECONCILE_GRACE_MS, in seconds',
        registers,
      }),
    };
    this.metrics.graceSeconds.set(options.graceMs / 1000);
  }

  get graceMs(): number {
    return this.options.graceMs;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    this.timer.unref();
    this.tick();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The System view's row (undefined before the first round). */
  view(): ReconciliationView | undefined {
    const view = this.book.view(this.options.companies, this.options.graceMs);
    return view.at === 0 ? undefined : view;
  }

  /** The breaks and recoveries since the last call (for the System view's event log). */
  takeEvents(): SystemEvent[] {
    const events = this.pendingEvents;
    this.pendingEvents = [];
    return events;
  }

  private tick(): void {
    if (this.running) return;
    this.running = true;
    this.round()
      .catch((error: Error) => this.logger.warn({ err: error.message }, 'reconciliation round failed'))
      .finally(() => {
        this.running = false;
      });
  }

  /** One round over the newest minutes of every company. */
  async round(): Promise<ReconciledMinute[]> {
    const now = this.now();
    const newest = Math.floor(now / LEDGER_MINUTE_MS) * LEDGER_MINUTE_MS;
    const from = newest - (this.options.windowMinutes - 1) * LEDGER_MINUTE_MS;
    const verdicts: ReconciledMinute[] = [];
    for (const company of this.options.companies) verdicts.push(...(await this.compare(company, from, newest, now)));
    const events = this.book.observe(verdicts, now);
    for (const event of events) {
      this.logger[event.kind === 'reconciliation-break' ? 'warn' : 'info']({ event: event.text }, 'reconciliation');
      if (event.kind === 'reconciliation-break') this.metrics.breaksTotal.inc();
    }
    this.pendingEvents.push(...events);
    const view = this.book.view(this.options.companies, this.options.graceMs);
    for (const [status, count] of Object.entries(view.counts)) this.metrics.minutes.set({ status }, count);
    const breaks = this.book.breaks();
    this.metrics.breaks.set(breaks.minutes);
    this.metrics.lost.set(breaks.lost);
    this.metrics.extra.set(breaks.extra);
    for (const [company, minute] of Object.entries(view.lastReconciled)) {
      if (minute > 0) this.metrics.lastReconciled.set({ company }, minute / 1000);
    }
    this.metrics.lastRound.set(this.now() / 1000);
    return verdicts;
  }

  /**
   * Every company-minute from `from` to `to` (minute starts, inclusive) with a ledger or stored
   * trades, classified at `now`: the API's answer, read from the database, not from the tally.
   */
  async compare(company: string, from: number, to: number, now = this.now()): Promise<ReconciledMinute[]> {
    const minutes: number[] = [];
    for (let minute = from; minute <= to; minute += LEDGER_MINUTE_MS) minutes.push(minute);
    if (minutes.length === 0) return [];
    const [ledgers, candles] = await Promise.all([
      this.db
        .collection<LedgerDoc>(LEDGER_COLLECTION)
        .find({ _id: ledgerIdRange(company, from, to) })
        .toArray(),
      this.db
        .collection<CandleDoc>(collectionNames().candles)
        .find(
          { _id: { $in: minutes.map((minute) => candleId(company, '1m', minute)) } },
          { projection: { start: 1, rc: 1 } },
        )
        .toArray(),
    ]);
    const partsOf = new Map<number, LedgerDoc[]>();
    for (const doc of ledgers) {
      // The range also spans documents of the earlier layout (`_id: "TSLA:<minute>"`, no source): not parts.
      if (typeof doc.source === 'string') partsOf.set(doc.minute, [...(partsOf.get(doc.minute) ?? []), doc]);
    }
    const ledgerOf = new Map([...partsOf].map(([minute, parts]) => [minute, ledgerFigures(parts)]));
    const bookedOf = new Map(candles.map((doc) => [doc.start, doc.rc ?? null]));
    const verdicts: ReconciledMinute[] = [];
    for (const minute of minutes) {
      const ledger = ledgerOf.get(minute);
      const booked = bookedOf.get(minute);
      const sides: MinuteSides = {
        company,
        minute,
        ...(ledger ? { ledger } : {}),
        ...(booked !== undefined ? { booked } : {}),
      };
      const verdict = classifyMinute(sides, now, this.options.graceMs);
      if (verdict) verdicts.push(verdict);
    }
    return verdicts;
  }
}
