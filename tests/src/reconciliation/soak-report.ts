// The soak's pure parts (soak.integration.test.ts): which minutes must match, what fails the
// span, and the summary it prints.
import type { DrillResult, ReconciledMinute, Verdict } from '@stockmarket/drill';

const MINUTE_MS = 60_000;

/** The first minute the publisher ran whole: the one after the minute it started in (that one is partial). */
export function firstWholeMinute(publisherStartedAt: number): number {
  return (Math.floor(publisherStartedAt / MINUTE_MS) + 1) * MINUTE_MS;
}

/** How many company-minutes the span from `from` to `to` (minute starts, inclusive) holds. */
export function companyMinutes(companies: readonly string[], from: number, to: number): number {
  return companies.length * (Math.floor((to - from) / MINUTE_MS) + 1);
}

const hhmm = (at: number) => new Date(at).toISOString().slice(11, 16);
const hhmmss = (at: number) => new Date(at).toISOString().slice(11, 19);
const seconds = (ms: number | undefined) => (ms === undefined ? 'not seen' : `${(ms / 1000).toFixed(1)} s`);

/**
 * Every company-minute from `from` to `to` that is not matched: missing (nothing to compare:
 * neither ledger nor stored trades), or any other status, with the reconciler's text.
 */
export function unmatched(
  minutes: readonly ReconciledMinute[],
  companies: readonly string[],
  from: number,
  to: number,
): string[] {
  const problems: string[] = [];
  for (const company of companies) {
    for (let minute = from; minute <= to; minute += MINUTE_MS) {
      const found = minutes.find((item) => item.company === company && item.minute === minute);
      if (!found) problems.push(`${company} ${hhmm(minute)}: missing`);
      else if (found.status !== 'matched') {
        problems.push(`${company} ${hhmm(minute)}: ${found.status} (${String(found.text ?? '')})`);
      }
    }
  }
  return problems;
}

const tradesOf = (side: unknown) => (side as { trades?: number } | undefined)?.trades ?? 0;

/** Trades in the publisher's ledger and booked by the consumers over the verdict's minutes. */
export function spanTrades(verdict: Verdict): { ledger: number; booked: number } {
  let ledger = 0;
  let booked = 0;
  for (const minute of verdict.minutes) {
    ledger += tradesOf(minute.ledger);
    booked += tradesOf(minute.booked);
  }
  return { ledger, booked };
}

/** Per scenario: how often it was injected and the longest the page went without a fresh price. */
export function faultsByScenario(
  drills: readonly DrillResult[],
): { scenario: string; count: number; worstMs: number }[] {
  const rows = new Map<string, { scenario: string; count: number; worstMs: number }>();
  for (const drill of drills) {
    const row = rows.get(drill.scenario) ?? { scenario: drill.scenario, count: 0, worstMs: 0 };
    row.count += 1;
    row.worstMs = Math.max(row.worstMs, drill.timeline.worstStalenessMs);
    rows.set(drill.scenario, row);
  }
  return [...rows.values()];
}

export interface SoakSummary {
  readonly minutes: number;
  readonly rate: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly drills: readonly DrillResult[];
  readonly failures: readonly string[];
  readonly verdict: Verdict;
  readonly companies: readonly string[];
  /** The publisher's counters over its whole run (it is never restarted by the soak). */
  readonly published: number;
  readonly confirmed: number;
  /** What the browser read off the System view's reconciliation row. */
  readonly page?: {
    readonly replica: string;
    readonly matched: number;
    /** Breaks found since the replica started, and company-minutes in break now. */
    readonly breaks: number;
    readonly breaksNow: number;
  };
}

/** The summary as lines for a terminal (and docs/reconciliation.md's "Soak" section). */
export function formatSoak(summary: SoakSummary): string {
  const { verdict } = summary;
  const expected = companyMinutes(summary.companies, verdict.from, verdict.to);
  const counts = Object.entries(verdict.counts)
    .map(([status, count]) => `${count} ${status}`)
    .join(', ');
  const trades = spanTrades(verdict);
  const number = (value: number) => value.toLocaleString('en-US');
  return [
    `soak: ${summary.minutes} min at ${summary.rate} trades/s, ${hhmmss(summary.startedAt)}–${hhmmss(summary.endedAt)} UTC, ${summary.drills.length} faults injected, ${summary.failures.length} drills failed`,
    'faults (injections; longest the page went without a fresh price):',
    ...faultsByScenario(summary.drills).map(
      (row) => `  ${row.scenario.padEnd(20)} ×${row.count}  longest ${seconds(row.worstMs)}`,
    ),
    ...summary.drills.map(
      (drill) =>
        `  ${hhmmss(drill.faultAt)} ${drill.scenario} on ${drill.target}: detected ${seconds(drill.timeline.detectedMs)}, recovered ${seconds(drill.timeline.recoveredMs)}, longest without a fresh price ${seconds(drill.timeline.worstStalenessMs)}, ${drill.timeline.failedRequests} failed requests`,
    ),
    ...summary.failures.map((failure) => `  FAILED ${failure}`),
    `reconciliation ${hhmm(verdict.from)}–${hhmm(verdict.to)} UTC: ${expected} company-minutes expected (${summary.companies.length} companies), ${counts || 'none'}`,
    `trades: ${number(summary.published)} published, ${number(summary.confirmed)} confirmed over the publisher's run; over the span ${number(trades.ledger)} in the ledger, ${number(trades.booked)} stored`,
    summary.page
      ? `page (${summary.page.replica}): System view reconciliation row matched ${summary.page.matched}, breaks ${summary.page.breaks} (${summary.page.breaksNow} now)`
      : 'page: not read',
  ].join('\n');
}
