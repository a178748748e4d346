import type {
  ReconciledMinute,
  ReconciliationStatus,
  ReconciliationView,
  SystemEvent,
} from '../../shared/system-message.js';
import { isFinal } from './verdict.js';

const STATUSES: readonly ReconciliationStatus[] = ['matched', 'pending', 'break', 'partial', 'no-ledger'];

const clock = (minute: number) => new Date(minute).toISOString().slice(11, 16);

/**
 * The reconciliation since this replica started: the latest status of every company-minute it
 * compared, the breaks and recoveries as events, and per company the newest minute with a final
 * status. Minutes older than `keepMs` are forgotten but stay counted by their last status.
 */
export class ReconciliationBook {
  private readonly minutes = new Map<string, ReconciledMinute>();
  private readonly forgotten: Record<ReconciliationStatus, number> = {
    matched: 0,
    pending: 0,
    break: 0,
    partial: 0,
    'no-ledger': 0,
  };
  private readonly lastReconciled = new Map<string, number>();
  private lastBreak: ReconciledMinute | undefined;
  private breaksFound = 0;
  private at = 0;

  constructor(private readonly keepMs = 24 * 60 * 60_000) {}

  /** Takes a round's verdicts; returns the events: every new break, every recovery. */
  observe(verdicts: readonly ReconciledMinute[], at: number): SystemEvent[] {
    this.at = at;
    const events: SystemEvent[] = [];
    for (const verdict of verdicts) {
      const key = `${verdict.company}:${verdict.minute}`;
      const previous = this.minutes.get(key);
      this.minutes.set(key, verdict);
      if (verdict.status === 'break') {
        this.lastBreak = verdict;
        // Once per break: while the figures move (late trades arriving), the log is not flooded.
        if (previous?.status !== 'break') {
          this.breaksFound++;
          events.push({
            at,
            kind: 'reconciliation-break',
            text: `${verdict.company} ${clock(verdict.minute)} break: ${verdict.text} (ledger ${verdict.ledger?.trades ?? 0}, booked ${verdict.booked?.trades ?? 0})`,
          });
        }
      } else if (previous?.status === 'break') {
        events.push({
          at,
          kind: 'reconciliation-recovered',
          text: `${verdict.company} ${clock(verdict.minute)} ${verdict.status} again (${verdict.text})`,
        });
      }
      if (isFinal(verdict) && verdict.minute > (this.lastReconciled.get(verdict.company) ?? 0)) {
        this.lastReconciled.set(verdict.company, verdict.minute);
      }
    }
    for (const [key, minute] of this.minutes) {
      if (minute.minute >= at - this.keepMs) continue;
      this.forgotten[minute.status]++;
      this.minutes.delete(key);
    }
    return events;
  }

  /** Minutes in break now, with how many trades were lost and counted twice over them. */
  breaks(): { minutes: number; lost: number; extra: number } {
    let minutes = 0;
    let lost = 0;
    let extra = 0;
    for (const minute of this.minutes.values()) {
      if (minute.status !== 'break') continue;
      minutes++;
      lost += minute.lost;
      extra += minute.extra;
    }
    return { minutes, lost, extra };
  }

  view(companies: readonly string[], graceMs: number): ReconciliationView {
    const counts = { ...this.forgotten };
    for (const minute of this.minutes.values()) counts[minute.status]++;
    return {
      counts,
      breaksFound: this.breaksFound,
      breaksNow: this.breaks().minutes,
      ...(this.lastBreak ? { lastBreak: this.lastBreak } : {}),
      lastReconciled: Object.fromEntries(companies.map((company) => [company, this.lastReconciled.get(company) ?? 0])),
      graceMs,
      at: this.at,
    };
  }

  static readonly statuses = STATUSES;
}
