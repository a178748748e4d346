import { digestHex, idHash, LEDGER_MINUTE_MS, type LedgerMessage, priceCents } from '@stockmarket/common';

/** What the ledger needs of a trade sent. */
export interface LedgerTrade {
  readonly id: string;
  readonly company: string;
  readonly price: number;
  readonly quantity: number;
  /** Event time, epoch ms: the minute the trade belongs to. */
  readonly ts: number;
}

interface MinuteEntry {
  readonly company: string;
  readonly minute: number;
  /** Sent and not confirmed yet (a republished trade stays one pending trade). */
  pending: number;
  trades: number;
  quantity: number;
  notionalCents: number;
  digest: bigint;
}

/**
 * The publisher's ledger (docs/reconciliation.md): per company and minute of event time, the
 * figures of the trades the broker confirmed. A minute is closed, and its ledger message due,
 * once the clock is past its end and every trade of it sent by this run is confirmed. The first
 * minute of a run that started inside it, and every minute still open when the run stops, are
 * marked partial: this run did not see all of it.
 */
export class LedgerBook {
  private readonly minutes = new Map<string, MinuteEntry>();

  constructor(
    /** This publisher run; a new one at every start. */
    private readonly source: string,
    private readonly startedAt: number,
  ) {}

  /** Minutes with trades not ledgered yet. */
  get openMinutes(): number {
    return this.minutes.size;
  }

  sent(trade: LedgerTrade): void {
    this.entry(trade).pending++;
  }

  /** Called once per trade, when the broker confirms it (a republished trade is confirmed once). */
  confirmed(trade: LedgerTrade): void {
    const entry = this.entry(trade);
    entry.pending--;
    entry.trades++;
    entry.quantity += trade.quantity;
    entry.notionalCents += priceCents(trade.price) * trade.quantity;
    entry.digest += idHash(trade.id);
  }

  /** The ledger messages of the minutes closed by `now`, each given once. */
  closeDue(now: number): LedgerMessage[] {
    const due: LedgerMessage[] = [];
    for (const [key, entry] of this.minutes) {
      if (now < entry.minute + LEDGER_MINUTE_MS || entry.pending > 0) continue;
      this.minutes.delete(key);
      due.push(this.message(entry, now, false));
    }
    return due;
  }

  /** On stop: every minute still open, as a partial ledger (only what was confirmed is counted). */
  closeAll(now: number): LedgerMessage[] {
    const rest = [...this.minutes.values()].map((entry) =>
      this.message(entry, now, entry.pending > 0 || now < entry.minute + LEDGER_MINUTE_MS),
    );
    this.minutes.clear();
    return rest;
  }

  private message(entry: MinuteEntry, now: number, cutShort: boolean): LedgerMessage {
    return {
      company: entry.company,
      minute: entry.minute,
      source: this.source,
      partial: cutShort || this.startedAt > entry.minute,
      closedAt: now,
      trades: entry.trades,
      quantity: entry.quantity,
      notionalCents: entry.notionalCents,
      digest: digestHex(entry.digest),
    };
  }

  private entry(trade: LedgerTrade): MinuteEntry {
    const minute = Math.floor(trade.ts / LEDGER_MINUTE_MS) * LEDGER_MINUTE_MS;
    const key = `${trade.company}:${minute}`;
    let entry = this.minutes.get(key);
    if (!entry) {
      entry = { company: trade.company, minute, pending: 0, trades: 0, quantity: 0, notionalCents: 0, digest: 0n };
      this.minutes.set(key, entry);
    }
    return entry;
  }
}
